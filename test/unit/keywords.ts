// Task keywords on this machine, through the CLI: environment, args, block and task vars, no_log,
// become, remote_user, local_action, delegate_to, throttle, roles, include_vars, include_tasks, include.
import t from 'tap';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { events, recap, rmqplay } from '../helpers.js';

const INV = 'test/fixtures/keywords/inventory.ini';

t.test('keywords', async (t) => {
  const base = join(mkdtempSync(join(tmpdir(), 'rmqplay-kw-')), 'w');
  const r = rmqplay(['test/fixtures/keywords/keywords.yml', '-i', INV, '-e', `base=${base}`, '--json']);
  t.equal(r.status, 0, r.stderr);
  const read = (f: string) => readFileSync(join(base, f), 'utf8');
  const written: [string, string, string][] = [
    ['env', 'hello world play\n', 'environment: the task mapping (templated) and the play'],
    ['proxy', 'http://proxy:3128\n', 'environment from a templated variable'],
    ['args', 'from args\n', 'args'],
    ['vars', 'blue-dark\n', 'block vars, task vars over them'],
    ['become', 'root\n', 'become_user through sudo'],
    ['local', 'controller', 'local_action'],
    ['delegated', 'delegated\n', 'delegate_to: localhost'],
    ['role-other', 'alt given\n', 'import_role (k=v form): tasks_from, defaults_from, vars'],
    ['role-main', 'hi\n', 'include_role'],
    ['role-handler', 'handled\n', "the role's handler ran"],
    ['included', 'one world first second\n', 'include_vars: file (templated values), dir and name'],
    ['sub', 'sub\nsub\n', 'include_tasks with a templated name, and the legacy include'],
  ];
  for (const [file, content, what] of written) t.equal(read(file), content, what);
  t.equal(read('loop-p') + read('loop-q'), 'p\nq\n', 'include_tasks in a loop');
  t.match(r.stderr, /\[WARNING\]: .*keywords\.yml:\d+:\d+: "include:" was removed in ansible-core 2\.16/);
  t.match(r.stderr, /write include_tasks: .* or import_tasks: /, 'says what to write instead');
  const evs = events(r.stdout);
  const secret = evs.find((e) => e.task === 'secret');
  t.notMatch(JSON.stringify(secret), /s3cr3t/, 'no_log hides the message');
  const rc = recap(evs);
  for (const h of ['h1', 'h2', 'h3']) t.equal(rc[h].failed, 0, `throttle: 1 ran ${h} alone (the lock never clashed)`);
  const again = rmqplay(['test/fixtures/keywords/keywords.yml', '-i', INV, '-e', `base=${base}`, '--json', '--check']);
  t.equal(again.status, 0, again.stderr);
  const changed = events(again.stdout).filter((e) => e.event === 'task' && e.status === 'changed');
  const names = [...new Set(changed.map((e) => e.task))].sort();
  // Commands always report a change; every file the run wrote is converged.
  t.ok(
    names.every((n) => /environment|become|delegated|in sub|one host/.test(n!)),
    `check mode after a run changes only commands: ${names}`,
  );
});

t.test('keywords that are bad input', async (t) => {
  const become = rmqplay(['test/fixtures/keywords/bad-become.yml', '-i', INV]);
  t.equal(become.status, 4, 'become_method: su is bad input');
  t.match(become.stderr, /bad-become\.yml:8:7: become_method: su is not supported: rmqplay becomes through sudo only/);
  const inc = rmqplay(['test/fixtures/keywords/bad-include.yml', '-i', INV, '--json']);
  t.equal(inc.status, 2, 'a bad file named at run time fails the host');
  const failed = events(inc.stdout).find((e) => e.status === 'failed');
  t.match(failed?.msg, /broken\.yml:2:\d+: .*bogus/, 'with the file:line of the problem');
  t.notOk(
    events(inc.stdout).some((e) => e.task === 'not reached'),
    'the host stops there',
  );
});
