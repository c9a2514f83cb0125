// npm run bench (issue 11): rmqplay side by side with a tuned Ansible, on lab hosts it brings up itself, with the
// raw floor beside them. Prints figures and a table, writes them to bench/results.json; asserts nothing.
// Runs as root (the lab), unattended, on a machine that may be new: what it lacks (Debian's ansible package,
// which carries community.rabbitmq, python3-pika for the Ansible site's verification, the lab's tools) it
// installs with apt-get and says so. Starts by taking any lab down and ends with the lab down (--keep-lab not).
//
//   npm run bench [-- --runs N] [--quick] [--hosts 1,5,20,50] [--cases abcdes] [--keep-lab]
//
// Cases, each run alternately (rmqplay, Ansible; the other first on the next round), --runs times (default 5):
//   (a) the 20 small tasks (test/fixtures/core/twenty.yml; bench/ansible/twenty.yml) on 1, 5, 20, 50 hosts,
//       converged, with the raw floor (scripts/bench-floor.ts: node-ssh, the same checks as one script per host);
//   (b) the same, first run (each host's /srv/rmqplay-demo removed before each run);
//   (c) --check of (a), both tools in check mode;
//   (d) the RabbitMQ site (playbooks/site.yml; bench/ansible/site.yml) on 3 nodes, converged;
//   (e) the site from fresh hosts (lab down and up --nodes 3 before each run; only the playbook is timed).
// The lab grows 1 -> 5 -> 20 -> 50 for (a)-(c) (it cannot shrink), then is rebuilt with 3 nodes for (e) and (d).
// Also (s): start-up (rmqplay --help, and a play on an empty group: CLI start to where the first connection would
// be, with 0 hosts; Ansible's and `node -e 0` beside them) and rmqplay's peak memory (VmHWM) in (a).
// --quick: one run, hosts 1 and 5, for trying the bench. Every tool's output goes to bench/bench.log.
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as yaml from 'js-yaml';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
process.chdir(ROOT);
const CLI = join(ROOT, 'dist/lib/cli.js');
const FLOOR = join(ROOT, 'dist/scripts/bench-floor.js');
const ANSIBLE_DIR = join(ROOT, 'bench/ansible');
const LOG = join(ROOT, 'bench/bench.log');
const RESULTS = join(ROOT, 'bench/results.json');
const CACHE = process.env.RMQPLAY_LAB_CACHE ?? '/var/cache/rmqplay/lab';
const KEY = join(CACHE, 'id_ed25519');
const KNOWN = join(CACHE, 'known_hosts');
const TWENTY = 'test/fixtures/core/twenty.yml';
const SITE = 'playbooks/site.yml';
const RUN_TIMEOUT_MS = 30 * 60_000;

// ---- options
interface Options {
  runs: number;
  hosts: number[];
  cases: Set<string>;
  keepLab: boolean;
  quick: boolean;
}
function parseOptions(argv: string[]): Options {
  const o: Options = { runs: 5, hosts: [1, 5, 20, 50], cases: new Set('abcdes'), keepLab: false, quick: false };
  let runsGiven = false;
  let hostsGiven = false;
  const fail = (m: string): never => {
    process.stderr.write(`bench: ${m}\n(npm run bench -- [--runs N] [--quick] [--hosts 1,5,20,50] [--cases abcdes])\n`);
    process.exit(5);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') {
      o.runs = Number(argv[++i]);
      runsGiven = true;
      if (!Number.isInteger(o.runs) || o.runs < 1) fail('--runs needs a whole number from 1');
    } else if (a === '--quick') o.quick = true;
    else if (a === '--keep-lab') o.keepLab = true;
    else if (a === '--hosts') {
      o.hosts = String(argv[++i] ?? '')
        .split(',')
        .map(Number);
      hostsGiven = true;
      if (!o.hosts.every((n) => Number.isInteger(n) && n >= 1 && n <= 244)) fail('--hosts needs counts from 1 to 244');
    } else if (a === '--cases') {
      o.cases = new Set(String(argv[++i] ?? '').replace(/[^a-es]/g, ''));
      if (!o.cases.size) fail('--cases needs some of a, b, c, d, e, s (start-up)');
    } else fail(`unknown option ${a}`);
  }
  if (o.quick && !runsGiven) o.runs = 1;
  if (o.quick && !hostsGiven) o.hosts = [1, 5];
  o.hosts = [...new Set(o.hosts)].sort((x, y) => x - y); // the lab only grows
  return o;
}
const opts = parseOptions(process.argv.slice(2));
const labCases = [...opts.cases].some((c) => c !== 's');

// ---- running things
interface Run {
  ms: number;
  code: number | null;
  out: string;
  /** Peak resident memory (VmHWM) in KiB, when asked for. */
  peakKiB?: number;
  changed?: number;
  failed?: number;
}
const say = (s: string) => process.stdout.write(s + '\n');
const log = (s: string) => appendFileSync(LOG, s);

function peakOf(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Runs a program to its end, timed from spawn to exit, its output kept (and logged). */
function timed(
  label: string,
  cmd: string,
  args: string[],
  o: { env?: NodeJS.ProcessEnv; memory?: boolean; timeoutMs?: number } = {},
): Promise<Run> {
  return new Promise((done) => {
    const chunks: Buffer[] = [];
    const start = performance.now();
    const p = spawn(cmd, args, { env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.on('data', (b: Buffer) => chunks.push(b));
    p.stderr.on('data', (b: Buffer) => chunks.push(b));
    let peak: number | undefined;
    const poll = o.memory
      ? setInterval(() => {
          const k = p.pid ? peakOf(p.pid) : undefined;
          if (k !== undefined) peak = Math.max(peak ?? 0, k);
        }, 50)
      : undefined;
    const killer = setTimeout(() => p.kill('SIGKILL'), o.timeoutMs ?? RUN_TIMEOUT_MS);
    let ms = 0;
    let code: number | null = null;
    const finish = () => {
      clearTimeout(killer);
      const out = Buffer.concat(chunks).toString('utf8');
      const head = `${new Date().toISOString()} ${label}: ${cmd} ${args.join(' ')}`;
      log(`\n=== ${head}\n${out}=== exit ${code}, ${ms.toFixed(0)} ms\n`);
      done({ ms, code, out, peakKiB: peak, ...recap(out) });
    };
    p.on('error', (e) => {
      chunks.push(Buffer.from(String(e)));
      finish();
    });
    p.on('exit', (c, signal) => {
      ms = performance.now() - start;
      code = c ?? (signal ? 128 : null);
      if (poll) clearInterval(poll);
      // Output still in the pipes: wait for it, but not for a grandchild holding them (an SSH master).
      const t = setTimeout(finish, 2000);
      p.on('close', () => {
        clearTimeout(t);
        finish();
      });
    });
  });
}

/** Changed and failed (with unreachable) hosts' counts summed over the recap's lines (rmqplay's and Ansible's). */
function recap(out: string): { changed?: number; failed?: number } {
  const lines = [...out.matchAll(/^\S+\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm)];
  if (!lines.length) return {};
  return {
    changed: lines.reduce((s, m) => s + Number(m[2]), 0),
    failed: lines.reduce((s, m) => s + Number(m[3]) + Number(m[4]), 0),
  };
}

const tail = (s: string, n = 6) => s.trim().split('\n').slice(-n).join('\n    ');

async function must(label: string, cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<Run> {
  const r = await timed(label, cmd, args, { env });
  if (r.code !== 0) {
    say(`bench: ${label} failed (exit ${r.code}):\n    ${tail(r.out)}\n  full output: ${LOG}`);
    await cleanUp();
    if (rows.length) report();
    process.exit(1);
  }
  return r;
}

// ---- what the machine needs
function has(bin: string): boolean {
  return ['/usr/bin', '/usr/sbin', '/bin', '/sbin'].some((d) => existsSync(join(d, bin)));
}
async function ensurePackages(): Promise<void> {
  const need: string[] = [];
  const tools: Record<string, string> = {
    debootstrap: 'debootstrap',
    'systemd-nspawn': 'systemd-container',
    'dpkg-scanpackages': 'dpkg-dev',
    'ssh-keyscan': 'openssh-client',
    ssh: 'openssh-client',
    ip: 'iproute2',
  };
  for (const [bin, pkg] of Object.entries(tools)) if (!has(bin)) need.push(pkg);
  const collection = '/usr/lib/python3/dist-packages/ansible_collections/community/rabbitmq';
  if (!has('ansible-playbook') || !existsSync(collection)) need.push('ansible');
  const pika = await timed('python3-pika?', '/usr/bin/python3', ['-c', 'import pika']); // Debian's, Ansible's
  if (pika.code !== 0) need.push('python3-pika');
  const pkgs = [...new Set(need)];
  if (!pkgs.length) return;
  say(`bench: installing ${pkgs.join(' ')} with apt-get (missing here)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await must('apt-get update', 'apt-get', ['update', '-q'], env);
  await must(`apt-get install ${pkgs.join(' ')}`, 'apt-get', ['install', '-y', '-q', ...pkgs], env);
}

// ---- the lab
let labHosts: { name: string; address: string }[] = [];
async function labUp(n: number): Promise<void> {
  const r = await must(`lab up --nodes ${n}`, process.execPath, [CLI, 'lab', 'up', '--nodes', String(n)]);
  const inv = yaml.load(readFileSync('inventory/lab.yml', 'utf8')) as {
    all: { children: { rabbitmq: { hosts: Record<string, { ansible_host: string }> } } };
  };
  labHosts = Object.entries(inv.all.children.rabbitmq.hosts).map(([name, v]) => ({ name, address: v.ansible_host }));
  say(`  lab up --nodes ${n}: ${labHosts.length} hosts in ${(r.ms / 1000).toFixed(0)} s`);
}
async function labDown(): Promise<void> {
  await closeMasters();
  await must('lab down', process.execPath, [CLI, 'lab', 'down']);
  labHosts = [];
}

// ---- the tools
const CONTROL_DIR = mkdtempSync(join(tmpdir(), 'rmqplay-bench-cp-'));
const ansibleEnv: NodeJS.ProcessEnv = {
  ...process.env,
  ANSIBLE_CONFIG: join(ANSIBLE_DIR, 'ansible.cfg'),
  ANSIBLE_SSH_CONTROL_PATH_DIR: CONTROL_DIR,
  ANSIBLE_VAULT_PASSWORD_FILE: join(CACHE, 'vault-password'),
  ANSIBLE_NOCOLOR: '1',
};
const rmqEnv: NodeJS.ProcessEnv = { ...process.env };
delete rmqEnv.ANSIBLE_CONFIG; // rmqplay reads ./ansible.cfg, which lab up writes (the vault's password file)

/** Ansible's SSH masters (ControlPersist) end when the bench takes hosts down: a master whose host is gone
 *  would hold the next run. */
async function closeMasters(): Promise<void> {
  const socks = existsSync(CONTROL_DIR) ? readdirSync(CONTROL_DIR) : [];
  await Promise.all(
    socks.map((s) => timed('ssh -O exit', 'ssh', ['-o', `ControlPath=${join(CONTROL_DIR, s)}`, '-O', 'exit', 'x'])),
  );
}

const rmqplay = (label: string, playbook: string, extra: string[], memory = false) =>
  timed(label, process.execPath, [CLI, playbook, '-i', 'lab', '--forks', String(labHosts.length), ...extra], {
    env: rmqEnv,
    memory,
  });
const ansible = (label: string, playbook: string, extra: string[]) =>
  timed(
    label,
    'ansible-playbook',
    ['-i', 'inventory/lab.yml', join(ANSIBLE_DIR, playbook), '--forks', String(labHosts.length), ...extra],
    { env: ansibleEnv },
  );
const hostArgs = () => labHosts.map((h) => `${h.name}=${h.address}`);
const floor = (label: string) =>
  timed(label, process.execPath, [FLOOR, '--key', KEY, '--known-hosts', KNOWN, ...hostArgs()]);
const resetTwenty = () =>
  must('reset', process.execPath, [
    FLOOR,
    '--key',
    KEY,
    '--known-hosts',
    KNOWN,
    '--run',
    'rm -rf /srv/rmqplay-demo',
    ...hostArgs(),
  ]);

// ---- figures
interface Series {
  runs: number[];
  median?: number;
  /** Runs that did not end well (exit code, failed or unreachable hosts), or changed something on a converged run. */
  problems: string[];
  changed: number[];
}
interface Row {
  id: string;
  label: string;
  hosts: number | string;
  tasks: number | string;
  rmqplay: Series;
  ansible: Series;
  floor?: Series;
  floorLabel?: string;
  notes: string[];
}
const rows: Row[] = [];
const series = (): Series => ({ runs: [], problems: [], changed: [] });
function median(xs: number[]): number | undefined {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
function add(s: Series, r: Run, converged: boolean): void {
  s.runs.push(r.ms);
  if (r.changed !== undefined) s.changed.push(r.changed);
  if (r.code !== 0) s.problems.push(`exit ${r.code}${r.failed ? `, ${r.failed} hosts failed` : ''}: ${tail(r.out, 2)}`);
  else if (converged && r.changed) s.problems.push(`changed ${r.changed} on a converged run`);
  s.median = median(s.runs);
}
const secs = (ms?: number) =>
  ms === undefined ? '-' : ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`;

/** Round i of an alternation: fns in order on even rounds, reversed on odd ones; before() ahead of each. */
async function round(i: number, fns: (() => Promise<void>)[], before?: () => Promise<unknown>): Promise<void> {
  for (const f of i % 2 ? [...fns].reverse() : fns) {
    if (before) await before();
    await f();
  }
}

// ---- the cases
const peaks: { hosts: number; KiB: number }[] = [];

async function startup(): Promise<void> {
  say('start-up (no lab): node -e 0, --help, a play on an empty group (0 hosts)');
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-bench-'));
  const pb = join(dir, 'empty.yml');
  const inv = join(dir, 'hosts.ini');
  writeFileSync(pb, '- hosts: nobody\n  gather_facts: false\n  tasks:\n    - command: "true"\n');
  writeFileSync(inv, 'localhost ansible_connection=local\n\n[nobody]\n');
  const cfg = join(dir, 'ansible.cfg');
  writeFileSync(cfg, '[defaults]\ngathering = explicit\ninterpreter_python = /usr/bin/python3\n');
  const env: NodeJS.ProcessEnv = { ...ansibleEnv, ANSIBLE_CONFIG: cfg }; // and no vault
  delete env.ANSIBLE_VAULT_PASSWORD_FILE;
  const n = opts.quick ? 3 : 11;
  const help: Row = mkRow('start', 'start-up: --help', '-', '-');
  const empty: Row = mkRow('start', 'start-up: play, 0 hosts', 0, 1);
  help.floor = series();
  help.floorLabel = 'node -e 0';
  empty.floor = help.floor;
  empty.floorLabel = 'node -e 0';
  const cwd = process.cwd();
  process.chdir(dir); // no ansible.cfg or inventory of the repository's
  try {
    for (let i = 0; i <= n; i++) {
      const keep = i > 0; // the first round warms the file cache
      const runs = [
        await timed('node -e 0', process.execPath, ['-e', '0']),
        await timed('rmqplay --help', process.execPath, [CLI, '--help'], { env: rmqEnv }),
        await timed('ansible-playbook --help', 'ansible-playbook', ['--help'], { env }),
        await timed('rmqplay, 0 hosts', process.execPath, [CLI, pb, '-i', inv], { env: rmqEnv }),
        await timed('ansible-playbook, 0 hosts', 'ansible-playbook', ['-i', inv, pb], { env }),
      ];
      if (!keep) continue;
      add(help.floor, runs[0], false);
      add(help.rmqplay, runs[1], false);
      add(help.ansible, runs[2], false);
      add(empty.rmqplay, runs[3], false);
      add(empty.ansible, runs[4], false);
    }
  } finally {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  }
  rows.push(help, empty);
  const [rh, ah, node] = [help.rmqplay.median, help.ansible.median, help.floor.median];
  say(`  --help: rmqplay ${secs(rh)}, Ansible ${secs(ah)}; node -e 0 ${secs(node)}`);
  say(`  0 hosts: rmqplay ${secs(empty.rmqplay.median)}, Ansible ${secs(empty.ansible.median)}`);
}

/** One progress line: the last run of each tool in a row. */
function progress(r: Row, i: number): void {
  const last = (x?: Series) => secs(x?.runs.at(-1));
  const fl = r.floor ? `, floor ${last(r.floor)}` : '';
  say(`  ${r.label}, ${r.hosts} hosts, ${i}/${opts.runs}: rmqplay ${last(r.rmqplay)}, Ansible ${last(r.ansible)}${fl}`);
}
const loadString = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');

function mkRow(id: string, label: string, hosts: number | string, tasks: number | string): Row {
  return { id, label, hosts, tasks, rmqplay: series(), ansible: series(), notes: [] };
}

async function twentyCases(n: number): Promise<void> {
  const first = mkRow('b', '(b) 20 tasks, first run', n, 20);
  const conv = mkRow('a', '(a) 20 tasks, converged', n, 20);
  const check = mkRow('c', '(c) 20 tasks, --check', n, 20);
  const runs = opts.runs;
  if (opts.cases.has('b') || opts.cases.has('a') || opts.cases.has('c')) await resetTwenty();
  if (opts.cases.has('b')) {
    for (let i = 0; i < runs; i++) {
      const steps = [
        async () => add(first.rmqplay, await rmqplay(`(b) ${n} rmqplay`, TWENTY, []), false),
        async () => add(first.ansible, await ansible(`(b) ${n} ansible`, 'twenty.yml', []), false),
      ];
      await round(i, steps, resetTwenty);
      progress(first, i + 1);
    }
    rows.push(first);
  }
  if (!opts.cases.has('a') && !opts.cases.has('c')) return;
  // Converged: one untimed run of each first (rmqplay's then Ansible's on the hosts the other left).
  const warm = [
    await rmqplay(`(a) ${n} rmqplay, untimed`, TWENTY, []),
    await ansible(`(a) ${n} ansible, untimed`, 'twenty.yml', []),
  ];
  if (warm[1].changed) conv.notes.push(`Ansible changed ${warm[1].changed} on hosts rmqplay had converged`);
  if (opts.cases.has('a')) {
    conv.floor = series();
    conv.floorLabel = 'node-ssh, one script per host';
    const memory = n === Math.max(...opts.hosts);
    for (let i = 0; i < runs; i++) {
      await round(i, [
        async () => {
          const r = await rmqplay(`(a) ${n} rmqplay`, TWENTY, [], memory);
          add(conv.rmqplay, r, true);
          if (r.peakKiB) peaks.push({ hosts: n, KiB: r.peakKiB });
        },
        async () => add(conv.ansible, await ansible(`(a) ${n} ansible`, 'twenty.yml', []), true),
        async () => {
          const r = await floor(`(a) ${n} floor`);
          add(conv.floor!, r, false);
          if (r.code !== 0) conv.notes.push(`floor: ${tail(r.out, 1)}`);
        },
      ]);
      progress(conv, i + 1);
    }
    rows.push(conv);
  }
  if (opts.cases.has('c')) {
    check.floor = conv.floor;
    check.floorLabel = conv.floorLabel;
    for (let i = 0; i < runs; i++) {
      await round(i, [
        async () => add(check.rmqplay, await rmqplay(`(c) ${n} rmqplay`, TWENTY, ['--check']), true),
        async () => add(check.ansible, await ansible(`(c) ${n} ansible`, 'twenty.yml', ['--check']), true),
      ]);
      progress(check, i + 1);
    }
    rows.push(check);
  }
}

/** The number of tasks a playbook lists (import_tasks followed, meta left out). */
function taskCount(file: string): number {
  const count = (f: string, list: unknown): number =>
    (Array.isArray(list) ? list : []).reduce((s: number, t: Record<string, unknown>) => {
      if (t.import_tasks)
        return s + count(f, yaml.load(readFileSync(join(dirname(f), String(t.import_tasks)), 'utf8')));
      return s + (t.meta ? 0 : 1);
    }, 0);
  const plays = yaml.load(readFileSync(file, 'utf8')) as Record<string, unknown>[];
  return plays.reduce((s, p) => s + count(file, p.tasks), 0);
}

async function siteCases(): Promise<void> {
  const tasks = `${taskCount(SITE)}/${taskCount(join(ANSIBLE_DIR, 'site.yml'))}`;
  const fresh = mkRow('e', '(e) site, fresh hosts', 3, tasks);
  const conv = mkRow('d', '(d) site, converged', 3, tasks);
  let last: 'rmqplay' | 'ansible' | undefined;
  if (opts.cases.has('e')) {
    for (let i = 0; i < opts.runs; i++) {
      const steps = [
        async () => {
          add(fresh.rmqplay, await rmqplay(`(e) rmqplay`, SITE, []), false);
          last = 'rmqplay';
        },
        async () => {
          add(fresh.ansible, await ansible(`(e) ansible`, 'site.yml', []), false);
          last = 'ansible';
        },
      ];
      await round(i, steps, async () => {
        if (labHosts.length) await labDown();
        await labUp(3);
      });
      progress(fresh, i + 1);
    }
    rows.push(fresh);
  }
  if (!opts.cases.has('d')) return;
  if (labHosts.length !== 3) {
    if (labHosts.length) await labDown();
    await labUp(3);
  }
  // Converged: each tool once, untimed, on the hosts the other left: what it still changes is noted.
  const order = last === 'ansible' ? ['rmqplay', 'ansible'] : ['ansible', 'rmqplay'];
  if (!last) await must('(d) rmqplay, building the cluster', process.execPath, [CLI, SITE, '-i', 'lab'], rmqEnv);
  for (const tool of order) {
    const r =
      tool === 'rmqplay'
        ? await rmqplay('(d) rmqplay, untimed', SITE, [])
        : await ansible('(d) ansible, untimed', 'site.yml', []);
    if (r.code !== 0) conv.notes.push(`${tool} failed on hosts the other had converged: ${tail(r.out, 2)}`);
    else if (r.changed) conv.notes.push(`${tool} changed ${r.changed} on hosts the other had converged`);
  }
  for (let i = 0; i < opts.runs; i++) {
    await round(i, [
      async () => add(conv.rmqplay, await rmqplay(`(d) rmqplay`, SITE, []), true),
      async () => add(conv.ansible, await ansible(`(d) ansible`, 'site.yml', []), true),
    ]);
    progress(conv, i + 1);
  }
  rows.push(conv);
}

// ---- the table
function table(): string {
  const order = ['start', 'a', 'b', 'c', 'd', 'e'];
  const sorted = [...rows].sort((x, y) => order.indexOf(x.id) - order.indexOf(y.id));
  const head = ['case', 'hosts', 'tasks', 'rmqplay', 'Ansible', 'ratio', 'raw floor', 'rmqplay/floor'];
  const body = sorted.map((r) => {
    const rm = r.rmqplay.median;
    const an = r.ansible.median;
    const fl = r.floor?.median;
    return [
      r.label,
      String(r.hosts),
      String(r.tasks),
      secs(rm) + (r.rmqplay.problems.length ? ' !' : ''),
      secs(an) + (r.ansible.problems.length ? ' !' : ''),
      rm && an ? `${(an / rm).toFixed(1)}x` : '-',
      fl === undefined ? '-' : `${secs(fl)}${r.id === 'start' ? ' (node -e 0)' : ''}`,
      rm && fl ? `${(rm / fl).toFixed(1)}x` : '-',
    ];
  });
  const widths = head.map((h, k) => Math.max(h.length, ...body.map((b) => b[k].length)));
  const line = (cells: string[]) =>
    cells.map((c, k) => (k < 3 ? c.padEnd(widths[k]) : c.padStart(widths[k]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** The table, the notes and bench/results.json, with what has been measured so far. */
function report(): void {
  const minutes = (performance.now() - t0) / 60_000;
  const biggest = peaks.filter((p) => p.hosts === Math.max(...peaks.map((q) => q.hosts)));
  const peakMiB = biggest.length ? Math.max(...biggest.map((p) => p.KiB)) / 1024 : undefined;
  say('');
  say(table());
  say('');
  if (peakMiB !== undefined)
    say(`rmqplay's peak memory (VmHWM), (a) on ${biggest[0].hosts} hosts: ${peakMiB.toFixed(0)} MiB`);
  for (const r of rows) {
    for (const [who, s] of [
      ['rmqplay', r.rmqplay],
      ['Ansible', r.ansible],
      ['floor', r.floor],
    ] as const)
      for (const p of new Set(s?.problems ?? [])) say(`! ${r.label}, ${r.hosts} hosts, ${who}: ${p}`);
    for (const n of new Set(r.notes)) say(`note: ${r.label}, ${r.hosts} hosts: ${n}`);
  }
  say(`medians of ${opts.runs} run(s), run alternately; ratio = Ansible / rmqplay; took ${minutes.toFixed(1)} min`);
  say(`load average at the end: ${loadString(loadavg())}`);
  writeFileSync(
    RESULTS,
    JSON.stringify(
      {
        started: started.toISOString(),
        minutes,
        options: { ...opts, cases: [...opts.cases] },
        machine: { cpus: cpus().length, memGiB: totalmem() / 2 ** 30, loadBefore: load0, loadAfter: loadavg() },
        node: process.version,
        ansible: ansibleVersion.trim(),
        bundledCli: bundled,
        peakMemoryMiB: peakMiB === undefined ? undefined : { hosts: biggest[0].hosts, MiB: peakMiB },
        rows: rows.map((r) => ({
          ...r,
          ratio: r.rmqplay.median && r.ansible.median ? r.ansible.median / r.rmqplay.median : undefined,
        })),
      },
      null,
      1,
    ) + '\n',
  );
  say(`written to ${RESULTS}`);
}

let cleaned = false;
async function cleanUp(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  await closeMasters();
  rmSync(CONTROL_DIR, { recursive: true, force: true });
  if (!opts.keepLab && labCases) {
    const r = await timed('lab down', process.execPath, [CLI, 'lab', 'down']);
    if (r.code !== 0) say(`bench: lab down failed (exit ${r.code}): ${tail(r.out)}`);
  }
}

// ---- main
if (process.getuid?.() !== 0) {
  say('bench: run it as root (the lab mounts overlays and boots containers): sudo npm run bench');
  process.exit(5);
}
if (!existsSync(CLI) || !existsSync(FLOOR)) {
  say('bench: build first: npm ci && npm run build');
  process.exit(5);
}
mkdirSync(dirname(LOG), { recursive: true });
const started = new Date();
const t0 = performance.now();
const load0 = loadavg();
log(`\n##### npm run bench ${process.argv.slice(2).join(' ')} at ${started.toISOString()}\n`);
const what = `hosts ${opts.hosts.join(', ')}, cases ${[...opts.cases].join('')}`;
say(`npm run bench: ${opts.runs} run(s) per case, ${what}; the output of every run goes to ${LOG}`);
const bundled = existsSync(join(ROOT, 'dist/lib/cli-bundle.cjs'));
if (!bundled) say("bench: dist/lib/cli.js is tsc's output, not the bundle: npm run build makes the bundled CLI");
await ensurePackages();
const ansibleVersion = (await timed('ansible --version', 'ansible-playbook', ['--version'])).out.split('\n')[0];
say(`${ansibleVersion.trim()}, node ${process.version}, ${cpus().length} CPUs, load average ${loadString(load0)}`);

process.on('SIGINT', () => void cleanUp().then(() => process.exit(130)));
if (opts.cases.has('s')) await startup();
if (labCases) {
  say('lab: down first (it only grows, and the first case wants one host)');
  await labDown();
}
if (['a', 'b', 'c'].some((c) => opts.cases.has(c)))
  for (const n of opts.hosts) {
    say(`the 20 tasks on ${n} host(s)`);
    await labUp(n);
    await twentyCases(n);
  }
if (opts.cases.has('d') || opts.cases.has('e')) {
  say('the RabbitMQ site on 3 nodes');
  if (labHosts.length) await labDown();
  await siteCases();
}
await cleanUp();

report();
