// Reads run ahead (issue 11, lib/core/lookahead.ts): when a read kept for a task may be used, and, through the
// local host in a temporary folder, playbooks whose every task would go wrong on a read made stale by the task
// before it (a change applied, a change recorded in check mode, a variable set, a loop item written).
import t from 'tap';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lookahead } from '../../dist/lib/core/lookahead.js';
import { events, recap, rmqplay } from '../helpers.js';

t.test('Lookahead: a read is used once, with the same key, when nothing changed since it began', async (t) => {
  const ahead = new Lookahead();
  let reads = 0;
  const read = () => Promise.resolve(++reads);
  ahead.start('h1', 'task', 'k', read);
  ahead.start('h1', 'task', 'k', read);
  t.equal(reads, 1, 'the same read is not started twice');
  t.equal(await ahead.take('h1', 'task', 'k'), 1, 'taken with its key');
  t.equal(ahead.take('h1', 'task', 'k'), undefined, 'used once');
  ahead.start('h1', 'task', 'k', read);
  t.equal(ahead.take('h1', 'task', 'other'), undefined, 'another key (arguments rendered otherwise): not used');
  ahead.start('h1', 'a', 'k', read);
  ahead.start('h2', 'a', 'k', read);
  ahead.changedHost('h1');
  t.equal(ahead.take('h1', 'a', 'k'), undefined, 'a change on h1 drops its reads');
  t.ok(ahead.take('h2', 'a', 'k'), 'and keeps the other host reads');
  ahead.beginChange('h1');
  ahead.start('h1', 'b', 'k', read);
  t.notOk(ahead.has('h1', 'b'), 'no read starts while a change is being applied');
  ahead.endChange('h1');
  ahead.start('h1', 'b', 'k', read);
  ahead.start('h2', 'b', 'k', read);
  ahead.changedVars();
  t.notOk(ahead.has('h1', 'b') || ahead.has('h2', 'b'), 'a variable set anywhere drops every read');
  const failed = new Lookahead();
  failed.start('h1', 'x', 'k', () => Promise.reject(new Error('no such file')));
  await t.rejects(failed.take('h1', 'x', 'k')!, /no such file/, 'a failed read is handed over as it is');
});

const run = (base: string, extra: string[] = []) => {
  const fixture = 'test/fixtures/lookahead/stale.yml';
  const args = [fixture, '-i', 'test/fixtures/local/inventory.ini', '-e', `base=${base}`, '--json', ...extra];
  const r = rmqplay(args);
  const statuses = Object.fromEntries(
    events(r.stdout)
      .filter((e) => e.event === 'task')
      .map((e) => [e.item === undefined ? e.task : `${e.task} ${e.item}`, e.status]),
  );
  return { r, statuses };
};

t.test('reads run ahead on the local host: a stale one is never used', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'rmqplay-lookahead-'));
  const check = run(base, ['--check']);
  t.equal(check.r.status, 0, check.r.stderr);
  const first = run(base);
  t.equal(first.r.status, 0, first.r.stderr);
  t.same(
    first.statuses,
    {
      'write x': 'changed',
      'x again': 'ok',
      'set a fact': 'ok',
      'a template that reads the fact': 'changed',
      'a command makes z': 'changed',
      'z is a file': 'ok',
      'a line in z': 'changed',
      'the same line': 'ok',
      'files in a loop, twice the same l1': 'ok',
    },
    'each task saw what the task before it did',
  );
  const loop = events(first.r.stdout).filter((e) => e.task === 'files in a loop, twice the same');
  t.same(
    loop.map((e) => e.status),
    ['changed', 'ok'],
    'the second loop item saw the first one written',
  );
  t.equal(readFileSync(join(base, 'w'), 'utf8'), 'two\n', 'the template was rendered with the fact set before it');
  t.equal(readFileSync(join(base, 'z'), 'utf8'), 'zed\n');
  const predicted = Object.entries(check.statuses).filter(([, s]) => s === 'changed' || s === 'unknown');
  const changed = Object.entries(first.statuses).filter(([, s]) => s === 'changed');
  t.same(
    predicted.map(([k]) => k).filter((k) => !k.startsWith('files in a loop')),
    changed.map(([k]) => k).filter((k) => !k.startsWith('files in a loop')),
    '--check listed exactly the tasks the run then changed',
  );
  const again = run(base);
  t.equal(again.r.status, 0, again.r.stderr);
  t.equal(recap(events(again.r.stdout)).localhost?.changed, 0, 'the second run changes nothing');
});
