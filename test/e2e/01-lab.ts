// The lab on this machine: real hosts booted with systemd in systemd-nspawn, reached over real SSH.
import t from 'tap';
import { execSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { compareWithAnsible, freshLab, lab, labHosts, ssh } from '../helpers.js';

const CACHE = process.env.RMQPLAY_LAB_CACHE ?? '/var/cache/rmqplay/lab';
const sh = (cmd: string) => spawnSync('bash', ['-c', cmd], { encoding: 'utf8' }).stdout.trim();
const pids = () => Object.values(JSON.parse(readFileSync(`${CACHE}/state.json`, 'utf8')).hosts).map((h: any) => h.pid);
const leftovers = () => ({
  // Anchored: the shell running pgrep has the pattern in its own command line.
  nspawn: sh("pgrep -f '^systemd-nspawn .*--machine=node' || true"),
  netns: sh("ip netns list | grep -E '^node[0-9]+' || true"),
  veth: sh("ip -o link show | grep -o 'veth-node[0-9]*' || true"),
  bridge: sh('ip link show rmqplay0 2>/dev/null || true'),
  mounts: sh(`grep ' ${CACHE}/hosts/' /proc/mounts || true`),
});

t.test('lab up: SSH with strict host keys, systemd running, real apt', async (t) => {
  const hosts = freshLab(3);
  t.same(
    hosts.map((h) => h.name),
    ['node1', 'node2', 'node3'],
  );
  for (const h of hosts) {
    const r = ssh(h, 'hostname; systemctl is-system-running');
    t.equal(r.status, 0, `${h.name}: ssh with StrictHostKeyChecking=yes`);
    const [name, state] = r.stdout.trim().split('\n');
    t.equal(name, h.name, `${h.name}: hostname`);
    t.match(state, /^(running|degraded)$/, `${h.name}: systemd is ${state}`);
  }
  const inv = JSON.parse(execSync('ansible-inventory -i inventory/lab.yml --list', { encoding: 'utf8' }));
  t.same(inv.rabbitmq.hosts, ['node1', 'node2', 'node3'], "Ansible's own ansible-inventory reads inventory/lab.yml");
  compareWithAnsible(t, 'inventory/lab.yml');
  const install = [
    'apt-get update -q',
    'DEBIAN_FRONTEND=noninteractive apt-get install -y -q rabbitmq-server >/dev/null',
    "dpkg-query -W -f='${Status}' rabbitmq-server",
  ].join(' && ');
  const apt = ssh(hosts[2], install, 300_000);
  t.equal(apt.status, 0, 'apt-get update && apt-get install -y rabbitmq-server inside a host');
  t.match(apt.stdout, /install ok installed/);
});

t.test('lab up twice keeps the same hosts; --nodes 4 adds one', async (t) => {
  const before = pids();
  t.equal(lab(['up']).status, 0);
  t.same(pids(), before, 'the same processes: nothing rebooted');
  t.equal(lab(['up', '--nodes', '4']).status, 0);
  t.same(
    labHosts().map((h) => h.name),
    ['node1', 'node2', 'node3', 'node4'],
  );
  t.same(pids().slice(0, 3), before, 'the first three were left alone');
});

t.test('fault drills: kill, start, cut, heal', async (t) => {
  const h = labHosts()[1];
  t.equal(ssh(h, 'echo keep > /root/marker').status, 0);
  t.equal(lab(['kill', h.name]).status, 0);
  t.not(ssh(h, 'true', 15_000).status, 0, 'a killed host does not answer');
  t.equal(sh(`ip netns pids ${h.name} | wc -l`), '0', 'no process of the host is left');
  t.equal(lab(['start', h.name]).status, 0);
  t.equal(ssh(h, 'cat /root/marker').stdout.trim(), 'keep', 'started again with its disk');
  t.equal(lab(['cut', h.name]).status, 0);
  t.not(ssh(h, 'true', 15_000).status, 0, 'a cut host does not answer');
  t.equal(lab(['heal', h.name]).status, 0);
  t.equal(ssh(h, 'true').status, 0, 'healed');
});

t.test('up recovers a lab whose processes were killed from outside', async (t) => {
  const h = labHosts()[0];
  t.equal(ssh(h, 'echo still-here > /root/marker').status, 0);
  const nodes = "$(ip netns list | awk '/^node[0-9]+/{print $1}')";
  const killNamespaces = `for n in ${nodes}; do ip netns pids $n | xargs -r kill -9; done`;
  const killContainers = "pkill -9 -f '^systemd-nspawn .*--machine=node' || true";
  sh(`${killNamespaces}; ${killContainers}; sleep 1`);
  const st = lab(['status']);
  t.not(st.status, 0, 'status sees the hosts are down');
  t.equal(lab(['up']).status, 0, 'up cleans the stale mounts, namespaces and veths and boots them');
  t.equal(ssh(h, 'cat /root/marker').stdout.trim(), 'still-here', 'with their disks');
  t.equal(lab(['status']).status, 0);
});

t.test('down leaves nothing behind; up again works', async (t) => {
  t.equal(lab(['down']).status, 0);
  t.same(
    leftovers(),
    { nspawn: '', netns: '', veth: '', bridge: '', mounts: '' },
    'no nspawn process, namespace, veth, bridge or mount',
  );
  const hosts = freshLab(3);
  for (const h of hosts)
    t.equal(ssh(h, 'test ! -e /root/marker && hostname').stdout.trim(), h.name, `${h.name}: fresh and empty`);
});
