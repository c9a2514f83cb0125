// Issue 9: the same Ansible content (test/fixtures/ansible) run by Debian's ansible-playbook on node1+node2 and by
// rmqplay on node3+node4, four fresh lab hosts. Compared, pair by pair (node1 with node3, node2 with node4, names
// and addresses normalised): the files left (content, mode, owner, group), users and groups, the installed packages,
// the service, and the per-task changed/ok/skipped status of both runs; a second run changes nothing in either.
// Then: a play that reads no fact gathers none (one round trip fewer), and one that reads
// ansible_distribution gets Debian.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as yaml from 'js-yaml';
import { CLI, events, freshLab, LabHost, ssh } from '../helpers.js';

const DIR = resolve('test/fixtures/ansible');
const PB = join(DIR, 'site.yml');
const CALLBACKS = resolve('test/fixtures/ansible-callback');

const hosts = freshLab(4);
const byName = Object.fromEntries(hosts.map((h) => [h.name, h]));
const ANSIBLE = [byName.node1, byName.node2];
const OURS = [byName.node3, byName.node4];
const PAIRS: [LabHost, LabHost][] = [
  [byName.node1, byName.node3],
  [byName.node2, byName.node4],
];

/** A host's variables as `lab up` wrote them into inventory/lab.yml (address, user, key, known_hosts). */
function labVars(name: string): Record<string, unknown> {
  const find = (o: unknown): Record<string, unknown> | undefined => {
    if (!o || typeof o !== 'object') return undefined;
    const rec = o as Record<string, unknown>;
    const hostsOf = rec.hosts as Record<string, Record<string, unknown>> | undefined;
    if (hostsOf?.[name]) return hostsOf[name];
    for (const v of Object.values(rec)) {
      const f = find(v);
      if (f) return f;
    }
    return undefined;
  };
  const vars = find(yaml.load(readFileSync('inventory/lab.yml', 'utf8')));
  if (!vars) throw new Error(`${name} is not in inventory/lab.yml`);
  return vars;
}

/** An inventory of the group `corpus` with these hosts, beside the corpus' group_vars. */
function inventory(members: LabHost[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-corpus-'));
  symlinkSync(join(DIR, 'group_vars'), join(dir, 'group_vars'));
  const hostsYaml = Object.fromEntries(members.map((h) => [h.name, labVars(h.name)]));
  writeFileSync(join(dir, 'hosts.yml'), yaml.dump({ all: { children: { corpus: { hosts: hostsYaml } } } }));
  return join(dir, 'hosts.yml');
}
const ansibleInv = inventory(ANSIBLE);
const ourInv = inventory(OURS);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}
function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const start = Date.now();
  return new Promise((done) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => done({ code, stdout, stderr, ms: Date.now() - start }));
  });
}
const ansiblePlaybook = (pb: string) =>
  run('ansible-playbook', ['-i', ansibleInv, pb], {
    ANSIBLE_CALLBACK_PLUGINS: CALLBACKS,
    ANSIBLE_STDOUT_CALLBACK: 'corpus_status',
    ANSIBLE_PIPELINING: 'True',
    ANSIBLE_RETRY_FILES_ENABLED: 'False',
    ANSIBLE_PYTHON_INTERPRETER: 'auto_silent',
  });
const ours = (pb: string, extra: string[] = []) =>
  run('node', [CLI, pb, '-i', ourInv, '--json', ...extra], { RMQPLAY_STATS: '1' });

/** Per pair and task: the status of all its results, as Ansible sums up a loop's items: failed if one failed,
 *  changed if one changed, skipped if all were skipped, else ok. Keys "pairN task", the pair named by its
 *  Ansible host. A task with more than one result: a loop (rmqplay reports each item), or a handler of a
 *  role that is both imported and included (Ansible runs each copy's handler). */
type Statuses = Record<string, string>;
const pairOf = (host: string) => PAIRS.find((p) => p.some((h) => h.name === host))![0].name;
const taskName = (task: string) => task.replace(/^[\w.-]+ : /, '');

function summed(results: { host: string; task: string; status: string }[]): Statuses {
  const all: Record<string, string[]> = {};
  for (const e of results) (all[`${pairOf(e.host)} ${taskName(e.task)}`] ??= []).push(e.status);
  const s: Statuses = {};
  for (const [k, st] of Object.entries(all))
    s[k] = st.includes('failed')
      ? 'failed'
      : st.includes('changed')
        ? 'changed'
        : st.every((x) => x === 'skipped')
          ? 'skipped'
          : 'ok';
  return s;
}
const ansibleStatuses = (out: string): Statuses =>
  summed(
    out
      .split('\n')
      .filter((x) => x.startsWith('{"host"'))
      .map((l) => JSON.parse(l)),
  );
const ourStatuses = (out: string): Statuses =>
  summed(
    events(out)
      .filter((x) => x.event === 'task')
      .map((e) => ({ host: e.host!, task: e.task!, status: e.status! })),
  );

function ansibleRecap(out: string): Record<string, { changed: number; failures: number }> {
  const r: Record<string, { changed: number; failures: number }> = {};
  for (const l of out.split('\n').filter((x) => x.startsWith('{"recap"'))) {
    const e = JSON.parse(l);
    r[e.recap] = e;
  }
  return r;
}

/** Where the two runs' statuses differ, one readable line each. */
function statusDiff(theirs: Statuses, mine: Statuses): string[] {
  const keys = [...new Set([...Object.keys(theirs), ...Object.keys(mine)])].sort();
  return keys
    .filter((k) => theirs[k] !== mine[k])
    .map((k) => `${k}: ansible-playbook ${theirs[k] ?? '(no result)'}, rmqplay ${mine[k] ?? '(no result)'}`);
}

/** What the corpus leaves on a host, one entry per path (type, mode, owner, group, content of files), plus
 *  users, packages and the service; with the host's name and address replaced by those of its pair's first. */
const STATE = `
find /srv/corpus /etc/corpus.conf /etc/systemd/system/corpus-hello.service | sort | while IFS= read -r p; do
  printf '@@ %s\t%s\n' "$p" "$(stat -c '%F %a %U %G' "$p")"; [ -f "$p" ] && cat "$p"
done
echo "@@ users"; getent passwd corpus; getent group corpus
echo "@@ packages"; dpkg-query -W -f '\${Package} \${Version} \${db:Status-Abbrev}\\n' | sort
echo "@@ service"; systemctl is-active corpus-hello; systemctl is-enabled corpus-hello
`;
function state(h: LabHost, as: LabHost): Record<string, string> {
  const r = ssh(h, STATE);
  const out: Record<string, string> = {};
  let key = '';
  for (const line of r.stdout.split('\n')) {
    const m = /^@@ ([^\t]+)\t?(.*)$/.exec(line);
    if (m) {
      key = m[1];
      out[key] = m[2].trim() + '\n';
    } else if (key) out[key] += line.split(h.name).join(as.name).split(h.ip).join(as.ip) + '\n';
  }
  return out;
}

function compareHosts(t: any, when: string): void {
  for (const [theirs, mine] of PAIRS) {
    const a = state(theirs, theirs);
    const b = state(mine, theirs);
    t.ok(Object.keys(a).length > 30, `${when}: ${theirs.name} has the corpus' files (${Object.keys(a).length})`);
    t.same(Object.keys(b), Object.keys(a), `${when}: ${mine.name} has the same paths as ${theirs.name}`);
    for (const k of Object.keys(a))
      t.equal(b[k], a[k], `${when}: ${k} on ${mine.name} (rmqplay) as on ${theirs.name} (ansible-playbook)`);
  }
}

t.test('first run: the same statuses and the same results as ansible-playbook', async (t) => {
  const [a, r] = await Promise.all([ansiblePlaybook(PB), ours(PB)]);
  t.comment(`ansible-playbook ${a.ms} ms, rmqplay ${r.ms} ms`);
  t.equal(a.code, 0, `ansible-playbook exits 0: ${a.stdout.slice(-3000)} ${a.stderr.slice(-2000)}`);
  t.equal(r.code, 0, `rmqplay exits 0: ${r.stdout.slice(-3000)} ${r.stderr.slice(-2000)}`);
  const theirs = ansibleStatuses(a.stdout);
  t.ok(Object.values(theirs).filter((s) => s === 'changed').length > 30, 'many changes on fresh hosts');
  t.same(statusDiff(theirs, ourStatuses(r.stdout)), [], 'every task: the same status in both runs');
  compareHosts(t, 'first run');
});

t.test('second run: changed=0 in both, the same statuses, the same results', async (t) => {
  const [a, r] = await Promise.all([ansiblePlaybook(PB), ours(PB)]);
  t.comment(`ansible-playbook ${a.ms} ms, rmqplay ${r.ms} ms`);
  t.equal(a.code, 0, 'ansible-playbook exits 0');
  t.equal(r.code, 0, 'rmqplay exits 0');
  const ar = ansibleRecap(a.stdout);
  for (const h of ANSIBLE) t.equal(ar[h.name]?.changed, 0, `ansible-playbook: changed=0 on ${h.name}`);
  const rr = events(r.stdout).find((e) => e.event === 'recap')?.hosts ?? {};
  for (const h of OURS) t.equal(rr[h.name]?.changed, 0, `rmqplay: changed=0 on ${h.name}`);
  t.same(statusDiff(ansibleStatuses(a.stdout), ourStatuses(r.stdout)), [], 'every task: the same status');
  compareHosts(t, 'second run');
});

t.test('facts: gathered only when read; ansible_distribution is Debian', async (t) => {
  const commands = (r: Run) => Number(/commands=(\d+)/.exec(r.stderr)?.[1] ?? NaN);
  const none = await ours(join(DIR, 'facts-none.yml'));
  t.equal(none.code, 0, none.stderr);
  const gathering = (r: Run) => events(r.stdout).filter((e) => e.task === 'Gathering Facts');
  t.same(gathering(none), [], 'no fact read: no Gathering Facts');
  const read = await ours(join(DIR, 'facts-read.yml'));
  t.equal(read.code, 0, read.stderr);
  t.equal(gathering(read).length, OURS.length, 'a fact read: gathered once per host');
  t.equal(commands(read) - commands(none), OURS.length, 'one round trip per host more, and only when a fact is read');
  const msgs = events(read.stdout).filter((e) => e.task === 'distribution');
  t.same(
    msgs.map((e) => `${e.host} ${e.msg}`).sort(),
    OURS.map((h) => `${h.name} Debian`),
  );
});
