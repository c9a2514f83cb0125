// Issue 10: ansible-vault interop both ways with Debian's ansible-vault (files, vault ids, encrypt_string),
// and rmqplay vault's actions. Skipped with a message where ansible-vault is not installed.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../helpers.js';

const hasAnsibleVault = spawnSync('ansible-vault', ['--version']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'rmqplay-vault-'));
// No ansible.cfg of this folder (the lab's names its vault's password file): only the passwords given here.
writeFileSync(join(dir, 'empty.cfg'), '');
process.env.ANSIBLE_CONFIG = join(dir, 'empty.cfg');
const pwFile = join(dir, 'pw');
writeFileSync(pwFile, 'correct horse\n');
const otherPw = join(dir, 'pw2');
writeFileSync(otherPw, 'battery staple\n');

/** The vaulted text of a "name: !vault |" block. */
const unindent = (block: string) =>
  block
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .join('\n');

function ours(args: string[], input?: string) {
  const r = spawnSync('node', [CLI, 'vault', ...args], { input, encoding: 'utf8' });
  return r;
}
function theirs(args: string[], input?: string): string {
  return execFileSync('ansible-vault', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

t.test(
  'files: rmqplay encrypts, ansible-vault decrypts, and the other way round',
  { skip: !hasAnsibleVault },
  async (t) => {
    const plain = 'db_password: "s3cr3t: with spaces"\nlist: [1, 2]\nunicode: "é€"\n';
    const a = join(dir, 'a.yml');
    writeFileSync(a, plain);
    t.equal(ours(['encrypt', a, '--vault-password-file', pwFile]).status, 0);
    t.match(readFileSync(a, 'utf8'), /^\$ANSIBLE_VAULT;1\.1;AES256\n[0-9a-f\n]+$/);
    t.equal(theirs(['view', a, '--vault-password-file', pwFile]), plain, 'ansible-vault reads what rmqplay wrote');
    const b = join(dir, 'b.yml');
    writeFileSync(b, plain);
    theirs(['encrypt', b, '--vault-password-file', pwFile]);
    const view = ours(['view', b, '--vault-password-file', pwFile]);
    t.equal(view.stdout, plain, 'rmqplay reads what ansible-vault wrote');
    t.equal(ours(['decrypt', b, '--vault-password-file', pwFile]).status, 0);
    t.equal(readFileSync(b, 'utf8'), plain, 'decrypt in place');
    const wrong = ours(['view', a, '--vault-password-file', otherPw]);
    t.equal(wrong.status, 1);
    t.match(wrong.stderr, /no vault password given decrypts it \(wrong password\?\)/);
    t.notMatch(wrong.stderr, /at .*\.js/, 'an error for people, no stack');
  },
);

t.test('vault ids (format 1.2) and rekey', { skip: !hasAnsibleVault }, async (t) => {
  const c = join(dir, 'c.yml');
  writeFileSync(c, 'x: 1\n');
  t.equal(ours(['encrypt', c, '--vault-id', `prod@${pwFile}`]).status, 0);
  t.match(readFileSync(c, 'utf8'), /^\$ANSIBLE_VAULT;1\.2;AES256;prod\n/);
  t.equal(theirs(['view', c, '--vault-id', `prod@${pwFile}`]), 'x: 1\n');
  const d = join(dir, 'd.yml');
  writeFileSync(d, 'y: 2\n');
  theirs(['encrypt', d, '--vault-id', `stage@${otherPw}`]);
  const both = ['--vault-id', `prod@${pwFile}`, '--vault-id', `stage@${otherPw}`];
  t.equal(ours(['view', d, ...both]).stdout, 'y: 2\n', "the password of the file's own id is used");
  t.equal(ours(['rekey', d, ...both, '--new-vault-password-file', pwFile]).status, 0);
  t.equal(theirs(['view', d, '--vault-password-file', pwFile]), 'y: 2\n', 'rekeyed to the new password');
});

t.test('encrypt_string both ways, and an executable password file', { skip: !hasAnsibleVault }, async (t) => {
  const script = join(dir, 'pw.sh');
  writeFileSync(script, "#!/bin/sh\necho 'correct horse'\n");
  chmodSync(script, 0o700);
  const mine = ours(['encrypt_string', 'p@ss "word"', '--name', 'db_password', '--vault-password-file', script]);
  t.equal(mine.status, 0, mine.stderr);
  t.match(mine.stdout, /^db_password: !vault \|\n {10}\$ANSIBLE_VAULT;1\.1;AES256\n/);
  const value = join(dir, 'value');
  writeFileSync(value, unindent(mine.stdout));
  t.equal(
    theirs(['decrypt', '--output', '-', '--vault-password-file', pwFile, value]),
    'p@ss "word"',
    'theirs reads ours',
  );
  const theirString = theirs(['encrypt_string', '--vault-password-file', pwFile, 'from ansible', '--name', 'x']);
  const b = join(dir, 'their-string');
  writeFileSync(b, unindent(theirString));
  t.equal(ours(['view', b, '--vault-password-file', pwFile]).stdout, 'from ansible');
});

t.test('a run reads vaulted vars files and !vault values, and never prints them', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'rmqplay-vault-run-'));
  const vars = join(work, 'secrets.yml');
  writeFileSync(vars, 'db_password: "file-held s3cret"\n');
  t.equal(ours(['encrypt', vars, '--vault-password-file', pwFile]).status, 0);
  const inline = ours(['encrypt_string', 'inline s3cret', '--name', 'api_token', '--vault-password-file', pwFile]);
  mkdirSync(join(work, 'group_vars'));
  writeFileSync(join(work, 'group_vars', 'all.yml'), inline.stdout);
  writeFileSync(join(work, 'hosts.ini'), 'localhost ansible_connection=local\n');
  const pb = join(work, 'pb.yml');
  const tasks = [
    '    - copy: { content: "{{ db_password }}|{{ api_token }}", dest: "{{ out }}" }',
    '    - debug: { msg: "{{ db_password }} and {{ api_token }}" }',
  ];
  writeFileSync(pb, `- hosts: all\n  vars_files: [${vars}]\n  tasks:\n${tasks.join('\n')}\n`);
  const out = join(work, 'written');
  const args = [CLI, pb, '-i', join(work, 'hosts.ini'), '-e', `out=${out}`, '--diff'];
  const r = spawnSync('node', [...args, '--vault-password-file', pwFile], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr + r.stdout.slice(-1000));
  t.equal(readFileSync(out, 'utf8'), 'file-held s3cret|inline s3cret', 'both decrypted and used');
  t.notMatch(r.stdout + r.stderr, /s3cret/, 'no decrypted value in the output');
  const none = spawnSync('node', args, { encoding: 'utf8' });
  t.equal(none.status, 4, 'without the password: bad input');
  t.match(none.stderr, /give its password with --vault-password-file/);
});

t.test(
  "ansible.cfg's vault_password_file is used, and added after --vault-password-file, as Ansible does",
  async (t) => {
    const cwd = mkdtempSync(join(tmpdir(), 'rmqplay-vault-cfg-'));
    const file = join(cwd, 'secret.yml');
    writeFileSync(file, 'a: 1\n');
    t.equal(ours(['encrypt', file, '--vault-password-file', pwFile]).status, 0);
    const view = (args: string[]) =>
      spawnSync('node', [CLI, 'vault', 'view', file, ...args], {
        cwd,
        encoding: 'utf8',
        env: { ...process.env, ANSIBLE_CONFIG: '' },
      });
    t.not(view([]).status, 0, 'no password anywhere: refused');
    writeFileSync(join(cwd, 'ansible.cfg'), `[defaults]\nvault_password_file = ${pwFile}\n`);
    t.equal(view([]).stdout, 'a: 1\n', 'the ansible.cfg in the working folder names the password file');
    t.equal(
      view(['--vault-password-file', otherPw]).stdout,
      'a: 1\n',
      'a wrong password given first: the cfg one after',
    );
    if (hasAnsibleVault) {
      const env = { ...process.env, ANSIBLE_CONFIG: '' };
      const a = spawnSync('ansible-vault', ['view', file, '--vault-password-file', otherPw], {
        cwd,
        encoding: 'utf8',
        env,
      });
      t.equal(a.stdout, 'a: 1\n', 'ansible-vault does the same');
    }
  },
);
