// The AWS peer-discovery variant of rabbitmq.conf boots a fresh node here: AWS cannot be reached,
// so discovery fails (the node says why in its log), the node boots alone, and rabbitmq_cluster
// joins it to the cluster. The other nodes keep classic_config (a second inventory sets the
// variable for node4 only).
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCluster, lab, labHosts, rmqplay, ssh } from '../helpers.js';

t.test('a fresh node with AWS discovery boots, says why discovery failed, and joins', async (t) => {
  ensureCluster();
  t.equal(lab(['up', '--nodes', '4']).status, 0, 'lab up --nodes 4 adds a fresh node4');
  const hosts = labHosts();
  const node4 = hosts[3];
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-aws-'));
  const extra = join(dir, 'aws.yml');
  writeFileSync(extra, 'all:\n  hosts:\n    node4:\n      rabbitmq_peer_discovery: aws\n      rabbitmq_aws_region: eu-west-1\n      rabbitmq_aws_instance_tags: { service: rabbitmq }\n');
  const r = rmqplay(['playbooks/site.yml', '-i', 'lab', '-i', extra]);
  t.equal(r.status, 0, `site.yml exits 0 ${r.status ? r.stdout.slice(-1500) : ''}`);
  const conf = ssh(node4, 'cat /etc/rabbitmq/rabbitmq.conf').stdout;
  t.match(conf, /cluster_formation\.peer_discovery_backend = rabbit_peer_discovery_aws/, 'node4 runs the AWS variant');
  t.match(conf, /cluster_formation\.aws\.instance_tags\.service = rabbitmq/);
  t.match(ssh(hosts[0], 'grep peer_discovery_backend /etc/rabbitmq/rabbitmq.conf').stdout, /classic_config/, 'node1 keeps classic_config');
  const log = ssh(node4, "grep -ihE 'aws|peer discovery' /var/log/rabbitmq/rabbit@node4.log | head -n 20").stdout;
  t.match(log, /aws/i, `node4 says what AWS discovery did:\n${log.split('\n').slice(0, 6).join('\n')}`);
  const st = ssh(node4, 'rabbitmqctl cluster_status --formatter json');
  t.equal(JSON.parse(st.stdout.slice(st.stdout.indexOf('{'))).running_nodes.length, 4, 'node4 booted and joined: four nodes running');
});
