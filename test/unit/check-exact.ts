// The exact-check property on this machine, without root and without the lab: for each small playbook in
// test/fixtures/check/, in a fresh folder, --check lists exactly the (host, task_id) pairs the real run then
// changes, reports nothing unknown and touches nothing; in three states: first run, converged, drifted.
// Each fixture says in its header what it asserts, its setup and drift (shell, run in the folder), and how many
// pairs the run changes first (changed), once converged (converged, default 0) and after the drift (drifted).
// Each fixture plays on its own host (hosts: cNN, a local connection with its folder as the host variable root),
// so one CLI call runs many (imported by a generated playbook): node starts 6 times per batch, not per case.
// A fixture with a "gap:" line shows a known inexactness: it asserts the gap is still there, so mending it fails the
// case until the line is deleted.
// CHECK_EXACT_SEPARATE=1 runs each case in its own CLI calls instead (slower; to tell cases apart).
import t from 'tap';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CLI, events, Ev, pairs } from '../helpers.js';

const DIR = 'test/fixtures/check';
// tap's own default (30 s) is too short on a busy machine (the whole takes about 20 s on an idle one); a call that
// hangs is stopped after a minute and fails its case with its output.
t.setTimeout(600_000);

interface Case {
  file: string;
  host: string;
  asserts: string;
  /** A known way check mode is not exact here, not yet mended: the case asserts it is still there. */
  gap?: string;
  setup?: string;
  drift: string;
  changed: number;
  converged: number;
  drifted: number;
}

/** The header comments of a fixture: "# key: value", a value going on over "#   " lines; and its host. */
function readCase(file: string): Case {
  const text = readFileSync(file, 'utf8');
  const head: Record<string, string> = {};
  let key = '';
  for (const line of text.split('\n')) {
    if (!line.startsWith('#')) break;
    const kv = /^# (\w[\w-]*): (.*)$/.exec(line);
    if (kv) {
      key = kv[1];
      head[key] = kv[2];
    } else if (key) head[key] += ' ' + line.replace(/^#\s+/, '');
  }
  const host = /^- hosts: (c\d+)$/m.exec(text)?.[1];
  if (!host || !head.asserts || !head.drift || head.changed === undefined || head.drifted === undefined)
    throw new Error(`${file}: needs "- hosts: cNN" and a header with asserts, drift, changed and drifted`);
  return {
    file,
    host,
    asserts: head.asserts,
    gap: head.gap,
    setup: head.setup,
    drift: head.drift,
    changed: Number(head.changed),
    converged: Number(head.converged ?? 0),
    drifted: Number(head.drifted),
  };
}

/** Every path under root with its type, mode, size, mtime and content (hash or link target), sorted. */
function listing(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const full = join(root, rel);
    const st = lstatSync(full);
    let what = '';
    if (st.isSymbolicLink()) what = '-> ' + readlinkSync(full);
    else if (st.isFile()) what = createHash('sha256').update(readFileSync(full)).digest('hex');
    out.push(`${rel || '.'} ${st.mode.toString(8)} ${st.size} ${st.mtimeMs} ${what}`);
    if (st.isDirectory()) for (const name of readdirSync(full).sort()) walk(join(rel, name));
  };
  walk('');
  return out;
}

interface Cli {
  status: number | null;
  stdout: string;
  stderr: string;
}
// Without tap's process-info hook (NODE_OPTIONS): it nearly doubles each call, and coverage is off.
const childEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && !k.startsWith('_TAPJS_PROCESSINFO')),
);

function cli(args: string[]): Promise<Cli> {
  return new Promise((done) => {
    const opts = { encoding: 'utf8' as const, timeout: 60_000, maxBuffer: 64 * 1024 * 1024, env: childEnv };
    execFile('node', [CLI, ...args], opts, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      done({ status: code, stdout, stderr });
    });
  });
}

/** One state of one case: what --check and the run said about its host, and its folder around the check. */
interface Phase {
  name: 'first' | 'converged' | 'drifted';
  check: Cli;
  run: Cli;
  checkFailed: string[];
  runFailed: string[];
  checkChanged: string[];
  runChanged: string[];
  unknown: string[];
  before: string[];
  after: string[];
}

const ofHost = (evs: Ev[], host: string) => evs.filter((e) => e.host === host);
/** This host's failures, with their messages. */
const failures = (evs: Ev[]) =>
  evs.filter((e) => e.status === 'failed' || e.status === 'unreachable').map((e) => `${e.task_id}: ${e.msg}`);

/** Cases in one CLI call per state: each in its own folder, on its own host. */
async function runBatch(batch: Case[]): Promise<Phase[][]> {
  const work = mkdtempSync(join(tmpdir(), 'rmqplay-check-'));
  const roots = batch.map((c) => join(work, c.host));
  const inventory = join(work, 'inventory.ini');
  const playbook = join(work, 'all.yml');
  const lines = batch.map((c, i) => `[${c.host}]\n${c.host} ansible_connection=local root=${roots[i]}\n`);
  writeFileSync(inventory, lines.join(''));
  writeFileSync(playbook, batch.map((c) => `- import_playbook: ${resolve(c.file)}\n`).join(''));
  const args = [playbook, '-i', inventory, '--json'];
  const out: Phase[][] = batch.map(() => []);
  const state = async (name: Phase['name']) => {
    const before = roots.map(listing);
    const check = await cli([...args, '--check']);
    const after = roots.map(listing);
    const run = await cli(args);
    const checkEvents = events(check.stdout);
    const runEvents = events(run.stdout);
    batch.forEach((c, i) => {
      const mine = ofHost(checkEvents, c.host);
      const ran = ofHost(runEvents, c.host);
      out[i].push({
        name,
        check,
        run,
        checkFailed: failures(mine),
        runFailed: failures(ran),
        checkChanged: pairs(mine, ['changed']),
        runChanged: pairs(ran, ['changed']),
        unknown: pairs(mine, ['unknown']),
        before: before[i],
        after: after[i],
      });
    });
  };
  try {
    batch.forEach((c, i) => {
      execFileSync('mkdir', [roots[i]]);
      if (c.setup) execFileSync('sh', ['-c', c.setup], { cwd: roots[i] });
    });
    await state('first');
    await state('converged');
    batch.forEach((c, i) => execFileSync('sh', ['-c', c.drift], { cwd: roots[i] }));
    await state('drifted');
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Runs f on every item, at most n at a time, keeping the order of the results. */
async function pool<A, B>(items: A[], n: number, f: (a: A) => Promise<B>): Promise<B[]> {
  const out: B[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

const cases = readdirSync(DIR)
  .filter((f) => f.endsWith('.yml'))
  .sort()
  .map((f) => readCase(join(DIR, f)));
const started = Date.now();
const separate = process.env.CHECK_EXACT_SEPARATE === '1';
// One batch per CPU (a batch is mostly one process at a time), or one per case.
const jobs = Math.max(2, availableParallelism());
const size = separate ? 1 : Math.ceil(cases.length / jobs);
const batches = Array.from({ length: Math.ceil(cases.length / size) }, (_, i) => cases.slice(i * size, (i + 1) * size));
const results = (await pool(batches, jobs, runBatch)).flat();
const seconds = (Date.now() - started) / 1000;

const tail = (r: Cli) => `${r.stderr}${r.stdout.split('\n').slice(-6).join('\n')}`;
cases.forEach((c, i) => {
  t.test(`${c.file}: ${c.asserts}`, async (t) => {
    const expected = { first: c.changed, converged: c.converged, drifted: c.drifted };
    for (const p of results[i]) {
      t.same(p.checkFailed, [], `${p.name}: --check fails nowhere`);
      t.same(p.runFailed, [], `${p.name}: the run fails nowhere`);
      t.same(p.unknown, [], `${p.name}: --check reports nothing unknown`);
      if (!c.gap) t.same(p.checkChanged, p.runChanged, `${p.name}: --check lists exactly the pairs the run changes`);
      else if (p.name === 'first')
        t.notSame(p.checkChanged, p.runChanged, `known gap, still there (when this fails, delete "gap:"): ${c.gap}`);
      t.same(p.after, p.before, `${p.name}: --check changed nothing in the folder`);
      t.equal(p.runChanged.length, expected[p.name], `${p.name}: the run changes ${expected[p.name]} pairs`);
    }
  });
});

t.test('every call exits 0; enough cases, fast enough', async (t) => {
  for (const p of results.flat()) {
    t.equal(p.check.status, 0, `${p.name}: --check exits 0 ${p.check.status ? tail(p.check) : ''}`);
    t.equal(p.run.status, 0, `${p.name}: the run exits 0 ${p.run.status ? tail(p.run) : ''}`);
  }
  const hosts = new Set(cases.map((c) => c.host));
  t.equal(hosts.size, cases.length, 'each case has a host of its own');
  t.ok(cases.length >= 15, `${cases.length} cases`);
  t.comment(`checked ${cases.length} cases (3 states each) in ${seconds.toFixed(1)} s`);
});
