// Compatibility is measured: Debian's ansible-inventory and ansible-playbook --list-hosts read the
// same fixtures, and their hosts, groups and merged variables must equal rmqplay's.
// (inventory/lab.yml is compared the same way in test/e2e/01-lab.ts, once the lab is up.)
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventories } from '../../dist/lib/core/inventory.js';
import { matchHosts } from '../../dist/lib/core/patterns.js';
import { compareWithAnsible } from '../helpers.js';

for (const f of ['test/fixtures/inventory/ini/hosts.ini', 'test/fixtures/inventory/yaml/hosts.yml']) {
  t.test(`ansible-inventory --list agrees on ${f}`, async (t) => compareWithAnsible(t, f));
}

t.test('ansible-playbook --list-hosts agrees on patterns', async (t) => {
  const inv = 'test/fixtures/inventory/ini/hosts.ini';
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-pat-'));
  const ours = loadInventories([inv]);
  for (const pattern of ['all', 'web', 'prod:!db', 'web:&db', 'web0*', 'db1:lonely', 'prod:!web01', 'ungrouped']) {
    const pb = join(dir, 'pb.yml');
    writeFileSync(pb, `- hosts: "${pattern}"\n  gather_facts: false\n  tasks: []\n`);
    const out = execFileSync('ansible-playbook', ['-i', inv, pb, '--list-hosts'], { encoding: 'utf8' });
    const theirs = out
      .split('\n')
      .filter((l) => /^ {6}\S/.test(l))
      .map((l) => l.trim())
      .sort();
    t.ok(theirs.length > 0, `ansible lists hosts for ${pattern}`);
    t.same(matchHosts(ours, pattern).sort(), theirs, `pattern ${pattern}`);
  }
});
