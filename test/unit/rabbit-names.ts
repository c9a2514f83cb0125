// RabbitMQ node names and /etc/hosts lines from inventory names that are short names, FQDNs or IP addresses
// (lib/util/nodenames.ts), as the shipped templates and playbooks/tasks/rabbitmq/hosts.yml render them; and the
// check before any connection that a RabbitMQ play's hosts have a node name and an address (exit 4).
import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadYamlFile } from '../../dist/lib/language/yaml.js';
import { hostsLine, nodeNameOf, rabbitNode } from '../../dist/lib/util/nodenames.js';
import { renderString, renderTemplate } from '../../dist/lib/language/template.js';
import { rmqplay } from '../helpers.js';

t.test('node names and /etc/hosts lines from the inventory name', async (t) => {
  t.same(rabbitNode('mq1', { ansible_host: '10.0.1.11' }), {
    node: 'rabbit@mq1',
    names: ['mq1'],
    address: '10.0.1.11',
  });
  t.equal(hostsLine('mq1.example.com', { ansible_host: '10.0.1.11' }), '10.0.1.11 mq1.example.com mq1', 'FQDN');
  t.equal(nodeNameOf('mq1.example.com'), 'rabbit@mq1', "an FQDN's node is rabbit@<short name>");
  t.equal(hostsLine('10.0.1.12', { rabbitmq_nodename: 'rabbit@mq2' }), '10.0.1.12 mq2', 'IP name with a node name');
  t.equal(nodeNameOf('10.0.1.12', { rabbitmq_nodename: 'rabbit@mq2' }), 'rabbit@mq2');
  t.equal(hostsLine('mq3', { ansible_host: '10.0.0.1', rabbitmq_address: '10.1.0.1' }), '10.1.0.1 mq3');
  t.equal(hostsLine('mq4', { ansible_host: 'fd00::4' }), 'fd00::4 mq4', 'an IPv6 address');
  t.equal(nodeNameOf('rabbit@x'), 'rabbit@x', 'a node name is itself');
  t.throws(() => nodeNameOf('10.0.1.13'), /host 10\.0\.1\.13: an IP address as inventory name .*rabbitmq_nodename/);
  t.throws(() => nodeNameOf('mq5', { rabbitmq_nodename: 'mq5' }), /rabbitmq_nodename "mq5" is not a node name/);
  t.throws(() => hostsLine('mq6.example.com'), /host mq6\.example\.com: .*set ansible_host \(or rabbitmq_address\)/);
  t.throws(() => hostsLine('mq7', { ansible_host: 'mq7.internal' }), /"mq7\.internal" is not an IP address/);
});

t.test('the shipped rabbitmq.conf and /etc/hosts block with FQDN and IP inventory names', async (t) => {
  const hostvars = {
    'mq1.example.com': { ansible_host: '10.0.1.11' },
    'mq2.example.com': { ansible_host: '10.0.1.12' },
    '10.0.1.13': { rabbitmq_nodename: 'rabbit@mq3' },
  };
  const hosts = Object.keys(hostvars);
  const defaults = loadYamlFile(resolve('playbooks/roles/rabbitmq/defaults/main.yml')) as Record<string, unknown>;
  const conf = renderTemplate(
    readFileSync('templates/rabbitmq.conf.hbs', 'utf8'),
    { ...defaults, hostvars, groups: { rabbitmq: hosts } },
    'rabbitmq.conf.hbs',
  );
  const nodes = conf.split('\n').filter((l) => l.startsWith('cluster_formation.classic_config.nodes.'));
  t.same(nodes, [
    'cluster_formation.classic_config.nodes.0 = rabbit@mq1',
    'cluster_formation.classic_config.nodes.1 = rabbit@mq2',
    'cluster_formation.classic_config.nodes.2 = rabbit@mq3',
  ]);
  // The block of playbooks/tasks/rabbitmq/hosts.yml, line by line.
  const task = readFileSync('playbooks/tasks/rabbitmq/hosts.yml', 'utf8');
  const line = /^\s*(\{\{ host \| rabbitmq_hosts_line\(hostvars\[host\]\) \}\})$/m.exec(task)?.[1];
  t.ok(line, 'hosts.yml writes each line with the rabbitmq_hosts_line filter');
  const lines = hosts.map((host) => renderString(line!, { host, hostvars }));
  t.same(lines, ['10.0.1.11 mq1.example.com mq1', '10.0.1.12 mq2.example.com mq2', '10.0.1.13 mq3']);
  const hbsHosts = renderTemplate(
    readFileSync('templates/rabbitmq-hosts.hbs', 'utf8'),
    { hostvars, groups: { rabbitmq: hosts }, rabbitmq_group: 'rabbitmq' },
    'rabbitmq-hosts.hbs',
  );
  t.equal(hbsHosts, lines.join('\n') + '\n', 'templates/rabbitmq-hosts.hbs says the same');
});

t.test('site.yml with names it cannot derive: exit 4 before any connection, naming each host', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-names-'));
  const inv = join(dir, 'hosts.yml');
  writeFileSync(
    inv,
    [
      'all:',
      '  children:',
      '    rabbitmq:',
      '      hosts:',
      '        127.0.1.11: {}',
      '        127.0.1.12: { rabbitmq_nodename: rabbit@mq2 }',
      '        mq3.example.com: {}',
      '        mq4.example.com: { ansible_host: mq4.internal }',
      '        mq5.example.com: { ansible_host: 127.0.1.15 }',
      '',
    ].join('\n'),
  );
  const secrets = ['-e', 'rabbitmq_erlang_cookie=ABCDEFGHIJKLMNOPQRST', '-e', 'rabbitmq_verify_password=Verify-Pw-1'];
  const r = rmqplay(['playbooks/site.yml', '-i', inv, ...secrets, '--check']);
  t.equal(r.status, 4, `bad input ${r.stderr}`);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('ERROR:'));
  t.equal(errors.length, 3, r.stderr);
  t.match(errors[0], /hosts\.yml: host 127\.0\.1\.11 in play "RabbitMQ cluster": an IP address as inventory name/);
  t.match(errors[0], /rabbitmq_nodename: rabbit@<its short hostname>/, 'says what to write');
  t.match(errors[1], /host mq3\.example\.com .*set ansible_host \(or rabbitmq_address\) to its IP address/);
  t.match(errors[2], /host mq4\.example\.com .*"mq4\.internal" is not an IP address/);
  t.match(r.stderr, /Nothing was run on any host/);
  t.notMatch(r.stdout, /PLAY|TASK/, 'no play started');
});
