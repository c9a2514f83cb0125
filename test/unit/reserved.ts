// Variables with names Ansible reserves (issue 9): Ansible's warning, once per name, with file:line, for
// the same variables Ansible warns about (play vars, vars_files, the play's roles' defaults and vars, an
// imported role's, -e); never for the inventory's, a task's or a block's. Nothing fails.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { RESERVED_NAMES, reservedNames } from '../../dist/lib/core/reserved.js';
import { CLI } from '../helpers.js';

const DIR = 'test/fixtures/reserved';
const ARGS = ['playbook.yml', '-i', 'inventory.ini', '-e', 'action=1', '-e', 'range=2'];
const WARNING = /^\[WARNING\]: (?:(.+?): )?Found variable using reserved name: (\w+)$/gm;

/** Each warned name with where it was said to be (Ansible: no place). */
function warned(stderr: string): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const m of stderr.matchAll(WARNING)) {
    if (out.has(m[2])) throw new Error(`${m[2]} warned about twice`);
    out.set(m[2], m[1]);
  }
  return out;
}

const WANT: Record<string, string> = {
  action: '-e',
  range: '-e',
  environment: 'playbook.yml:7:5',
  port: 'playbook.yml:8:5',
  serial: 'vf.yml:1:1',
  timeout: 'playbook.yml:13:9',
  delay: 'roles/r/defaults/main.yml:1:1',
  retries: 'roles/r/vars/main.yml:1:1',
  until: 'roles/r2/defaults/main.yml:1:1',
  throttle: 'playbook.yml:31:5',
};

t.test("Ansible's reserved names (ansible-core 2.14's get_reserved_names and its Jinja globals)", async (t) => {
  for (const n of ['environment', 'name', 'hosts', 'tags', 'action', 'local_action', 'with_', 'range', 'lookup'])
    t.ok(RESERVED_NAMES.has(n), n);
  for (const n of ['item', 'ansible_host', 'inventory_hostname', 'env', 'host']) t.notOk(RESERVED_NAMES.has(n), n);
  t.same(reservedNames({ vars: 1, name: 2, x: 3, tags: 4 }), ['name', 'tags'], '"vars" is never warned about');
  t.same(reservedNames(['name']), [], 'only a mapping has names');
});

t.test('a run warns once per name, with file:line, and succeeds', async (t) => {
  const r = spawnSync('node', [CLI, ...ARGS], { cwd: DIR, encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.same(Object.fromEntries(warned(r.stderr)), WANT);
  t.match(r.stdout, /prod/, 'the variable is still read');
});

t.test('the same names as ansible-playbook', async (t) => {
  const version = spawnSync('ansible-playbook', ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) {
    t.skip('ansible-playbook is not installed (apt-get install ansible-core): no comparison');
    return;
  }
  const r = spawnSync('ansible-playbook', ARGS, {
    cwd: DIR,
    encoding: 'utf8',
    env: { ...process.env, ANSIBLE_NOCOLOR: '1' },
  });
  t.equal(r.status, 0, r.status === 0 ? 'ansible-playbook ran' : r.stdout + r.stderr);
  t.same([...warned(r.stdout + r.stderr).keys()].sort(), Object.keys(WANT).sort());
});
