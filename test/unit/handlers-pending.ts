// Handlers that survive a failed run, on this machine (two local hosts, each in its own folder): a template changes
// and notifies a handler, a later task fails on one host; the handler is saved in .rmqplay/handlers-<inventory>.json
// of the working folder and runs first in the next run, which says so, predicts it in --check, and clears the file.
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { events, Ev, pairs, rmqplay, runEvents } from '../helpers.js';
import { LocalHost } from '../../dist/lib/connection/local.js';
import { ConnectError } from '../../dist/lib/util/errors.js';
import { loadPlaybook } from '../../dist/lib/core/playbook.js';
import { loadInventories } from '../../dist/lib/core/inventory.js';
import { Scheduler } from '../../dist/lib/core/scheduler.js';
import { HandlersEvent } from '../../dist/lib/core/report.js';

// About ten CLI calls: tap's default 30 s is too short on a busy machine.
t.setTimeout(300_000);
const PB = resolve('test/fixtures/handlers/pending.yml');
const OTHER = resolve('test/fixtures/handlers/other.yml');
const SECRET = 's3cr3t-Pw-9071';

interface HandlersEv extends Ev {
  action?: string;
  handlers?: string[];
  file?: string;
}

function setup(): { cwd: string; base: string; state: string; run: (pb: string, ...args: string[]) => Run } {
  const cwd = mkdtempSync(join(tmpdir(), 'rmqplay-pending-'));
  writeFileSync(join(cwd, 'hosts.ini'), 'good ansible_connection=local\nbad ansible_connection=local\n');
  const base = join(cwd, 'w');
  const run = (pb: string, ...args: string[]) => {
    const r = rmqplay([pb, '-i', 'hosts.ini', '-e', `base=${base}`, ...args], { cwd });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, evs: events(r.stdout) as HandlersEv[] };
  };
  return { cwd, base, state: join(cwd, '.rmqplay', 'handlers-hosts.json'), run };
}
interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  evs: HandlersEv[];
}

const handlerEvents = (r: Run, action: string) => r.evs.filter((e) => e.event === 'handlers' && e.action === action);
const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');

t.test('a handler notified before a failure runs first in the next run, and only then is cleared', async (t) => {
  const { base, state, run } = setup();
  const first = run(PB, '-e', 'port=1', '-e', 'fail_on=bad', '--json');
  t.equal(first.status, 2, `a task failed: exit 2 ${first.stderr}`);
  t.equal(read(join(base, 'good', 'restarts')), 'restarted\n', 'the host that did not fail ran its handler');
  t.equal(read(join(base, 'bad', 'restarts')), '', 'the failed host did not run it');
  t.ok(existsSync(join(base, 'bad', 'app.conf')), 'its config did change');
  const saved = JSON.parse(read(state));
  t.same(Object.keys(saved.hosts), ['bad'], 'only the failed host is in the state file');
  t.same(saved.hosts.bad.notified, ['restart app']);
  t.notMatch(read(state), SECRET, 'no secret in the state file');
  t.notMatch(first.stdout + first.stderr, SECRET, 'nor in the output');
  t.same(
    handlerEvents(first, 'saved').map((e) => [e.host, e.handlers, e.file]),
    [['bad', ['restart app'], '.rmqplay/handlers-hosts.json']],
    'a --json event says what was saved, where',
  );

  // A playbook without that handler keeps it, and warns.
  const other = run(OTHER);
  t.equal(other.status, 0, other.stderr);
  t.match(other.stderr, /\[WARNING\]: pending handlers on bad: "restart app", left by a run of .*pending\.yml/);
  t.match(other.stderr, /this playbook has no handler of that name .*They stay in \.rmqplay\/handlers-hosts\.json/);
  t.same(JSON.parse(read(state)), saved, 'the state file is unchanged');

  // --check predicts the pending handler run and leaves the file as it is.
  const before = read(state);
  const check = run(PB, '-e', 'port=1', '-e', 'fail_on=none', '--json', '--check');
  t.equal(check.status, 0, check.stderr);
  t.same(
    handlerEvents(check, 'run').map((e) => [e.host, e.handlers]),
    [['bad', ['restart app']]],
    'check mode says it would run the pending handler',
  );
  t.equal(read(state), before, 'check mode does not touch the state file');
  t.equal(read(join(base, 'bad', 'restarts')), '', 'nor run the handler');

  const next = run(PB, '-e', 'port=1', '-e', 'fail_on=none', '--json');
  t.equal(next.status, 0, next.stderr);
  t.equal(read(join(base, 'bad', 'restarts')), 'restarted\n', 'the pending handler ran on the failed host');
  t.equal(read(join(base, 'good', 'restarts')), 'restarted\n', 'and not again on the other one');
  const onBad = next.evs.filter((e) => e.host === 'bad');
  t.equal(onBad[0].event, 'handlers', 'the first thing on that host is the line naming the pending handlers');
  t.same([onBad[1].task, onBad[1].status], ['restart app', 'changed'], 'then the handler, before any task');
  t.same(
    pairs(check.evs, ['changed', 'unknown']),
    pairs(next.evs, ['changed']),
    'exact check: the (host, task) pairs --check predicted are those the run changed',
  );
  t.same(
    handlerEvents(next, 'cleared').map((e) => e.host),
    ['bad'],
    'a --json event says the host was cleared',
  );
  t.notOk(existsSync(state), 'the state file is removed when nothing is pending');

  const text = run(PB, '-e', 'port=2', '-e', 'fail_on=bad');
  t.equal(text.status, 2);
  t.match(text.stdout, /handlers not run on bad: "restart app"; saved in \.rmqplay\/handlers-hosts\.json/);
  const textNext = run(PB, '-e', 'port=2', '-e', 'fail_on=none');
  t.match(
    textNext.stdout,
    new RegExp(
      String.raw`PENDING HANDLERS \[bad\]: "restart app", left pending by a run of .*pending\.yml at \S+ ` +
        String.raw`\(\.rmqplay/handlers-hosts\.json\): running them first\n\nRUNNING HANDLER \[restart app\]`,
    ),
    'the text output names the handlers and the host, before it runs them',
  );
  t.match(textNext.stdout, /pending handlers done on bad: "restart app"; cleared from \.rmqplay\/handlers-hosts\.json/);
  t.equal(read(join(base, 'bad', 'restarts')), 'restarted\nrestarted\n');
});

t.test('--force-handlers runs them in the same run and saves nothing', async (t) => {
  const { base, state, run } = setup();
  const r = run(PB, '-e', 'port=1', '-e', 'fail_on=bad', '--json', '--force-handlers');
  t.equal(r.status, 2, r.stderr);
  t.equal(read(join(base, 'bad', 'restarts')), 'restarted\n', 'the handler ran on the failed host');
  t.notOk(existsSync(state), 'nothing left pending');
  t.same(handlerEvents(r, 'saved'), []);
});

t.test('a handler that fails stays pending', async (t) => {
  const { base, state, run } = setup();
  const first = run(PB, '-e', 'port=1', '-e', 'fail_on=bad');
  t.equal(first.status, 2);
  // The handler's output file is a folder now: the handler fails in the next run.
  mkdirSync(join(base, 'bad', 'restarts'));
  const next = run(PB, '-e', 'port=1', '-e', 'fail_on=none', '--json');
  t.equal(next.status, 2, 'the handler failed: exit 2');
  t.same(JSON.parse(read(state)).hosts.bad.notified, ['restart app'], 'it is still pending');
});

t.test('a bad state file is bad input, naming the file', async (t) => {
  const { cwd, run } = setup();
  const dir = join(cwd, '.rmqplay');
  mkdirSync(dir);
  writeFileSync(join(dir, 'handlers-hosts.json'), '{"hosts": ');
  const r = run(PB, '-e', 'port=1', '-e', 'fail_on=none');
  t.equal(r.status, 4, r.stderr);
  t.match(r.stderr, /handlers-hosts\.json: not valid JSON .*delete it to drop them/);
});

t.test('a host cut off after a notification keeps it for the next run (in-process, a host that drops)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-cut-'));
  const pbFile = join(dir, 'pb.yml');
  writeFileSync(
    pbFile,
    [
      '- hosts: all',
      '  tasks:',
      '    - { copy: { content: "x", dest: "{{ root }}/conf" }, notify: reload }',
      '    - { command: echo cut-here, changed_when: false }',
      '  handlers:',
      '    - name: reload',
      '      shell: echo reloaded >> {{ root }}/reloads',
      '',
    ].join('\n'),
  );
  const invFile = join(dir, 'hosts.ini');
  writeFileSync(invFile, 'h1 ansible_connection=local\n');
  const state = join(dir, '.rmqplay', 'handlers-hosts.json');
  const seen: HandlersEvent[] = [];
  const events = runEvents({ handlers: (e: HandlersEvent) => seen.push(e) });
  // The connection drops at the second task, as a host that goes away does.
  const cut = async (name: string) => {
    const host = new LocalHost(name);
    const run = host.run.bind(host);
    host.run = (script: string, o?: Parameters<typeof run>[1]) => {
      if (script.includes('cut-here')) throw new ConnectError(name, 'connection reset (test)');
      return run(script, o);
    };
    return host;
  };
  const opts = { check: false, diff: false, tags: [], skipTags: [], forks: 5, forceHandlers: false };
  const run = (connect?: typeof cut) =>
    new Scheduler(
      loadPlaybook(pbFile),
      loadInventories([invFile]),
      { ...opts, extraVars: { root: dir }, handlerState: state, connect },
      events,
    ).run();
  t.same(await run(cut), { failed: false, unreachable: true }, 'the host was cut off');
  t.same(JSON.parse(readFileSync(state, 'utf8')).hosts.h1.notified, ['reload'], 'its notification is saved');
  t.notOk(existsSync(join(dir, 'reloads')), 'the handler did not run');
  t.same(await run(), { failed: false, unreachable: false }, 'the next run, the host back');
  t.equal(readFileSync(join(dir, 'reloads'), 'utf8'), 'reloaded\n', 'ran the handler');
  t.same(
    seen.map((e) => `${e.action} ${e.host} ${e.notified}`),
    ['saved h1 reload', 'run h1 reload', 'cleared h1 reload'],
  );
  t.notOk(existsSync(state));
});
