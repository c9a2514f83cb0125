// Issue 8, points 6 and 7, on a lab host over SSH (the lab as site.yml leaves it):
// - bytes preserved exactly: random binary files through copy src, random text through copy content, a
//   non-UTF-8 template, lineinfile and blockinfile on a non-UTF-8 file (counts printed);
// - a backup cannot be redirected by symlinks planted at the names main used;
// - rabbitmq.conf (it can hold AWS credentials) is 0640 root:rabbitmq on every node.
import t from 'tap';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labHosts, rmqplay, ssh } from '../helpers.js';

const hosts = labHosts();
const node = hosts[0];
const DIR = '/tmp/rmqplay-e2e12';
const N = 20;
// Not in a template's random bytes: { } \ (its syntax), and NUL, which the load-time check of a template's
// variables (lib/core, lib/language: Handlebars' parser) rejects; the template task itself keeps NULs.
const TEMPLATE_SYNTAX = [0x7b, 0x7d, 0x5c, 0x00];

/** Random bytes without the bytes in `without`. */
function bytesWithout(n: number, without: number[]): Buffer {
  const b = randomBytes(n);
  for (let i = 0; i < n; i++) while (without.includes(b[i])) b[i] = randomBytes(1)[0];
  return b;
}

/** A file's bytes on the lab host. */
function remote(path: string): Buffer {
  const r = ssh(node, `base64 -w0 ${path}`);
  return Buffer.from(r.stdout.trim(), 'base64');
}

t.test('bytes through copy, template, lineinfile and blockinfile over SSH', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'rmqplay-e2e12-'));
  mkdirSync(join(work, 'files'));
  mkdirSync(join(work, 'templates'));
  const bins = Array.from({ length: N }, (_, i) => (i === 0 ? randomBytes(3000) : randomBytes(1 + ((i * 997) % 6000))));
  bins.forEach((b, i) => writeFileSync(join(work, 'files', `bin${i}`), b));
  const text = 'é ü 日本 😀 \u0000 \\ \' " $HOME `x`\n';
  const head = Buffer.concat([bytesWithout(1500, TEMPLATE_SYNTAX), Buffer.from([0xe9, 0x0a])]);
  const tail = bytesWithout(1500, TEMPLATE_SYNTAX);
  writeFileSync(join(work, 'templates', 't.hbs'), Buffer.concat([head, Buffer.from('{{ v }}'), tail]));
  const latinLines = Array.from({ length: 30 }, () => Buffer.concat([bytesWithout(40, [0x0a]), Buffer.from('\n')]));
  latinLines[3][0] = 0xe9;
  const latin = Buffer.concat([...latinLines.slice(0, 10), Buffer.from('key=old\n'), ...latinLines.slice(10)]);
  writeFileSync(join(work, 'files', 'latin'), latin);
  const copies = bins.map((_, i) => `    - copy: { src: bin${i}, dest: ${DIR}/bin${i} }`);
  const playbook = [
    `- hosts: ${node.name}`,
    '  gather_facts: false',
    '  tasks:',
    `    - file: { path: ${DIR}, state: directory }`,
    ...copies,
    `    - copy: { content: ${JSON.stringify(text)}, dest: ${DIR}/text }`,
    `    - template: { src: t.hbs, dest: ${DIR}/t.out }`,
    `    - copy: { src: latin, dest: ${DIR}/latin }`,
    `    - lineinfile: { path: ${DIR}/latin, regexp: "^key=", line: "key=né" }`,
    `    - blockinfile: { path: ${DIR}/latin, block: "p=ü" }`,
  ].join('\n');
  const pb = join(work, 'bytes.yml');
  writeFileSync(pb, playbook + '\n');
  ssh(node, `rm -rf ${DIR}`);
  const r = rmqplay([pb, '-i', 'lab', '-e', 'v=value-7']);
  t.equal(r.status, 0, `the run exits 0 ${r.status ? r.stdout.slice(-1500) + r.stderr : ''}`);
  let same = 0;
  bins.forEach((b, i) => {
    if (remote(`${DIR}/bin${i}`).equals(b)) same++;
  });
  t.equal(same, N, `copy src: ${same}/${N} binary files byte-exact`);
  t.ok(remote(`${DIR}/text`).equals(Buffer.from(text, 'utf8')), 'copy content: its UTF-8 bytes');
  const rendered = Buffer.concat([head, Buffer.from('value-7'), tail]);
  t.ok(remote(`${DIR}/t.out`).equals(rendered), `template: ${rendered.length} non-UTF-8 bytes exact`);
  const block = Buffer.from('# BEGIN ANSIBLE MANAGED BLOCK\np=ü\n# END ANSIBLE MANAGED BLOCK\n', 'utf8');
  const edited = [...latinLines.slice(0, 10), Buffer.from('key=né\n', 'utf8'), ...latinLines.slice(10), block];
  t.ok(remote(`${DIR}/latin`).equals(Buffer.concat(edited)), 'lineinfile and blockinfile: untouched bytes exact');
  const again = rmqplay([pb, '-i', 'lab', '-e', 'v=value-7', '--json']);
  // The copy of the edited file puts its original back, so exactly it and its two edits change again.
  const changedAgain = again.stdout.split('\n').filter((l) => l.includes('"status":"changed"'));
  t.equal(changedAgain.length, 3, 'a second run changes only the re-copied file and its two edits');
  t.comment(`over SSH: ${same}/${N} binary copies, 1 text, 1 template, 1 edited non-UTF-8 file byte-exact`);
});

t.test('a backup is not redirected by planted symlinks', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'rmqplay-e2e12-'));
  const pb = join(work, 'backup.yml');
  const task = `    - copy: { content: "new\\n", dest: ${DIR}/b/app.conf, backup: true }`;
  writeFileSync(pb, [`- hosts: ${node.name}`, '  gather_facts: false', '  tasks:', task].join('\n') + '\n');
  // The names main's backup used (DEST.YYYYmmddHHMMSS~) for the next 3 minutes, each a link to a victim.
  const plant =
    `mkdir -p ${DIR}/b && cd ${DIR}/b && echo old > app.conf && echo keep > victim && ` +
    `for s in $(seq 0 179); do ln -sf victim "app.conf.$(date -d "+$s sec" +%Y%m%d%H%M%S)~"; done`;
  t.equal(ssh(node, plant).status, 0);
  const r = rmqplay([pb, '-i', 'lab']);
  t.equal(r.status, 0, `the run exits 0 ${r.status ? r.stdout.slice(-1500) + r.stderr : ''}`);
  t.equal(ssh(node, `cat ${DIR}/b/victim`).stdout, 'keep\n', 'the file the links point to is unchanged');
  const backups = ssh(node, `cd ${DIR}/b && find . -maxdepth 1 -type f -name 'app.conf.*' -exec cat {} +`).stdout;
  t.equal(backups, 'old\n', 'one backup, a regular file holding the old content');
});

t.test('rabbitmq.conf is 0640 root:rabbitmq', async (t) => {
  for (const h of hosts) {
    const r = ssh(h, 'stat -c %a:%U:%G /etc/rabbitmq/rabbitmq.conf');
    t.equal(r.stdout.trim(), '640:root:rabbitmq', `${h.name}`);
  }
});
