// rolling-restart.yml on 3 nodes while a publisher sends confirmed messages (reconnecting to the
// next node when its node restarts): every confirmed message is consumed afterwards.
import t from 'tap';
import { spawn } from 'node:child_process';
import {
  consumeExactly,
  declareQuorum,
  deleteQueue,
  open,
  publishConfirmed,
} from '../../dist/lib/modules/rabbitmq/amqp.js';
import { CLI, ensureCluster, events, ssh, verifyCreds } from '../helpers.js';

t.test('rolling restart under load keeps every confirmed message', async (t) => {
  const hosts = ensureCluster();
  const creds = verifyCreds();
  const nodes = hosts.map((h) => ({ name: h.name, host: h.ip, port: 5672 }));
  const starts = hosts.map((h) => ssh(h, 'systemctl show -p ExecMainPID --value rabbitmq-server').stdout.trim());
  const queue = `rolling-${Date.now()}`;
  const setup = await open(nodes[0], creds);
  await declareQuorum(setup, queue);
  await setup.close();

  const confirmed = new Map<string, string>();
  let stop = false,
    next = 0,
    reconnects = 0,
    batches = 0;
  const publisher = (async () => {
    let i = 0;
    while (!stop) {
      const n = nodes[i++ % nodes.length];
      try {
        const conn = await open(n, creds, 5000);
        while (!stop) {
          const rep = await publishConfirmed(conn, queue, 20, 15_000, next);
          next += 20;
          batches++;
          for (const id of rep.confirmedIds) confirmed.set(id, rep.digests.get(id)!);
          if (rep.confirmed < 20) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        // A connection to a node that went down may never answer its close: wait 5 s at most.
        await Promise.race([conn.close().catch(() => undefined), new Promise((r) => setTimeout(r, 5000))]);
      } catch {
        reconnects++;
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  })();

  const rr = await new Promise<{ code: number; out: string }>((resolve) => {
    const p = spawn('node', [CLI, 'playbooks/rolling-restart.yml', '-i', 'lab', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
  stop = true;
  await publisher;
  t.equal(rr.code, 0, 'rolling-restart.yml exits 0');
  const restarts = events(rr.out)
    .filter((e) => e.task === 'restart the node' && e.status === 'changed')
    .map((e) => e.host);
  t.same(restarts, ['node1', 'node2', 'node3'], 'each node restarted, one at a time, in order');
  t.notSame(
    hosts.map((h) => ssh(h, 'systemctl show -p ExecMainPID --value rabbitmq-server').stdout.trim()),
    starts,
    'the brokers really are new processes',
  );
  const published = `${confirmed.size} confirmed in ${batches} batches, ${reconnects} reconnects`;
  t.ok(confirmed.size >= 1000, `the publisher kept confirming during the restarts (${published})`);

  const c = await open(nodes[2], creds);
  const got = await consumeExactly(c, queue, confirmed, 180_000);
  t.equal(got.missing.length, 0, `every one of the ${confirmed.size} confirmed messages was consumed`);
  t.equal(got.corrupt.length, 0, 'with the same bytes');
  await deleteQueue(c, queue);
  await c.close();
});
