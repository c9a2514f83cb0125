// The connection a host's tasks use: the play's and the task's `connection:` keyword, -c/--connection and
// ansible_connection, with Ansible's precedence (PlayContext: -c, below the play's keyword, below the task's,
// below the ansible_connection variable of the inventory and -e). The local connection is real: tasks write into
// a temporary folder on this machine; the SSH address given is one that refuses (127.0.0.1 port 1).
import t from 'tap';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalHost } from '../../dist/lib/connection/local.js';
import { defaultConnect } from '../../dist/lib/core/connections.js';
import { loadPlaybook } from '../../dist/lib/core/playbook.js';
import { addImplicitLocalhost, loadInventories } from '../../dist/lib/core/inventory.js';
import { matchHosts } from '../../dist/lib/core/patterns.js';
import { Scheduler } from '../../dist/lib/core/scheduler.js';
import { rmqplay, runEvents } from '../helpers.js';

t.setTimeout(300_000); // several runs of the command line, one of them refused with SSH's retries

const REFUSED = 'ansible_host=127.0.0.1 ansible_port=1';

function folder(playbook: string, inventory: string) {
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-connection-'));
  writeFileSync(join(dir, 'pb.yml'), playbook);
  writeFileSync(join(dir, 'hosts.ini'), inventory);
  return dir;
}

/** Runs the scheduler with a connect that records host:connection and runs everything locally. */
async function connects(playbook: string, inventory: string, opts: Record<string, unknown> = {}) {
  const dir = folder(playbook, inventory);
  const made: string[] = [];
  const connect = async (name: string, vars: Record<string, unknown>) => {
    made.push(`${name}:${vars.ansible_connection ?? 'ssh'}`);
    return new LocalHost(name);
  };
  const base = { check: false, diff: false, tags: [], skipTags: [], extraVars: {}, forks: 5, forceHandlers: false };
  const sched = new Scheduler(
    loadPlaybook(join(dir, 'pb.yml')),
    loadInventories([join(dir, 'hosts.ini')]),
    { ...base, ...opts, connect },
    runEvents({}),
  );
  const end = await sched.run();
  return { made: made.sort(), end };
}

t.test('connection: local on a play runs its tasks on this machine, not over SSH', async (t) => {
  const dir = folder(
    '- hosts: web\n  gather_facts: false\n  connection: local\n  tasks:\n    - command: touch "{{ root }}/ran"\n',
    `web ${REFUSED}\n`,
  );
  const r = rmqplay(['pb.yml', '-i', 'hosts.ini', '-e', `root=${dir}`], { cwd: dir });
  t.equal(r.status, 0, r.stdout + r.stderr);
  t.ok(existsSync(join(dir, 'ran')), 'the command ran here');
});

t.test('without it, the same host is reached over SSH (and here refused)', async (t) => {
  const dir = folder('- hosts: web\n  gather_facts: false\n  tasks:\n    - command: "true"\n', `web ${REFUSED}\n`);
  const r = rmqplay(['pb.yml', '-i', 'hosts.ini'], { cwd: dir });
  t.equal(r.status, 3, 'unreachable');
});

t.test('-c local runs every play on this machine', async (t) => {
  const dir = folder(
    '- hosts: all\n  gather_facts: false\n  tasks:\n    - command: touch "{{ root }}/{{ inventory_hostname }}"\n',
    `a ${REFUSED}\nb ${REFUSED}\n`,
  );
  const r = rmqplay(['pb.yml', '-i', 'hosts.ini', '--connection=local', '-e', `root=${dir}`], { cwd: dir });
  t.equal(r.status, 0, r.stdout + r.stderr);
  t.ok(existsSync(join(dir, 'a')) && existsSync(join(dir, 'b')));
});

t.test('-c with a connection rmqplay does not have: bad options, saying what to write', async (t) => {
  const dir = folder('- hosts: all\n  tasks: []\n', 'a\n');
  const r = rmqplay(['pb.yml', '-i', 'hosts.ini', '-c', 'docker'], { cwd: dir });
  t.equal(r.status, 5);
  t.match(r.stderr, /-c docker: rmqplay has the connections ssh, smart, paramiko, local; write -c local or -c ssh/);
  const help = rmqplay(['--help']);
  t.match(help.stdout, /-c, --connection C/);
});

t.test('an unknown connection keyword is bad input, with its file and line, before anything runs', async (t) => {
  const dir = folder(
    '- hosts: all\n  connection: dockr\n  tasks:\n    - command: "true"\n      connection: winrm\n',
    'a ansible_connection=local\n',
  );
  const r = rmqplay(['pb.yml', '-i', 'hosts.ini'], { cwd: dir });
  t.equal(r.status, 4);
  t.match(r.stderr, /pb\.yml:1:3: connection: dockr is not a connection rmqplay has; write one of/);
  t.match(r.stderr, /pb\.yml:4:7: connection: winrm is not a connection rmqplay has/);
});

t.test('precedence: ansible_connection > task keyword > play keyword > -c > ssh', async (t) => {
  const inv = 'h1\nh2 ansible_connection=local\n';
  const pb = (play: string, task = '') =>
    `- hosts: all\n  gather_facts: false\n${play}  tasks:\n    - command: "true"\n${task}`;
  t.same((await connects(pb(''), inv)).made, ['h1:ssh', 'h2:local'], 'nothing set: ssh, or the variable');
  t.same((await connects(pb(''), inv, { connection: 'local' })).made, ['h1:local', 'h2:local'], '-c local');
  t.same((await connects(pb(''), inv, { connection: 'ssh' })).made, ['h1:ssh', 'h2:local'], '-c ssh');
  t.same(
    (await connects(pb('  connection: ssh\n'), inv, { connection: 'local' })).made,
    ['h1:ssh', 'h2:local'],
    "the play's keyword over -c, the inventory's variable over the keyword",
  );
  t.same(
    (await connects(pb('  connection: ssh\n', '    - command: "true"\n      connection: local\n'), inv)).made,
    ['h1:local', 'h1:ssh', 'h2:local'],
    "a task's keyword over the play's: another connection for that task (h2's variable still decides)",
  );
  t.same(
    (await connects(pb('  connection: local\n'), inv, { extraVars: { ansible_connection: 'ssh' } })).made,
    ['h1:ssh', 'h2:ssh'],
    '-e ansible_connection over everything',
  );
  t.same(
    (await connects(pb('  connection: "{{ how }}"\n  vars:\n    how: local\n'), inv)).made,
    ['h1:local', 'h2:local'],
    'a templated keyword, rendered for the host',
  );
});

t.test('ansible_connection that rmqplay does not have: the host cannot be reached, and why', async (t) => {
  await t.rejects(defaultConnect('h1', { ansible_connection: 'docker' }), /h1: cannot connect: connection docker:/);
  t.ok((await defaultConnect('h1', { ansible_connection: 'local' })) instanceof LocalHost);
});

t.test("hosts: localhost, not in the inventory: Ansible's implicit localhost, local, in no group", async (t) => {
  const dir = folder(
    [
      '- hosts: localhost',
      '  gather_facts: false',
      '  tasks:',
      '    - command: touch "{{ root }}/{{ inventory_hostname }}-{{ groups.all | length }}-{{ shared }}"',
      '- hosts: all',
      '  gather_facts: false',
      '  tasks:',
      '    - command: touch "{{ root }}/all-{{ inventory_hostname }}"',
      '',
    ].join('\n'),
    `[all:vars]\nshared=yes\n[web]\nweb1 ansible_connection=local\n`,
  );
  const r = rmqplay(['pb.yml', '-i', 'hosts.ini', '-e', `root=${dir}`], { cwd: dir });
  t.equal(r.status, 0, r.stdout + r.stderr);
  t.ok(existsSync(join(dir, 'localhost-1-yes')), 'ran here, with the variables of all; groups.all is web1 alone');
  t.ok(existsSync(join(dir, 'all-web1')));
  t.notOk(existsSync(join(dir, 'all-localhost')), 'hosts: all does not reach the implicit localhost');

  const inv = loadInventories([join(dir, 'hosts.ini')]);
  addImplicitLocalhost(inv, ['web']);
  t.notOk(inv.hosts.has('localhost'), 'only when a play names it');
  addImplicitLocalhost(inv, ['web:localhost']);
  t.same(matchHosts(inv, 'web:localhost'), ['web1', 'localhost']);
  t.same(matchHosts(inv, 'all'), ['web1']);
  t.same(matchHosts(inv, 'local*'), [], 'nor a glob');
  const listed = loadInventories([join(dir, 'hosts.ini')]);
  listed.host('localhost').vars = { ansible_host: '127.0.0.1' };
  addImplicitLocalhost(listed, ['localhost']);
  t.same(listed.hosts.get('localhost')!.vars, { ansible_host: '127.0.0.1' }, 'an inventory that has it keeps its own');
});
