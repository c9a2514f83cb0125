// The runner's control flow on this machine through the local Host (zx): loops, when, register,
// set_fact, tags, block/rescue/always, failed_when, until/retries, handlers in definition order.
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { events, recap, rmqplay } from '../helpers.js';

t.test('runner features on the local host', async (t) => {
  const base = join(mkdtempSync(join(tmpdir(), 'rmqplay-local-')), 'w');
  const r = rmqplay([
    'test/fixtures/local/features.yml',
    '-i',
    'test/fixtures/local/inventory.ini',
    '-e',
    `base=${base}`,
    '--json',
  ]);
  t.equal(r.status, 0, `exit 0 (rescued and ignored failures do not fail the run) ${r.stderr}`);
  const evs = events(r.stdout);
  t.same(readFileSync(join(base, 'red'), 'utf8'), 'red\n', 'loop item written');
  t.ok(existsSync(join(base, 'green')));
  t.notOk(existsSync(join(base, 'never')), 'when: false skipped the task');
  t.notOk(existsSync(join(base, 'tagged')), 'tags: [never] skipped');
  t.notOk(existsSync(join(base, 'not-reached')), 'the block stopped at its failure');
  t.ok(existsSync(join(base, 'rescued')) && existsSync(join(base, 'always')), 'rescue and always ran');
  t.equal(readFileSync(join(base, 'count'), 'utf8').trim(), '3', 'until retried to the third attempt');
  t.equal(
    readFileSync(join(base, 'handlers'), 'utf8'),
    'first\nsecond\n',
    'handlers ran once each, in definition order',
  );
  const rc = recap(evs).localhost;
  t.equal(rc.rescued, 1, 'recap counts the rescue');
  t.equal(rc.ignored, 1, 'recap counts the ignored failure');
  t.equal(rc.failed, 0);
  const items = evs.filter((e) => e.task === 'a file per color').map((e) => e.item);
  t.same(items, ['red', 'green'], 'one event per loop item, with the item');
  const again = rmqplay([
    'test/fixtures/local/features.yml',
    '-i',
    'test/fixtures/local/inventory.ini',
    '-e',
    `base=${base}`,
    '--json',
    '--skip-tags',
    'x',
  ]);
  const h = events(again.stdout).filter((e) => e.task?.endsWith('handler'));
  t.same(h, [], 'nothing changed the second time: no handler ran');
});
