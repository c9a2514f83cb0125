// The RabbitMQ snapshot (issue 11) against a real node: lab node1 of the running cluster, over SSH, through the code
// the tasks use. The erl_call read answers by itself (rabbitmqctl shadowed) with the same JSON as rabbitmqctl eval;
// the password check on the controller agrees with the node's authenticate_user; the user, vhost and policy tasks
// converge with it; a converged set of tasks reads the node once. It creates, then deletes, one user and one
// vhost named rmqplay-test-<random>.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { SshHost, sshTarget } from '../../dist/lib/connection/ssh.js';
import { sh } from '../../dist/lib/connection/quote.js';
import { Pending } from '../../dist/lib/modules/pending.js';
import { RunShared } from '../../dist/lib/modules/task.js';
import {
  part,
  passwordMatches,
  snapshot,
  SNAPSHOT_CMD,
  SNAPSHOT_EXPR,
} from '../../dist/lib/modules/rabbitmq/_snapshot.js';
import { rabbitmq_user, userState } from '../../dist/lib/modules/rabbitmq/rabbitmq_user.js';
import { rabbitmq_vhost } from '../../dist/lib/modules/rabbitmq/rabbitmq_vhost.js';
import { rabbitmq_policy } from '../../dist/lib/modules/rabbitmq/rabbitmq_policy.js';
import { rabbitmq_health } from '../../dist/lib/modules/rabbitmq/rabbitmq_health.js';
import { rabbitmq_feature_flags } from '../../dist/lib/modules/rabbitmq/rabbitmq_feature_flags.js';
import { rabbitmq_cluster } from '../../dist/lib/modules/rabbitmq/rabbitmq_cluster.js';
import { ensureCluster } from '../helpers.js';

t.setTimeout(600_000);

const CACHE = process.env.RMQPLAY_LAB_CACHE ?? '/var/cache/rmqplay/lab';
const [lab1] = ensureCluster();
const SHORT = lab1.name;
const NODE = `rabbit@${SHORT}`;
const node1 = new SshHost(
  sshTarget(SHORT, {
    ansible_host: lab1.ip,
    ansible_user: 'root',
    ansible_ssh_private_key_file: `${CACHE}/id_ed25519`,
    ansible_ssh_common_args: `-o UserKnownHostsFile=${CACHE}/known_hosts`,
  }),
);
t.teardown(() => node1.close());

async function ctl(args: string[], input?: string) {
  const feed = input === undefined ? '' : sh`printf '%s' ${input} | `;
  const r = await node1.run(feed + sh`rabbitmqctl ${args}`, { timeoutMs: 60_000 });
  return { code: r.code, out: r.stdout + r.stderr };
}

/** The rabbitmq_* tasks' context on this machine, the node's inventory name being its host part. */
function ctxOf(shared = new RunShared()) {
  const host = {
    name: SHORT,
    run: (script: string, opts?: object) => node1.run(script, opts),
    put: node1.put.bind(node1),
    get: node1.get.bind(node1),
    close: async () => undefined,
  };
  return {
    host,
    pending: new Pending(),
    pendingOf: () => new Pending(),
    checkMode: false,
    vars: { ansible_play_hosts: [SHORT], hostvars: { [SHORT]: {} } },
    taskId: 'e2e 11-snapshot',
    taskName: 'e2e 11-snapshot',
    findFile: (_k: string, n: string) => n,
    barrier: async () => undefined,
    shared,
  };
}

interface AnyTask {
  check(ctx: never, args: never): Promise<unknown>;
  plan(args: never, state: never): { action: string }[];
  apply(ctx: never, changes: never, args: never): Promise<unknown>;
}
/** check, plan, apply, then (as the executor does: the run's snapshot dropped) check again. */
async function converge(task: AnyTask, args: object): Promise<{ first: string[]; after: string[] }> {
  const ctx = ctxOf() as never;
  const s = await task.check(ctx, args as never);
  const changes = task.plan(args as never, s as never);
  if (changes.length) {
    (ctx as { shared: RunShared }).shared.changed();
    await task.apply(ctx, changes as never, args as never);
    (ctx as { shared: RunShared }).shared.changed();
  }
  const again = task.plan(args as never, (await task.check(ctx, args as never)) as never);
  return { first: changes.map((c) => c.action), after: again.map((c) => c.action) };
}

t.test('erl_call answers alone, with what rabbitmqctl eval says', async (t) => {
  const shadowed = 'rabbitmqctl() { echo rabbitmqctl-was-called; return 1; }\n';
  const fast = await node1.run(shadowed + SNAPSHOT_CMD, { timeoutMs: 60_000 });
  t.notMatch(fast.stdout, /rabbitmqctl-was-called/, 'erl_call answered: rabbitmqctl was not needed');
  const slow = await node1.run(sh`rabbitmqctl eval ${SNAPSHOT_EXPR}`, { timeoutMs: 60_000 });
  const line = (out: string) => out.split('\n').find((l) => l.startsWith('RMQPLAY-SNAPSHOT ')) ?? `none in: ${out}`;
  const parsed = (out: string) => JSON.parse(line(out).slice('RMQPLAY-SNAPSHOT '.length));
  t.same(parsed(fast.stdout), parsed(slow.stdout), 'the same snapshot both ways');
  const fallback = await node1.run('erl_call() { return 1; }\n' + SNAPSHOT_CMD, { timeoutMs: 60_000 });
  t.same(parsed(fallback.stdout), parsed(slow.stdout), 'erl_call failing: rabbitmqctl eval answers instead');
});

t.test('the snapshot, the password check, the tasks converge', async (t) => {
  const name = `rmqplay-test-${randomBytes(3).toString('hex')}`;
  t.teardown(async () => {
    await ctl(['delete_user', name]);
    await ctl(['delete_vhost', name]);
  });
  const started = Date.now();
  const s = await snapshot(ctxOf() as never, 'test');
  t.comment(`one snapshot read: ${Date.now() - started} ms`);
  t.equal(s.node, NODE, 'the node that answered');
  t.equal(s.rabbit_running, true);
  const c = part(s, 'cluster', 'test');
  t.ok(c.disc.includes(NODE) && c.running.includes(NODE), 'this node: a disc member, running');
  for (const k of ['alarms', 'partitions', 'users', 'permissions', 'vhosts', 'policies', 'feature_flags', 'plugins'])
    t.doesNotThrow(() => part(s, k as never, 'test'), `${k}: read`);
  t.ok(
    part(s, 'feature_flags', 'test').some((f) => f.name === 'quorum_queue'),
    'feature flags listed',
  );
  t.ok(
    part(s, 'vhosts', 'test').some((v) => v.name === '/'),
    'vhosts listed',
  );

  // The tasks create what the snapshot then shows, and converge.
  const pw = ` ${randomBytes(6).toString('hex')} é `;
  const vhost = { name, default_queue_type: 'quorum' };
  t.same(await converge(rabbitmq_vhost, vhost), {
    first: [`create vhost ${name} (default queue type quorum)`],
    after: [],
  });
  const user = { name, password: pw, tags: ['monitoring'], permissions: [{ vhost: name, write: '' }] };
  const u = await converge(rabbitmq_user, user);
  t.equal(u.first.length, 3, `create, tags, permissions: ${u.first.join('; ')}`);
  t.same(u.after, [], 'the user converged: the password matches the hash the node made');
  const policy = {
    name,
    vhost: name,
    pattern: '^x\\.',
    apply_to: 'queues',
    priority: 2,
    definition: { 'max-length': 5, overflow: 'reject-publish' },
  };
  t.same((await converge(rabbitmq_policy, policy)).after, [], 'the policy converged');

  // The controller's password check agrees with the node's own (authenticate_user, on stdin).
  const fresh = await snapshot(ctxOf() as never, 'test');
  const mine = part(fresh, 'users', 'test').find((x) => x.name === name)!;
  for (const candidate of [pw, pw.trim(), 'wrong', `${pw.trim()}x`]) {
    const node = (await ctl(['authenticate_user', name], candidate)).code === 0;
    t.equal(passwordMatches(mine, candidate), node, `${JSON.stringify(candidate)}: the node says ${node}`);
  }
  t.match(userState(fresh, user), { exists: true, tags: ['monitoring'], passwordOk: true });
  t.same(userState(fresh, user).perms, [{ vhost: name, configure: '.*', write: '', read: '.*' }]);

  // A converged set of tasks on one run: one read.
  const shared = new RunShared();
  let reads = 0;
  const counting = ctxOf(shared);
  const run = counting.host.run;
  counting.host.run = (script: string, opts?: object) => {
    if (script.includes('erl_call')) reads++;
    return run(script, opts);
  };
  const ctx = counting as never;
  await rabbitmq_cluster.check(ctx, { seed: SHORT } as never);
  await rabbitmq_feature_flags.check(ctx, {} as never);
  t.same(rabbitmq_vhost.plan(vhost as never, (await rabbitmq_vhost.check(ctx, vhost as never)) as never), []);
  t.same(rabbitmq_user.plan(user as never, (await rabbitmq_user.check(ctx, user as never)) as never), []);
  t.same(rabbitmq_policy.plan(policy as never, (await rabbitmq_policy.check(ctx, policy as never)) as never), []);
  await rabbitmq_health.check(ctx, { nodes: [SHORT], wait: 120 } as never);
  t.equal(reads, 1, 'cluster, feature flags, vhost, user, policy and health: one read of the node');
});
