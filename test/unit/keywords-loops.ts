// with_* loops and loop_control on this machine, through the CLI: the items and messages of --json.
import t from 'tap';
import { resolve } from 'node:path';
import { events, rmqplay } from '../helpers.js';

t.test('every with_ loop gives the items Ansible gives', async (t) => {
  const r = rmqplay(['test/fixtures/keywords/loops.yml', '-i', 'test/fixtures/keywords/inventory.ini', '--json']);
  t.equal(r.status, 0, r.stderr);
  const evs = events(r.stdout).filter((e) => e.event === 'task');
  const items = (task: string) => evs.filter((e) => e.task === task).map((e) => e.item);
  const msgs = (task: string) => evs.filter((e) => e.task === task).map((e) => e.msg);
  t.same(items('items'), [1, 2, 3], 'with_items flattens one level');
  t.same(items('list'), [[1, 2], 3], 'with_list keeps the lists');
  t.same(msgs('dict'), ['x=1', 'y=2'], 'with_dict: key and value');
  t.same(msgs('nested'), ['1a', '1b', '2a', '2b'], 'with_nested: every combination');
  t.same(
    items('together'),
    [
      [1, 'a'],
      [2, 'b'],
      [3, null],
    ],
    'with_together: zipped, the short list filled',
  );
  t.same(items('sequence'), ['n01', 'n03', 'n05'], 'with_sequence: start=1 end=5 stride=2 format');
  t.same(items('sequence count'), ['0', '1', '2'], 'with_sequence: a mapping with count');
  t.same(msgs('subelements'), ['ann:k1', 'ann:k2', 'bob:k3'], 'with_subelements, skip_missing');
  const globs = resolve('test/fixtures/keywords/globs');
  t.same(items('fileglob'), [`${globs}/a.txt`, `${globs}/b.txt`], 'with_fileglob on the controller');
  t.same(items('first found'), [`${globs}/b.txt`], 'with_first_found: the first that exists');
  t.same(msgs('loop control'), ['0:a', '1:b'], 'loop_var and index_var');
  t.same(items('loop control'), ['L0', 'L1'], 'the label is shown instead of the item');
});

t.test('bad loops are bad input before connecting', async (t) => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-kw-'));
  const pb = join(dir, 'pb.yml');
  const task = (loop: string) =>
    `- hosts: here\n  gather_facts: false\n  tasks:\n    - debug: { msg: x }\n      ${loop}\n`;
  const cases: [string, RegExp][] = [
    ['with_random_choice: [a, b]', /unknown loop "with_random_choice"/],
    ['with_first_found: [nothere.txt]', /with_first_found: none of nothere.txt found/],
    ['with_items: [a]\n      loop: [b]', /a task has one loop/],
  ];
  for (const [loop, re] of cases) {
    writeFileSync(pb, task(loop));
    const r = rmqplay([pb, '-i', 'test/fixtures/keywords/inventory.ini']);
    t.equal(r.status, 4, `${loop}: exit 4`);
    t.match(r.stderr, re, loop);
    t.match(r.stderr, /pb\.yml:\d+:\d+/, 'with file:line');
  }
});
