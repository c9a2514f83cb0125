// Inventory names that are FQDNs or IP addresses run the RabbitMQ site (issue 10, inventory parity): the running
// cluster is reached under other names. An FQDN gives the node name rabbit@<short name> (Ansible's
// inventory_hostname_short) and an /etc/hosts line with both names; an IP address needs rabbitmq_nodename, and
// without it the run is bad input (exit 4) before any connection. Neither changes the nodes' names: no restart.
import t from 'tap';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { ensureCluster, events, LabHost, rmqplay, ssh } from '../helpers.js';

const SITE = 'playbooks/site.yml';
// Beside inventory/lab.yml, so that inventory/group_vars (the lab's vault) applies; git-ignored.
const INV = 'inventory/lab-names.yml';

const startedAt = (h: LabHost) => ssh(h, 'systemctl show -p ActiveEnterTimestamp rabbitmq-server').stdout.trim();

function runningNodes(h: LabHost): string[] {
  const r = ssh(h, 'rabbitmqctl cluster_status --formatter json');
  const start = r.stdout.indexOf('{');
  return start < 0 ? [] : (JSON.parse(r.stdout.slice(start)) as { running_nodes: string[] }).running_nodes.sort();
}

/** inventory/lab.yml with each host renamed by rename(host); extra variables added under the name. */
function writeRenamed(hosts: LabHost[], rename: (h: LabHost) => string, extra: (h: LabHost) => string = () => '') {
  let text = readFileSync('inventory/lab.yml', 'utf8');
  for (const h of hosts) text = text.replace(`        ${h.name}:\n`, `        ${rename(h)}:\n${extra(h)}`);
  writeFileSync(INV, text);
}

t.test('FQDN and IP-address inventory names on the running cluster', async (t) => {
  const hosts = ensureCluster().slice(0, 3);
  t.teardown(() => rmSync(INV, { force: true }));
  const before = Object.fromEntries(hosts.map((h) => [h.name, startedAt(h)]));
  const nodes = hosts.map((h) => `rabbit@${h.name}`).sort();

  writeRenamed(hosts, (h) => `${h.name}.rmq.test`);
  const fqdn = rmqplay([SITE, '-i', INV, '--json']);
  t.equal(fqdn.status, 0, `FQDN names: site.yml exits 0${fqdn.status ? ' ' + fqdn.stdout.slice(-2000) : ''}`);
  const changed = events(fqdn.stdout).filter((e) => e.status === 'changed');
  t.same([...new Set(changed.map((e) => e.task))], ['peers in /etc/hosts'], 'only /etc/hosts changes');
  for (const h of hosts) {
    const line = ssh(h, `grep -F ${h.ip} /etc/hosts`).stdout.trim();
    t.equal(line, `${h.ip} ${h.name}.rmq.test ${h.name}`, `${h.name}: /etc/hosts gives the FQDN and the short name`);
    t.same(runningNodes(h), nodes, `${h.name}: the same three nodes run, named rabbit@<short name>`);
  }

  writeRenamed(hosts, (h) => h.ip);
  const bare = rmqplay([SITE, '-i', INV]);
  t.equal(bare.status, 4, 'IP-address names without rabbitmq_nodename: bad input, exit 4');
  t.match(bare.stderr, /rabbitmq_nodename/, `the error says what to write: ${bare.stderr.trim().slice(0, 400)}`);
  t.notMatch(bare.stdout + bare.stderr, /TASK \[|changed:|ok:/, 'before any task ran');

  const nodename = (h: LabHost) => `          rabbitmq_nodename: rabbit@${h.name}\n`;
  writeRenamed(hosts, (h) => h.ip, nodename);
  const ips = rmqplay([SITE, '-i', INV, '--json']);
  t.equal(ips.status, 0, `IP names with rabbitmq_nodename: exit 0${ips.status ? ' ' + ips.stdout.slice(-2000) : ''}`);
  for (const h of hosts) {
    const line = ssh(h, `grep -F ${h.ip} /etc/hosts`).stdout.trim();
    t.equal(line, `${h.ip} ${h.name}`, `${h.name}: /etc/hosts names the address by the node's host part`);
    t.same(runningNodes(h), nodes, `${h.name}: the same three nodes run`);
    t.equal(startedAt(h), before[h.name], `${h.name}: never restarted`);
  }
  // The next test's site.yml run (-i lab) puts the lab's /etc/hosts lines back.
});
