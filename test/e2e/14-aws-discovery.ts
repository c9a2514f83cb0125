// The AWS peer-discovery variant on a fresh node here, where AWS cannot be reached: the node runs
// AWS discovery, says in its log why it failed, still boots (advanced.config lets a node that finds
// no peers boot alone: RabbitMQ 3.10 otherwise gives up with cannot_acquire_startup_lock, measured),
// and rabbitmq_cluster joins it to the cluster the earlier tests left. The other nodes keep classic_config (a
// second inventory sets the variable for the new node only).
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCluster, events, lab, labHosts, rmqplay, ssh } from '../helpers.js';

t.test('a fresh node with AWS discovery and no AWS: says why, boots, joins', async (t) => {
  const n = ensureCluster().length;
  t.equal(lab(['up', '--nodes', String(n + 1)]).status, 0, `lab up --nodes ${n + 1} adds a fresh host`);
  const hosts = labHosts();
  const node = hosts[n];
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-aws-'));
  const extra = join(dir, 'aws.yml');
  const inventory = [
    'all:',
    '  hosts:',
    `    ${node.name}:`,
    '      rabbitmq_peer_discovery: aws',
    '      rabbitmq_aws_region: eu-west-1',
    '      rabbitmq_aws_instance_tags: { service: rabbitmq }',
    '      rabbitmq_aws_lock_retry_limit: 2',
    '      rabbitmq_aws_lock_retry_timeout: 2000',
    '',
  ].join('\n');
  writeFileSync(extra, inventory);
  const r = rmqplay(['playbooks/site.yml', '-i', 'lab', '-i', extra, '--json']);
  t.equal(
    r.status,
    0,
    `site.yml exits 0${
      r.status
        ? ` ${r.stdout
            .split('\n')
            .filter((l) => l.includes('"failed"'))
            .join('\n')
            .slice(0, 2000)}`
        : ''
    }`,
  );
  const conf = ssh(node, 'cat /etc/rabbitmq/rabbitmq.conf').stdout;
  t.match(
    conf,
    /cluster_formation\.peer_discovery_backend = rabbit_peer_discovery_aws/,
    `${node.name} runs the AWS variant (its keys passed the schema check)`,
  );
  t.match(conf, /cluster_formation\.aws\.instance_tags\.service = rabbitmq/);
  t.match(
    ssh(node, 'cat /etc/rabbitmq/enabled_plugins').stdout,
    /rabbitmq_peer_discovery_aws/,
    'with the AWS plugin enabled',
  );
  t.match(ssh(node, 'cat /etc/rabbitmq/advanced.config').stdout, /lock_acquisition_failure_mode, ignore/);
  t.match(
    ssh(hosts[0], 'grep peer_discovery_backend /etc/rabbitmq/rabbitmq.conf').stdout,
    /classic_config/,
    'node1 keeps classic_config',
  );
  t.equal(ssh(hosts[0], 'test -e /etc/rabbitmq/advanced.config').status, 1, 'and has no advanced.config');
  const log = ssh(node, `cat /var/log/rabbitmq/rabbit@${node.name}.log`).stdout;
  t.match(log, /Configured peer discovery backend: rabbit_peer_discovery_aws/, 'the node ran AWS discovery');
  t.match(log, /Could not load AWS credentials/, 'and said why it failed: no AWS credentials');
  t.notMatch(log, /cannot_acquire_startup_lock/, 'it did not give up booting');
  const joined = events(r.stdout).find((e) => e.host === node.name && e.task === 'cluster membership');
  t.equal(joined?.status, 'changed', `rabbitmq_cluster joined ${node.name} to the cluster`);
  const st = ssh(node, 'rabbitmqctl cluster_status --formatter json');
  t.equal(JSON.parse(st.stdout.slice(st.stdout.indexOf('{'))).running_nodes.length, n + 1, `${n + 1} nodes running`);
  const again = rmqplay(['playbooks/site.yml', '-i', 'lab', '-i', extra, '--json']);
  t.equal(again.status, 0);
  t.equal(events(again.stdout).filter((e) => e.status === 'changed').length, 0, 'a second run changes nothing');
});
