// The AWS peer-discovery variant on a fresh node here, where AWS cannot be reached. Measured with
// RabbitMQ 3.10.8: the node asks EC2 for credentials and instances, logs why that failed, and
// then does NOT boot: a new node must hold the discovery lock, and the AWS backend cannot lock
// without discovered nodes (exit: cannot_acquire_startup_lock after lock_retry_limit tries).
// This test pins that behaviour down, and that rmqplay fails only that host, saying why, while
// the classic_config nodes stay healthy. (The issue expected the node to boot; see the notes.)
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCluster, events, lab, labHosts, recap, rmqplay, ssh } from '../helpers.js';

t.test('a fresh node with AWS discovery and no AWS: says why, fails alone', async (t) => {
  ensureCluster();
  t.equal(lab(['up', '--nodes', '4']).status, 0, 'lab up --nodes 4 adds a fresh node4');
  const node4 = labHosts()[3];
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-aws-'));
  const extra = join(dir, 'aws.yml');
  writeFileSync(extra, 'all:\n  hosts:\n    node4:\n      rabbitmq_peer_discovery: aws\n      rabbitmq_aws_region: eu-west-1\n      rabbitmq_aws_instance_tags: { service: rabbitmq }\n      rabbitmq_aws_lock_retry_limit: 2\n      rabbitmq_aws_lock_retry_timeout: 2000\n');
  const r = rmqplay(['playbooks/site.yml', '-i', 'lab', '-i', extra, '--json']);
  t.equal(r.status, 2, 'exit 2: a task failed');
  const rc = recap(events(r.stdout));
  t.equal(rc.node4?.failed, 1, 'node4 failed');
  for (const h of ['node1', 'node2', 'node3']) t.equal(rc[h]?.failed, 0, `${h} did not`);
  const conf = ssh(node4, 'cat /etc/rabbitmq/rabbitmq.conf').stdout;
  t.match(conf, /cluster_formation\.peer_discovery_backend = rabbit_peer_discovery_aws/, 'node4 got the AWS variant (its keys passed the schema check)');
  t.match(ssh(node4, 'cat /etc/rabbitmq/enabled_plugins').stdout, /rabbitmq_peer_discovery_aws/, 'with the AWS plugin enabled');
  const log = ssh(node4, 'cat /var/log/rabbitmq/rabbit@node4.log').stdout;
  t.match(log, /Configured peer discovery backend: rabbit_peer_discovery_aws/, 'the node ran AWS discovery');
  t.match(log, /Could not load AWS credentials/, 'and said why it failed: no AWS credentials');
  t.match(log, /Cannot lock since no nodes got discovered/, 'no nodes discovered');
  t.match(log, /cannot_acquire_startup_lock/, 'so RabbitMQ 3.10 gave up booting');
  const v = rmqplay(['playbooks/verify.yml', '-i', 'lab', '--limit', 'rabbitmq:!node4']);
  t.equal(v.status, 0, 'the three classic_config nodes stay healthy (verify.yml on them)');
});
