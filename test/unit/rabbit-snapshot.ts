// The RabbitMQ node's snapshot (lib/modules/rabbitmq/_snapshot.ts) without a node: what rabbitmqctl eval
// prints is parsed, each task's state is read from it, passwords are checked against RabbitMQ's own hashes,
// and the rabbitmq_* tasks of one host read it once, again only after a change. The same expression against a
// real node: test/e2e/11-snapshot.ts (lab node1).
import t from 'tap';
import { thrown } from '../helpers.js';
import { createHash, randomBytes } from 'node:crypto';
import { Pending } from '../../dist/lib/modules/pending.js';
import { SkipTask, UnknownState } from '../../dist/lib/util/errors.js';
import { RunShared } from '../../dist/lib/modules/task.js';
import {
  parseSnapshot,
  part,
  passwordMatches,
  SNAPSHOT_CMD,
  SNAPSHOT_EXPR,
} from '../../dist/lib/modules/rabbitmq/_snapshot.js';
import { rabbitmq_user, userState } from '../../dist/lib/modules/rabbitmq/rabbitmq_user.js';
import { rabbitmq_vhost, vhostState } from '../../dist/lib/modules/rabbitmq/rabbitmq_vhost.js';
import { policyState, rabbitmq_policy } from '../../dist/lib/modules/rabbitmq/rabbitmq_policy.js';
import { flagsToEnable, rabbitmq_feature_flags } from '../../dist/lib/modules/rabbitmq/rabbitmq_feature_flags.js';
import { healthOf, rabbitmq_health } from '../../dist/lib/modules/rabbitmq/rabbitmq_health.js';
import { rabbitmq_cluster } from '../../dist/lib/modules/rabbitmq/rabbitmq_cluster.js';

/** Salted hash as RabbitMQ stores it: 4 random bytes, then hash(salt ++ password), base64. */
function rabbitHash(password: string, algorithm = 'sha256'): string {
  const salt = randomBytes(4);
  return Buffer.concat([salt, createHash(algorithm).update(salt).update(password).digest()]).toString('base64');
}

/** A snapshot of node1 of a three-node cluster, as the eval prints it (RabbitMQ 3.10's shapes). */
function snapshotOf(over: Record<string, unknown> = {}) {
  return {
    node: 'rabbit@node1',
    rabbit_running: true,
    cluster: {
      name: 'rabbit@node1',
      all: ['rabbit@node1', 'rabbit@node2', 'rabbit@node3'],
      disc: ['rabbit@node1', 'rabbit@node2', 'rabbit@node3'],
      running: ['rabbit@node1', 'rabbit@node2', 'rabbit@node3'],
    },
    alarms: [],
    partitions: [],
    users: [
      // Made by RabbitMQ 3.10.8 (add_user alice, the password "S3cret!" on stdin).
      {
        name: 'alice',
        tags: ['monitoring', 'administrator'],
        hashing: 'rabbit_password_hashing_sha256',
        hash: 'CCC4nZ2oNrdc3kjd30Z4AQeNj0v0HDmT0YwzOfg9wEuzp7NE',
      },
      { name: 'verify', tags: [], hashing: 'rabbit_password_hashing_sha256', hash: rabbitHash('v-pass') },
    ],
    permissions: [
      { user: 'alice', vhost: 'qv', configure: '.*', write: '', read: 'r.*' },
      { user: 'verify', vhost: '/', configure: '.*', write: '.*', read: '.*' },
    ],
    vhosts: [
      { name: '/', default_queue_type: null },
      { name: 'qv', default_queue_type: 'quorum' },
    ],
    policies: [
      {
        vhost: 'qv',
        name: 'ha',
        pattern: '^ha\\.',
        apply_to: 'queues',
        definition: { 'queue-mode': 'lazy', 'max-length': 10 },
        priority: 3,
      },
      { vhost: '/', name: 'empty', pattern: '.*', apply_to: 'all', definition: [], priority: 0 },
    ],
    feature_flags: [
      { name: 'quorum_queue', state: 'enabled', stability: 'stable' },
      { name: 'stream_queue', state: 'enabled', stability: 'stable' },
      { name: 'experimental', state: 'disabled', stability: 'experimental' },
    ],
    plugins: { enabled: ['rabbitmq_management'], running: ['rabbitmq_management', 'rabbitmq_web_dispatch'] },
    ...over,
  };
}
const printed = (s: unknown) => `RMQPLAY-SNAPSHOT ${JSON.stringify(s)}\nok\n`;

t.test('parse: the snapshot line among what the CLI prints; failures say what to do and print no hash', async (t) => {
  const s = snapshotOf();
  const noisy = `12:00:00.000 [warning] something\n${printed(s)}`;
  t.same(parseSnapshot(noisy, 'x'), s);
  t.throws(
    () => parseSnapshot('Error: unable to perform an operation on node rabbit@node1', 'cluster membership'),
    /cluster membership: rabbitmqctl eval printed no snapshot: .*unable to perform.*systemctl status rabbitmq-server/,
  );
  const cut = printed(s).slice(0, 300);
  let msg = '';
  try {
    parseSnapshot(cut, 'users');
  } catch (e) {
    msg = (e as Error).message;
  }
  t.match(msg, /not JSON/);
  t.notMatch(msg, /CCC4nZ2o/, 'a cut snapshot is not printed: it holds password hashes');
});

t.test('part: a part the node could not read fails the task that needs it, naming why', async (t) => {
  const s = snapshotOf({ rabbit_running: false, users: { error: 'exit: {aborted,{no_exists,[rabbit_user]}}' } });
  t.throws(
    () => part(s, 'users', 'user alice'),
    /user alice: rabbit@node1 could not read its users: exit: .*rabbit application is not running/,
  );
  t.same(part(s, 'vhosts', 'x'), s.vhosts, 'the other parts are read');
});

t.test("passwords: checked against RabbitMQ's salted hashes, as rabbitmqctl reads them from stdin", async (t) => {
  const alice = snapshotOf().users[0];
  t.equal(passwordMatches(alice, 'S3cret!'), true, 'the hash RabbitMQ 3.10 made');
  t.equal(passwordMatches(alice, 'S3cret'), false);
  // rabbitmqctl reads the first line of stdin, trimmed: " sp ace " was stored as "sp ace" (RabbitMQ 3.10.8).
  const spaced = { name: 's', tags: [], hashing: 'rabbit_password_hashing_sha256', hash: '' };
  spaced.hash = 'QLWYh/OYCHlhh+n7roTsp0KZJVbhWGEbRoasDMhj2H4Qgo/V';
  t.equal(passwordMatches(spaced, ' sp ace '), true, 'trimmed, as add_user stored it');
  t.equal(passwordMatches(spaced, 'sp ace\nrest'), true, 'the first line');
  t.equal(passwordMatches(spaced, 'space'), false);
  const u = (hashing: string, hash: string | null) => ({ name: 'u', tags: [], hashing, hash });
  t.equal(passwordMatches(u('rabbit_password_hashing_sha512', rabbitHash('p', 'sha512')), 'p'), true, 'sha512');
  t.equal(passwordMatches(u('rabbit_password_hashing_md5', rabbitHash('p', 'md5')), 'p'), true, 'md5');
  t.equal(passwordMatches(u('undefined', rabbitHash('p', 'md5')), 'p'), true, 'no algorithm recorded: md5');
  t.equal(passwordMatches(u('rabbit_password_hashing_sha256', null), 'p'), false, 'no password');
  t.equal(passwordMatches(u('rabbit_password_hashing_sha256', ''), ''), false, 'empty hash');
  t.equal(passwordMatches(u('my_hashing', rabbitHash('p')), 'p'), undefined, 'unknown hashing: ask the node');
});

t.test("each task's state from the snapshot", async (t) => {
  const s = snapshotOf();
  const alice = { name: 'alice', password: 'S3cret!', tags: ['administrator', 'monitoring'] };
  t.same(userState(s, alice), {
    exists: true,
    tags: ['administrator', 'monitoring'],
    passwordOk: true,
    perms: [{ vhost: 'qv', configure: '.*', write: '', read: 'r.*' }],
  });
  t.equal(userState(s, { ...alice, password: 'other' }).passwordOk, false);
  t.same(userState(s, { name: 'bob', password: 'x' }), { exists: false, tags: [], passwordOk: false, perms: [] });
  const converged = { ...alice, permissions: [{ vhost: 'qv', configure: '.*', write: '', read: 'r.*' }] };
  t.same(rabbitmq_user.plan(converged, userState(s, converged) as never), [], 'alice as she is: nothing to do');
  t.same(vhostState(s, 'qv'), { exists: true, dqt: 'quorum' });
  t.same(vhostState(s, '/'), { exists: true, dqt: 'classic' }, 'no default queue type: classic');
  t.same(vhostState(s, 'nope'), { exists: false });
  t.same(rabbitmq_vhost.plan({ name: 'qv', default_queue_type: 'quorum' }, vhostState(s, 'qv')), []);
  const ha = { name: 'ha', vhost: 'qv', pattern: '^ha\\.', apply_to: 'queues' as const, priority: 3 };
  const def = { 'max-length': 10, 'queue-mode': 'lazy' };
  t.same(rabbitmq_policy.plan({ ...ha, definition: def }, policyState(s, 'qv', 'ha')), [], 'same policy: ok');
  t.equal(rabbitmq_policy.plan({ ...ha, definition: { 'max-length': 11 } }, policyState(s, 'qv', 'ha')).length, 1);
  t.equal(policyState(s, '/', 'ha'), null, 'a policy is per vhost');
  t.same(policyState(s, '/', 'empty')?.definition, {}, 'an empty proplist is an empty definition');
  t.same(flagsToEnable(s), [], 'every stable flag enabled; experimental ones are not asked for');
  const off = snapshotOf({ feature_flags: [{ name: 'stream_queue', state: 'disabled', stability: 'stable' }] });
  t.same(flagsToEnable(off), ['stream_queue']);
  const down = { ...off, cluster: { ...off.cluster, running: ['rabbit@node1', 'rabbit@node2'] } };
  t.throws(() => flagsToEnable(down), /stream_queue would be enabled, but rabbit@node3 of the cluster is not running/);
  t.ok(thrown(() => flagsToEnable(down)) instanceof SkipTask, 'skipped, not failed');
  t.same(flagsToEnable({ ...s, cluster: down.cluster }), [], 'a node down and nothing to enable: ok');
  const timedOut = snapshotOf({ feature_flags: { error: 'no answer within 20 s' } });
  t.ok(thrown(() => flagsToEnable(timedOut)) instanceof SkipTask, 'not listed in time (a node cut off): skipped');
  const broken = snapshotOf({ feature_flags: { error: 'error: undef' } });
  t.throws(() => flagsToEnable(broken), /could not read its feature flags: error: undef/, 'another error fails');
  const want = ['rabbit@node1', 'rabbit@node2', 'rabbit@node3'];
  t.same(healthOf(s, want), { waiting: [], problems: [], running: want });
  const h = healthOf(
    snapshotOf({
      cluster: { ...s.cluster, disc: want.slice(0, 2), running: ['rabbit@node1'] },
      alarms: ['{resource_limit,memory,rabbit@node1}'],
      partitions: [{ node: 'rabbit@node1', peers: ['rabbit@node2'] }],
    }),
    want,
  );
  t.same(h.waiting, ['not in this cluster: rabbit@node3', 'not running: rabbit@node2, rabbit@node3']);
  t.same(h.problems, [
    'alarms: {resource_limit,memory,rabbit@node1}',
    'partitions: rabbit@node1 cut off from rabbit@node2',
  ]);
});

t.test('the expression: no password, no word the peers path rewrites, one argument', async (t) => {
  t.notMatch(SNAPSHOT_EXPR, /rabbitmqctl/, 'ctl() rewrites "rabbitmqctl" to ask peers: the expression has none');
  t.match(
    SNAPSHOT_CMD,
    /\| runuser -u rabbitmq -- env HOME=\/var\/lib\/rabbitmq erl_call -sname rabbit -e /,
    'erl_call first',
  );
  t.notMatch(SNAPSHOT_CMD, /erl_call[^|]* -c /, 'the cookie never on a command line');
  t.match(SNAPSHOT_CMD, /\(\*\) rabbitmqctl eval '/, 'else rabbitmqctl, with the expression as one quoted argument');
});

/** A host whose rabbitmqctl answers from a snapshot; it records every script it is given. */
function fakeNode(snap: () => unknown) {
  const scripts: string[] = [];
  const host = {
    name: 'node1',
    async run(script: string) {
      scripts.push(script);
      const parts = [...script.matchAll(/printf '%s\\0%s\\0%s\\0' (\w+)/g)].map((m) => m[1]);
      const out = parts.map((k) => {
        const said = script.includes('authenticate_user') ? 'Success' : printed(snap());
        return `${k}\0${0}\0${said}\0`;
      });
      return { code: 0, stdout: out.join(''), stderr: '' };
    },
    put: async () => undefined,
    get: async () => null,
    close: async () => undefined,
  };
  return { host, scripts };
}

function ctxOf(host: unknown, shared = new RunShared(), pending = new Pending(), checkMode = false) {
  const hostvars = { node1: {}, node2: {}, node3: {} };
  return {
    host,
    pending,
    pendingOf: (h: string) => (h === 'node1' ? pending : new Pending()),
    checkMode,
    vars: { ansible_play_hosts: ['node1', 'node2', 'node3'], hostvars },
    taskId: 'test',
    taskName: 'test',
    findFile: (_k: string, n: string) => n,
    barrier: async () => undefined,
    shared,
  };
}

t.test('the tasks of a converged site read the node once; again after a change; never the password', async (t) => {
  const { host, scripts } = fakeNode(() => snapshotOf());
  const ctx = ctxOf(host) as never;
  const users = [
    { name: 'alice', password: 'S3cret!', tags: ['administrator', 'monitoring'] },
    { name: 'verify', password: 'v-pass', tags: [], permissions: [{ vhost: '/' }] },
  ];
  const states = await Promise.all([
    rabbitmq_cluster.check(ctx, { seed: 'node1' }),
    rabbitmq_feature_flags.check(ctx, {}),
    rabbitmq_vhost.check(ctx, { name: 'qv', default_queue_type: 'quorum' }),
    ...users.map((u) => rabbitmq_user.check(ctx, u)),
    rabbitmq_policy.check(ctx, { name: 'ha', vhost: 'qv', pattern: '^ha\\.', definition: {} }),
    rabbitmq_health.check(ctx, { nodes: ['node1', 'node2', 'node3'], wait: 120 }),
  ]);
  t.equal(scripts.length, 1, 'seven tasks, asking at once: one rabbitmqctl call');
  t.match(states[0], { self: 'rabbit@node1', seed: 'rabbit@node1' });
  t.equal(rabbitmq_user.plan(users[1], states[4] as never).length, 0, 'the verification user: converged');
  t.equal(scripts.filter((s) => s.includes('S3cret!') || s.includes('v-pass')).length, 0, 'no password sent');
  await rabbitmq_vhost.check(ctx, { name: 'other' });
  t.equal(scripts.length, 1, 'a later task: still the same read');
  (ctx as { shared: RunShared }).shared.changed();
  await rabbitmq_vhost.check(ctx, { name: 'other' });
  t.equal(scripts.length, 2, 'after a change: read again');
});

t.test('a password hashed in a way this does not know is checked by the node, on stdin', async (t) => {
  const snap = snapshotOf();
  snap.users[0].hashing = 'my_hashing';
  const { host, scripts } = fakeNode(() => snap);
  const st = await rabbitmq_user.check(ctxOf(host) as never, { name: 'alice', password: 'S3cret!' });
  t.equal(st.passwordOk, true);
  t.equal(scripts.length, 2);
  t.match(scripts[1], /printf '%s' 'S3cret!' \| rabbitmqctl authenticate_user alice/, 'through stdin');
});

t.test(
  'check mode: a stopped node that would be started is read through its peers; a new cluster is not read',
  async (t) => {
    const { host, scripts } = fakeNode(() => snapshotOf());
    const pending = new Pending();
    const start = { kind: 'service' as const, name: 'rabbitmq-server', active: true, fromStopped: true };
    pending.record('rabbitmq-server enabled and running', [{ action: 'start rabbitmq-server', effects: [start] }]);
    const st = await rabbitmq_vhost.check(ctxOf(host, new RunShared(), pending, true) as never, { name: 'qv' });
    t.same(st, { exists: true, dqt: 'quorum' });
    t.match(scripts[0], /for n in rabbit@node2 rabbit@node3/, 'asks the peers');
    t.match(scripts[0], /rmqctl_any eval/);
    const pkg = new Pending();
    const install = { kind: 'package' as const, name: 'rabbitmq-server', state: 'present' };
    pkg.record('rabbitmq-server package', [{ action: 'install rabbitmq-server', effects: [install] }]);
    const fresh = ctxOf(host, new RunShared(), pkg, true);
    fresh.pendingOf = () => pkg;
    t.same(await rabbitmq_vhost.check(fresh as never, { name: 'qv' }), { exists: false }, 'brand new: empty');
    t.equal(scripts.length, 1, 'nothing read for a cluster this run creates');
    const one = ctxOf(host, new RunShared(), pkg, true);
    const unknown = await rabbitmq_vhost.check(one as never, { name: 'qv' }).catch((e: unknown) => e);
    t.ok(unknown instanceof UnknownState, 'unknown: this node would be installed');
    t.match((unknown as Error).message, /depends on install rabbitmq-server/);
  },
);
