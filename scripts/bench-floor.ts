// The raw floor of npm run bench (issue 11): the least a tool can do to check the 20-task playbook
// (test/fixtures/core/twenty.yml) on converged hosts. A bare node-ssh script: connect to every host at once (the
// lab's key, host keys checked against the lab's known_hosts), run the same checks as ONE shell script per host
// (file types and modes, link target, contents by sha256, the commands' `creates` files, the stale file gone,
// /etc/hostname), compare with what the playbook wants, print one line. Prints figures, asserts nothing; the
// bench times this process from start to exit, as it times rmqplay.
//
//   node dist/scripts/bench-floor.js --key K --known-hosts F [--run CMD] NAME=ADDRESS...
//
// NAME=ADDRESS in the inventory's order (the template lists every host). --run CMD runs CMD on every host
// instead (the bench resets the hosts with it) and prints what failed.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { NodeSSH } from 'node-ssh';

const args = process.argv.slice(2);
let key = '/var/cache/rmqplay/lab/id_ed25519';
let known = '/var/cache/rmqplay/lab/known_hosts';
let run: string | undefined;
const hosts: { name: string; address: string }[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--key') key = args[++i];
  else if (args[i] === '--known-hosts') known = args[++i];
  else if (args[i] === '--run') run = args[++i];
  else {
    const [name, address] = args[i].split('=');
    hosts.push({ name, address: address ?? name });
  }
}

const start = performance.now();
const privateKey = readFileSync(key, 'utf8');
/** The host keys known_hosts gives each address (plain entries, as `lab up` writes them). */
const knownKeys = new Map<string, Buffer[]>();
for (const line of readFileSync(known, 'utf8').split('\n')) {
  const [names, , b64] = line.trim().split(/\s+/);
  if (!b64 || names.startsWith('#')) continue;
  for (const n of names.split(',')) knownKeys.set(n, [...(knownKeys.get(n) ?? []), Buffer.from(b64, 'base64')]);
}

const D = '/srv/rmqplay-demo';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const STATS: [path: string, type: string, mode?: string][] = [
  [D, 'directory', '755'],
  [`${D}/conf`, 'directory', '750'],
  [`${D}/data`, 'directory'],
  [`${D}/log`, 'directory', '700'],
  [`${D}/README`, 'regular file', '644'],
  [`${D}/conf/motd`, 'regular file'],
  [`${D}/conf/app.conf`, 'regular file', '640'],
  [`${D}/conf/app2.conf`, 'regular file'],
  [`${D}/conf/settings`, 'regular file'],
  [`${D}/data/flag`, 'regular empty file', '600'],
  [`${D}/data/alpha.txt`, 'regular file'],
  [`${D}/data/beta.txt`, 'regular file'],
  [`${D}/data/gamma.txt`, 'regular file'],
];
const EXISTS = [`${D}/data/initialised`, `${D}/data/whoami`];
const ABSENT = `${D}/stale`;
const LINK = [`${D}/current.conf`, `${D}/conf/app.conf`];
const SETTINGS = [
  'max_connections=100',
  'timeout=30',
  '# BEGIN ANSIBLE MANAGED BLOCK',
  '# ports',
  'port_a=5672',
  'port_b=15672',
  '# END ANSIBLE MANAGED BLOCK',
  '',
].join('\n');

function wantedContents(name: string): [string, string][] {
  const peers = hosts.map((h) => h.name).join(',');
  const app = [`# ${name}: managed by rmqplay`, 'greeting = hello & welcome', 'listen = 5672', 'listen = 15672']
    .concat(`peers = ${peers}`, '')
    .join('\n');
  return [
    [`${D}/README`, 'managed by rmqplay\n'],
    [`${D}/conf/motd`, 'hello & welcome\n'],
    [`${D}/conf/app.conf`, app],
    [`${D}/conf/app2.conf`, app],
    [`${D}/conf/settings`, SETTINGS],
    ...['alpha', 'beta', 'gamma'].map((x): [string, string] => [`${D}/data/${x}.txt`, `${x}\n`]),
  ];
}

const SCRIPT = [
  `stat -c '%n|%F|%a' ${STATS.map(([p]) => p).join(' ')} ${EXISTS.join(' ')} ${ABSENT} 2>/dev/null`,
  'echo --',
  `readlink ${LINK[0]}`,
  'echo --',
  `sha256sum ${wantedContents('x')
    .map(([p]) => p)
    .join(' ')}`,
  'echo --',
  'cat /etc/hostname',
].join('\n');

/** What differs on one host from the converged state, from the script's output. */
function differences(name: string, out: string): string[] {
  const [stats = '', link = '', sums = '', hostname = ''] = out.split('\n--\n');
  const seen = new Map(stats.split('\n').map((l) => [l.split('|')[0], l.split('|')] as const));
  const diff: string[] = [];
  for (const [p, type, mode] of STATS) {
    const s = seen.get(p);
    if (!s) diff.push(`${p} missing`);
    else if (s[1] !== type && !(type === 'regular file' && s[1] === 'regular empty file')) diff.push(`${p}: ${s[1]}`);
    else if (mode && s[2] !== mode) diff.push(`${p}: mode ${s[2]}`);
  }
  for (const p of EXISTS) if (!seen.has(p)) diff.push(`${p} missing`);
  if (seen.has(ABSENT)) diff.push(`${ABSENT} exists`);
  if (link.trim() !== LINK[1]) diff.push(`${LINK[0]} -> ${link.trim() || 'nothing'}`);
  const sumOf = new Map(sums.split('\n').map((l) => [l.split(/\s+/)[1], l.split(/\s+/)[0]] as const));
  for (const [p, content] of wantedContents(name)) if (sumOf.get(p) !== sha(content)) diff.push(`${p}: content`);
  if (hostname.trim() !== name) diff.push(`/etc/hostname: ${hostname.trim()}`);
  return diff;
}

const results = await Promise.all(
  hosts.map(async (h) => {
    const ssh = new NodeSSH();
    try {
      await ssh.connect({
        host: h.address,
        username: 'root',
        privateKey,
        readyTimeout: 30_000,
        hostVerifier: (k: Buffer) => (knownKeys.get(h.address) ?? []).some((w) => w.equals(k)),
      });
      const r = await ssh.execCommand(run ?? SCRIPT);
      if (run) return r.code === 0 ? [] : [`exit ${r.code}: ${r.stderr.trim()}`];
      return differences(h.name, r.stdout);
    } catch (e) {
      return [`unreachable: ${(e as Error).message}`];
    } finally {
      ssh.dispose();
    }
  }),
);
const ms = performance.now() - start;
const bad = results.flatMap((d, i) => d.map((x) => `${hosts[i].name}: ${x}`));
for (const line of bad.slice(0, 20)) process.stderr.write(line + '\n');
const what = run ? 'command' : 'checks';
const verdict = bad.length ? `${bad.length} differences` : run ? 'ok' : 'converged';
process.stdout.write(`floor: ${hosts.length} hosts, ${what} in one script each: ${verdict}, ${ms.toFixed(0)} ms\n`);
process.exitCode = bad.length ? 1 : 0;
