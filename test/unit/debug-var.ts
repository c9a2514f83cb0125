// debug: var= reads an expression as Ansible does (it printed {} for `var=r.stdout`), and an undefined one
// prints Ansible's "VARIABLE IS NOT DEFINED!" instead of failing. Runs on this machine (implicit localhost).
import t from 'tap';
import { events, rmqplay } from '../helpers.js';

t.test('debug var: attribute, index, filter, undefined', async (t) => {
  const r = rmqplay(['test/fixtures/debug/var.yml', '--json']);
  t.equal(r.status, 0, r.stderr);
  const msgs = events(r.stdout)
    .filter((e) => e.task === 'debug')
    .map((e) => JSON.parse(String(e.msg)));
  t.same(msgs, [
    { 'r.stdout': 'hello' },
    { 'conf.nodes[1]': 'b' },
    { 'conf.nodes | length': 2 },
    { nosuch: 'VARIABLE IS NOT DEFINED!' },
  ]);
});
