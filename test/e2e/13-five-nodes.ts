// The same site.yml, unchanged, grows the cluster the earlier tests left to five nodes: the new lab hosts are
// fresh, join it and every node ends with five running.
import t from 'tap';
import { ensureCluster, events, lab, labHosts, rmqplay, ssh } from '../helpers.js';

t.test('two fresh hosts join: a five-node cluster, proved', async (t) => {
  const before = ensureCluster().length;
  t.ok(before < 5, `the cluster has ${before} nodes`);
  t.equal(lab(['up', '--nodes', '5']).status, 0, 'lab up --nodes 5 adds fresh hosts');
  const hosts = labHosts();
  t.equal(hosts.length, 5);
  const r = rmqplay(['playbooks/site.yml', '-i', 'lab', '--json']);
  t.equal(r.status, 0, `site.yml exits 0${r.status ? ' ' + r.stdout.slice(-2000) : ''}`);
  // The new nodes join at their first boot (classic_config lists every node) or through rabbitmq_cluster;
  // the nodes already in the cluster never change membership.
  const moved = events(r.stdout).filter((e) => e.task === 'cluster membership' && e.status === 'changed');
  const old = hosts.slice(0, before).map((h) => h.name);
  t.same(
    moved.map((e) => e.host).filter((h) => old.includes(h!)),
    [],
    'the nodes already in the cluster kept their membership',
  );
  for (const h of hosts) {
    const s = ssh(h, 'rabbitmqctl cluster_status --formatter json');
    t.equal(JSON.parse(s.stdout.slice(s.stdout.indexOf('{'))).running_nodes.length, 5, `${h.name}: five nodes running`);
  }
  const v = events(r.stdout).find((e) => e.task?.includes('amqp_verify'));
  t.match(v?.msg, /replicas on 5 nodes/, 'the verification queue has a replica on each of the five');
});
