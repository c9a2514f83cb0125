// Issue 10, inventory parity with Ansible: host:port, letter and stepped ranges, IPv6 with a port, and
// `-i host1,host2,` lists read as Debian's ansible-inventory reads them; bad inventories are bad input
// (exit 4, the file, and the line for INI); nothing is run.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { rmqplay } from '../helpers.js';
import { loadInventories } from '../../dist/lib/core/inventory.js';

/** Every host of every group, with its variables, as ansible-inventory --list prints them. */
function theirHosts(inv: string): Record<string, Record<string, unknown>> {
  const out = JSON.parse(execFileSync('ansible-inventory', ['-i', inv, '--list'], { encoding: 'utf8' }));
  const hosts: Record<string, Record<string, unknown>> = {};
  for (const [g, body] of Object.entries(out) as [string, { hosts?: string[] }][]) {
    if (g !== '_meta') for (const h of body.hosts ?? []) hosts[h] = out._meta.hostvars[h] ?? {};
  }
  return hosts;
}

t.test('host:port, ranges and IPv6 as ansible-inventory reads them', async (t) => {
  for (const inv of ['test/fixtures/inventory/parity/hosts.ini', 'test/fixtures/inventory/parity/hosts.yml']) {
    const theirs = theirHosts(inv);
    const ours = loadInventories([inv]);
    t.same([...ours.hosts.keys()].sort(), Object.keys(theirs).sort(), `${inv}: the same hosts`);
    for (const [h, vars] of Object.entries(theirs)) t.same(ours.hostVars(h), vars, `${inv}: ${h}'s variables`);
  }
});

t.test('-i host1,host2:2200, is a list of hosts', async (t) => {
  const list = 'h1,h2:2200,';
  const theirs = JSON.parse(execFileSync('ansible-inventory', ['-i', list, '--list'], { encoding: 'utf8' }));
  const ours = loadInventories([list]);
  t.same([...ours.hosts.keys()], theirs.ungrouped.hosts);
  t.same(ours.hostVars('h2'), theirs._meta.hostvars.h2);
});

const BAD: [string, RegExp][] = [
  ['unclosed.ini', /unclosed\.ini:1:1: unclosed or invalid section header "\[g"/],
  ['port-text.ini', /port-text\.ini:2:1: the port of "h1:abc" must be a number from 1 to 65535/],
  ['port-range.ini', /port-range\.ini:2:1: the port of "h1:99999" must be a number from 1 to 65535/],
  ['hosts-list.yml', /hosts-list\.yml:\d+:\d+: "hosts" of group "all" must be a mapping/],
  ['cycle.ini', /cycle\.ini: group "a" contains itself through its children: a → b → a/],
];

t.test('bad inventories: exit 4, the file (and line), nothing run', async (t) => {
  for (const [file, why] of BAD) {
    const r = rmqplay(['test/fixtures/core/twenty.yml', '-i', `test/fixtures/inventory/bad/${file}`]);
    t.equal(r.status, 4, `${file}: exit 4`);
    t.match(r.stderr, why, `${file}: says where and why`);
    t.match(r.stderr, /Nothing was run on any host/);
  }
});
