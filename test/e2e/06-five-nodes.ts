// The same site.yml, unchanged, builds a 5-node cluster on 5 fresh lab hosts.
import t from 'tap';
import { events, freshLab, rmqplay, ssh } from '../helpers.js';

t.test('five fresh hosts: a five-node cluster, proved', async (t) => {
  const hosts = freshLab(5);
  t.equal(hosts.length, 5);
  const r = rmqplay(['playbooks/site.yml', '-i', 'lab', '--json']);
  t.equal(r.status, 0, 'site.yml exits 0');
  for (const h of hosts) {
    const s = ssh(h, 'rabbitmqctl cluster_status --formatter json');
    t.equal(JSON.parse(s.stdout.slice(s.stdout.indexOf('{'))).running_nodes.length, 5, `${h.name}: five nodes running`);
  }
  const v = events(r.stdout).find((e) => e.task?.includes('amqp_verify'));
  t.match(v?.msg, /replicas on 5 nodes/, 'the verification queue has a replica on each of the five');
});
