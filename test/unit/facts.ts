// Facts: the parser on fixed output, the script on this machine, and gathering only when a fact is read.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { factsScript, factVars, isFactName, parseFacts } from '../../dist/lib/modules/builtin/setup.js';
import { events, rmqplay } from '../helpers.js';

const INV = 'test/fixtures/keywords/inventory.ini';
const M = '@@rmqplay-facts@@';
const OUTPUT = [
  `${M} hostname`,
  'node1',
  `${M} fqdn`,
  'node1.lab.example',
  `${M} uname`,
  'node1',
  'x86_64',
  '6.1.0-18-amd64',
  'Linux',
  `${M} user`,
  'root',
  '0',
  `${M} os-release`,
  'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"',
  'NAME="Debian GNU/Linux"',
  'VERSION_ID="12"',
  'VERSION_CODENAME=bookworm',
  'ID=debian',
  `${M} debian_version`,
  '12.5',
  `${M} meminfo`,
  'MemTotal:        2048000 kB',
  `${M} cpuinfo`,
  'processor\t: 0',
  'physical id\t: 0',
  'cpu cores\t: 2',
  'processor\t: 1',
  'physical id\t: 0',
  'cpu cores\t: 2',
  `${M} route`,
  'default via 10.0.0.1 dev eth0 proto static',
  `${M} addr`,
  '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
  '2: eth0    inet 10.0.0.5/24 brd 10.0.0.255 scope global eth0\\       valid_lft forever',
  `${M} link`,
  '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00',
  '2: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue\\    link/ether 0a:1b:2c:3d:4e:5f brd ff:ff',
  `${M} init`,
  'systemd',
  'systemd-running',
  `${M} pkg`,
  'apt-get',
  `${M} env`,
  Buffer.from('HOME=/root\0PATH=/usr/bin:/bin\0').toString('base64'),
  `${M} date`,
  '2024|03|05|14|07|09|1709647629|UTC|+0000|Tuesday|2|March|Mar|Tue|065|10|10',
  '2024-03-05T14:07:09Z',
  `${M} mounts`,
  '/dev/vda1 / ext4 rw,relatime 0 0',
  'proc /proc proc rw 0 0',
  `${M} df`,
  'Filesystem     1024-blocks    Used Available Capacity Mounted on',
  '/dev/vda1         1000  400  600      40% /',
  `${M} end`,
].join('\n');

t.test('the parser, on fixed output', async (t) => {
  const f = parseFacts(OUTPUT);
  t.match(f, {
    os_family: 'Debian',
    distribution: 'Debian',
    distribution_release: 'bookworm',
    distribution_version: '12.5',
    distribution_major_version: '12',
    hostname: 'node1',
    fqdn: 'node1.lab.example',
    nodename: 'node1',
    domain: 'lab.example',
    architecture: 'x86_64',
    machine: 'x86_64',
    kernel: '6.1.0-18-amd64',
    memtotal_mb: 2000,
    processor_vcpus: 2,
    processor_cores: 2,
    service_mgr: 'systemd',
    pkg_mgr: 'apt',
    user_id: 'root',
    env: { HOME: '/root', PATH: '/usr/bin:/bin' },
    all_ipv4_addresses: ['10.0.0.5'],
    interfaces: ['lo', 'eth0'],
  });
  t.same(
    { ...(f.default_ipv4 as object) },
    {
      address: '10.0.0.5',
      netmask: '255.255.255.0',
      network: '10.0.0.0',
      prefix: '24',
      broadcast: '10.0.0.255',
      gateway: '10.0.0.1',
      interface: 'eth0',
      alias: 'eth0',
      macaddress: '0a:1b:2c:3d:4e:5f',
      mtu: 1500,
      type: 'ether',
    },
    'default_ipv4',
  );
  t.match(f.eth0, { device: 'eth0', active: true, ipv4: { address: '10.0.0.5' } }, 'the interface by its name');
  t.match(f.date_time, { date: '2024-03-05', time: '14:07:09', epoch: '1709647629', weekday: 'Tuesday' });
  t.same(f.mounts, [
    {
      mount: '/',
      device: '/dev/vda1',
      fstype: 'ext4',
      options: 'rw,relatime',
      size_total: 1024000,
      size_available: 614400,
    },
  ]);
  const vars = factVars(f);
  t.equal(vars.ansible_distribution, 'Debian', 'ansible_NAME');
  t.equal((vars.ansible_facts as Record<string, unknown>).distribution, 'Debian', 'ansible_facts.NAME');
  t.ok(isFactName('ansible_eth0') && isFactName('ansible_facts') && !isFactName('ansible_loop_var'));
});

t.test('the script, on this machine', async (t) => {
  const f = parseFacts(execFileSync('sh', ['-c', factsScript()], { encoding: 'utf8' }));
  const osRelease = execFileSync('sh', ['-c', '. /etc/os-release; echo $VERSION_CODENAME'], { encoding: 'utf8' });
  t.equal(f.distribution, 'Debian');
  t.equal(f.distribution_release, osRelease.trim());
  t.equal(f.kernel, execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim());
  t.ok(Number(f.processor_vcpus) >= 1 && Number(f.memtotal_mb) > 0);
});

t.test('gathered only when a fact is read', async (t) => {
  const gathering = (out: string) => events(out).filter((e) => e.task === 'Gathering Facts');
  const none = rmqplay(['test/fixtures/keywords/facts-none.yml', '-i', INV, '--json']);
  t.equal(none.status, 0, none.stderr);
  t.same(gathering(none.stdout), [], 'gather_facts on, no fact read: no round trip for facts');
  t.equal(events(none.stdout).filter((e) => e.event === 'task').length, 1, 'only the play task ran');
  const read = rmqplay(['test/fixtures/keywords/facts-read.yml', '-i', INV, '--json']);
  t.equal(read.status, 0, read.stderr);
  t.equal(gathering(read.stdout).length, 1, 'one gathering for the host');
  const msgs = Object.fromEntries(events(read.stdout).map((e) => [e.task, e.msg]));
  t.equal(msgs.distribution, 'Debian', "ansible_distribution is this machine's");
  t.equal(msgs['from ansible_facts'], 'Debian 12', 'ansible_facts.NAME');
  t.equal(msgs['in a condition'], 'debian family', 'a fact in when');
  t.match(msgs['default address'], /^\d+\.\d+\.\d+\.\d+$/, 'ansible_default_ipv4.address');
  const check = rmqplay(['test/fixtures/keywords/facts-read.yml', '-i', INV, '--json', '--check']);
  t.equal(check.status, 0, 'check mode reads facts too');
  t.equal(Object.fromEntries(events(check.stdout).map((e) => [e.task, e.msg])).distribution, 'Debian');
  const setup = rmqplay(['test/fixtures/keywords/facts-setup.yml', '-i', INV, '--json']);
  t.equal(setup.status, 0, setup.stderr);
  t.equal(events(setup.stdout).find((e) => e.task === 'read')?.msg, 'bookworm', 'the setup task');
  const off = rmqplay(['test/fixtures/keywords/facts-off.yml', '-i', INV]);
  t.equal(off.status, 4, 'gather_facts: false and a fact read: undefined before connecting');
  t.match(off.stderr, /facts-off\.yml:6:7: undefined variable "ansible_distribution"/);
});
