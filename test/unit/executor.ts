// The executor and the scheduler in-process, with hosts that are not SSH: the local Host in a temporary
// folder behind the scheduler's `connect` option. Typed outcomes, check mode's pending overlay, loops,
// arguments validated again after rendering, and one connection per host.
import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalHost } from '../../dist/lib/connection/local.js';
import { Pending } from '../../dist/lib/modules/pending.js';
import { RunShared } from '../../dist/lib/modules/task.js';
import { loadPlaybook } from '../../dist/lib/core/playbook.js';
import { loadInventories } from '../../dist/lib/core/inventory.js';
import { ItemOutcome, runOnHost, ExecEnv, HostRun } from '../../dist/lib/core/executor.js';
import { InventoryVars, PlayVars } from '../../dist/lib/core/variables.js';
import { Scheduler } from '../../dist/lib/core/scheduler.js';
import { TaskEvent } from '../../dist/lib/core/report.js';
import { runEvents } from '../helpers.js';

function setup(tasksYaml: string, extraVars: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-exec-'));
  const pbFile = join(dir, 'pb.yml');
  writeFileSync(pbFile, `- hosts: all\n  tasks:\n${tasksYaml}`);
  const invFile = join(dir, 'hosts.ini');
  writeFileSync(invFile, 'h1 ansible_connection=local\nh2 ansible_connection=local\n');
  const pb = loadPlaybook(pbFile);
  const inv = loadInventories([invFile]);
  return { dir, pb, inv, extraVars: { root: dir, ...extraVars } };
}

function executorFor(s: ReturnType<typeof setup>, check: boolean) {
  const play = s.pb.plays[0];
  const facts: Record<string, Record<string, unknown>> = { h1: {}, h2: {} };
  const pending: Record<string, Pending> = { h1: new Pending(), h2: new Pending() };
  const flags = { check, diff: false, forks: 5, playbookDir: s.pb.dir, extraVars: s.extraVars, extraData: {} };
  const hostFacts = { facts: (h: string) => facts[h], activeHosts: () => ['h1', 'h2'] };
  const vars = new PlayVars(new InventoryVars(s.inv), play, ['h1', 'h2'], flags, hostFacts);
  const env: ExecEnv = {
    check,
    play,
    vars,
    playbookDir: s.pb.dir,
    connection: async () => new LocalHost(),
    pendingOf: (h: string) => pending[h],
    shared: new RunShared(),
  };
  const hr: HostRun = { name: 'h1', host: new LocalHost('h1'), pending: pending.h1, facts: facts.h1 };
  const run = async (i: number) => {
    const items: ItemOutcome[] = [];
    const out = await runOnHost(play.sections[1][i], hr, env, (o: ItemOutcome) => items.push(o));
    return { out, items };
  };
  return { run, hr, pending, env };
}

t.test('executor: typed outcomes for ok, changed, skipped, failed and ignored', async (t) => {
  const s = setup(
    [
      '    - file: { path: "{{ root }}/d", state: directory }',
      '    - file: { path: "{{ root }}/d", state: directory }',
      '    - file: { path: "{{ root }}/never", state: directory }',
      '      when: false',
      '    - command: /bin/false',
      '    - command: /bin/false',
      '      ignore_errors: true',
    ].join('\n') + '\n',
  );
  const ex = executorFor(s, false);
  const first = await ex.run(0);
  t.equal(first.out.status, 'changed', 'a new directory: changed');
  t.same(first.items[0].changes.length, 1, 'one change, reported with the item');
  t.equal((await ex.run(1)).out.status, 'ok', 'the same directory again: ok');
  const skipped = await ex.run(2);
  t.equal(skipped.out.status, 'skipped');
  t.match(skipped.items[0].reason, /conditional result was false \(when: false\)/);
  const failed = await ex.run(3);
  t.equal(failed.out.status, 'failed');
  t.equal(failed.out.ignored, false);
  const ignored = await ex.run(4);
  t.equal(ignored.out.status, 'failed');
  t.equal(ignored.out.ignored, true, 'ignore_errors marks the failure as ignored');
});

t.test('executor: what the run shares is read again after any change applied, kept otherwise', async (t) => {
  const s = setup(
    [
      '    - file: { path: "{{ root }}/d", state: directory }',
      '    - file: { path: "{{ root }}/d", state: directory }',
      '    - command: /bin/false',
      '      register: r',
      '      until: r.rc == 0',
      '      retries: 1',
      '      delay: 0',
      '      ignore_errors: true',
    ].join('\n') + '\n',
  );
  const ex = executorFor(s, false);
  let reads = 0;
  const read = () => ex.env.shared.get('node', async () => ++reads);
  t.equal(await read(), 1, 'first read');
  t.equal(await read(), 1, 'kept: read once');
  t.equal((await ex.run(0)).out.status, 'changed');
  t.equal(await read(), 2, 'a change was applied (a new directory): read again');
  t.equal((await ex.run(1)).out.status, 'ok');
  t.equal(await read(), 2, 'nothing applied: kept');
  await ex.run(2);
  t.equal(await read(), 3, 'a retry waits for the world to change: read again');
  const both = await Promise.all([ex.env.shared.get('other', async () => ++reads), read()]);
  t.same(both, [4, 3], 'tasks asking at once share one read per key');
  let failures = 0;
  const failing = () =>
    ex.env.shared.get('bad', async () => {
      failures++;
      throw new Error('no answer');
    });
  await t.rejects(failing());
  await t.rejects(failing());
  t.equal(failures, 2, 'a failed read is not kept');
  const check = executorFor(s, true);
  let checkReads = 0;
  await check.env.shared.get('node', async () => ++checkReads);
  t.equal((await check.run(0)).out.status, 'ok', 'check mode: the directory exists now');
  await check.env.shared.get('node', async () => ++checkReads);
  t.equal(checkReads, 1, 'check mode applies nothing: read once');
});

t.test('executor: check mode records pending changes and touches nothing', async (t) => {
  const s = setup(
    [
      '    - file: { path: "{{ root }}/a/b", state: directory }',
      '    - copy: { content: "x\\n", dest: "{{ root }}/a/b/f" }',
      '    - copy: { content: "x\\n", dest: "{{ root }}/a/b/f" }',
    ].join('\n') + '\n',
  );
  const ex = executorFor(s, true);
  t.equal((await ex.run(0)).out.status, 'changed');
  t.equal((await ex.run(1)).out.status, 'changed', 'a file in a folder that a pending task creates');
  t.notOk(ex.pending.h1.empty === true, 'the overlay holds the pending changes');
  t.throws(() => readFileSync(join(s.dir, 'a/b/f')), 'nothing was written');
  const real = executorFor(s, false);
  t.equal((await real.run(0)).out.status, 'changed');
  t.equal((await real.run(1)).out.status, 'changed');
  t.equal((await real.run(2)).out.status, 'ok', 'the real run converges');
  t.equal(readFileSync(join(s.dir, 'a/b/f'), 'utf8'), 'x\n');
});

t.test('executor: a loop registers every item and reports the loop as a whole', async (t) => {
  const s = setup(
    [
      '    - copy: { content: "{{ item }}\\n", dest: "{{ root }}/{{ item }}" }',
      '      loop: [red, green]',
      '      register: colors',
    ].join('\n') + '\n',
  );
  const ex = executorFor(s, false);
  const { out, items } = await ex.run(0);
  t.same(
    items.map((i) => i.item?.value),
    ['red', 'green'],
  );
  t.equal(out.status, 'changed');
  const reg = ex.hr.facts.colors as { results: { item: string; changed: boolean }[]; changed: boolean };
  t.same(
    reg.results.map((r) => [r.item, r.changed]),
    [
      ['red', true],
      ['green', true],
    ],
  );
  t.equal(reg.changed, true);
});

t.test('executor: rendered arguments are validated again (a templated state that is not allowed)', async (t) => {
  const s = setup('    - file: { path: "{{ root }}/x", state: "{{ wanted }}" }\n', { wanted: 'sideways' });
  const ex = executorFor(s, false);
  const { out, items } = await ex.run(0);
  t.equal(out.status, 'failed');
  t.match(items[0].msg, /file: after rendering, "state": must be one of: file, directory, absent, touch, link/);
});

t.test('scheduler: one connection per host through the connect option, typed events, the run end', async (t) => {
  const s = setup(
    [
      '    - copy: { content: "{{ inventory_hostname }}\\n", dest: "{{ root }}/{{ inventory_hostname }}" }',
      '    - command: "test {{ inventory_hostname }} = h1"',
    ].join('\n') + '\n',
  );
  const connected: string[] = [];
  const connect = async (name: string, vars: Record<string, unknown>) => {
    connected.push(`${name}:${vars.ansible_connection}`);
    return new LocalHost(name);
  };
  const lines: TaskEvent[] = [];
  const done: string[] = [];
  const events = runEvents({
    result: (e: TaskEvent) => lines.push(e),
    hostDone: (h: string, status: string) => done.push(`${h} ${status}`),
  });
  const opts = { check: false, diff: false, tags: [], skipTags: [], extraVars: s.extraVars, forks: 5 };
  const sched = new Scheduler(s.pb, s.inv, { ...opts, forceHandlers: false, connect }, events);
  const end = await sched.run();
  t.same(connected.sort(), ['h1:local', 'h2:local'], 'one connection per host, with its connection variables');
  t.same(end, { failed: true, unreachable: false }, 'a task failed on h2');
  t.same(done.sort(), ['h1 changed', 'h1 changed', 'h2 changed', 'h2 failed']);
  t.equal(readFileSync(join(s.dir, 'h2'), 'utf8'), 'h2\n');
  t.equal(lines.length, 4, 'one result line per task and host');
});

t.test('scheduler: a notification runs the handler of that name and every handler listening to it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-listen-'));
  const pbFile = join(dir, 'pb.yml');
  const handler = (name: string, extra = '') =>
    `    - name: ${name}\n${extra}      shell: echo ${name} >> "{{ root }}/ran"\n`;
  writeFileSync(
    pbFile,
    [
      '- hosts: all',
      '  tasks:',
      '    - copy: { content: "x", dest: "{{ root }}/f" }',
      '      notify: reload',
      '  handlers:',
      handler('reload') + handler('also on reload', '      listen: reload\n') + handler('never'),
    ].join('\n'),
  );
  const invFile = join(dir, 'hosts.ini');
  writeFileSync(invFile, 'h1 ansible_connection=local\n');
  const events = runEvents();
  const opts = { check: false, diff: false, tags: [], skipTags: [], forks: 5, forceHandlers: false };
  const sched = new Scheduler(
    loadPlaybook(pbFile),
    loadInventories([invFile]),
    { ...opts, extraVars: { root: dir } },
    events,
  );
  t.same(await sched.run(), { failed: false, unreachable: false });
  t.equal(readFileSync(join(dir, 'ran'), 'utf8'), 'reload\nalso on reload\n', 'both ran, once each, in order');
});
