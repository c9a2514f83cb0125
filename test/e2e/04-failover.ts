// 1,000 confirmed messages, then the node leading their quorum queue dies at once (lab kill):
// every confirmed message is consumed through the two left, verify.yml passes on them and reports
// the dead node unreachable (exit 3); started again, the node rejoins by itself and site.yml
// brings the cluster back to three with no manual step.
import t from 'tap';
import {
  consumeExactly,
  declareQuorum,
  deleteQueue,
  open,
  publishConfirmed,
} from '../../dist/lib/modules/rabbitmq/amqp.js';
import { ensureCluster, events, lab, recap, rmqplay, ssh, verifyCreds } from '../helpers.js';

t.test('kill the leader of a quorum queue: no confirmed message is lost', async (t) => {
  const hosts = ensureCluster();
  const creds = verifyCreds();
  const node = (h: { name: string; ip: string }) => ({ name: h.name, host: h.ip, port: 5672 });
  const queue = `failover-${Date.now()}`;
  const c1 = await open(node(hosts[0]), creds);
  await declareQuorum(c1, queue);
  const pub = await publishConfirmed(c1, queue, 1000);
  t.equal(pub.confirmed, 1000, '1000 messages confirmed');
  await c1.close();
  const q = ssh(hosts[0], `rabbitmqctl list_queues name leader --formatter json`);
  const leaderNode = (JSON.parse(q.stdout.slice(q.stdout.indexOf('['))) as { name: string; leader: string }[]).find(
    (x) => x.name === queue,
  )!.leader;
  const leader = hosts.find((h) => `rabbit@${h.name}` === leaderNode)!;
  t.ok(leader, `the leader is ${leaderNode}`);
  t.equal(lab(['kill', leader.name]).status, 0, `lab kill ${leader.name}`);
  const others = hosts.filter((h) => h !== leader);
  const c2 = await open(node(others[0]), creds);
  const got = await consumeExactly(c2, queue, pub.digests, 60_000);
  t.same(
    { missing: got.missing.length, duplicates: got.duplicates.length, corrupt: got.corrupt.length },
    { missing: 0, duplicates: 0, corrupt: 0 },
    `every confirmed message consumed through ${others[0].name}, exactly once, same bytes`,
  );
  await deleteQueue(c2, queue);
  await c2.close();

  const v = rmqplay(['playbooks/verify.yml', '-i', 'lab', '--json']);
  t.equal(v.status, 3, 'verify.yml: exit 3, a host is unreachable');
  const rc = recap(events(v.stdout));
  t.equal(rc[leader.name]?.unreachable, 1, `${leader.name} reported unreachable`);
  for (const h of others) t.equal(rc[h.name]?.failed, 0, `${h.name}: no failed task`);
  const ver = events(v.stdout).find((e) => e.task?.includes('amqp_verify'));
  t.equal(ver?.status, 'ok', 'amqp_verify passed on the two left');

  t.equal(lab(['start', leader.name]).status, 0, `lab start ${leader.name}`);
  let rejoined = false;
  for (let i = 0; i < 60 && !rejoined; i++) {
    const s = ssh(leader, 'rabbitmqctl cluster_status --formatter json 2>/dev/null');
    rejoined = s.status === 0 && JSON.parse(s.stdout.slice(s.stdout.indexOf('{'))).running_nodes.length === 3;
    if (!rejoined) await new Promise((r) => setTimeout(r, 2000));
  }
  t.ok(rejoined, `${leader.name} rejoined the cluster by itself`);
  const site = rmqplay(['playbooks/site.yml', '-i', 'lab', '--json']);
  t.equal(site.status, 0, 'site.yml exits 0 with no manual step');
  for (const h of hosts) {
    const s = ssh(h, 'rabbitmqctl cluster_status --formatter json');
    t.equal(
      JSON.parse(s.stdout.slice(s.stdout.indexOf('{'))).running_nodes.length,
      3,
      `${h.name}: three nodes running`,
    );
  }
});
