// playbooks/site.yml on fresh lab hosts: a running 3-node cluster proved by amqp_verify; a second
// run changes and restarts nothing; --check touches nothing and predicts the run on fresh,
// converged and drifted hosts; an unknown rabbitmq.conf key fails before the node is touched;
// no secret is ever printed.
import t from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { events, fingerprint, freshLab, LabHost, labSecrets, pairs, recap, rmqplay, ssh } from '../helpers.js';

const SITE = 'playbooks/site.yml';
const PATHS = ['/etc', '/var/lib/rabbitmq'];
const LIVE = ['/var/lib/rabbitmq/mnesia'];
let hosts: LabHost[] = [];
const outputs: string[] = [];
const run = (args: string[]) => {
  const r = rmqplay(args);
  outputs.push(r.stdout, r.stderr);
  return r;
};

function clusterOf(h: LabHost): { running_nodes: string[]; disk_nodes: string[] } {
  const r = ssh(h, 'rabbitmqctl cluster_status --formatter json');
  return JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
}
const started = (h: LabHost) =>
  ssh(h, 'systemctl show -p ExecMainPID -p ActiveEnterTimestamp rabbitmq-server').stdout.trim();

t.before(() => {
  hosts = freshLab(3);
});

t.test('fresh hosts: --check predicts, touches nothing; the run builds the cluster', async (t) => {
  const before = fingerprint(hosts, PATHS, LIVE);
  const c = run([SITE, '-i', 'lab', '--check', '--json']);
  t.equal(c.status, 0, '--check exits 0');
  t.same(
    fingerprint(hosts, PATHS, LIVE),
    before,
    '/etc, /var/lib/rabbitmq and the dpkg status are unchanged by --check',
  );
  const cev = events(c.stdout);
  const r = run([SITE, '-i', 'lab', '--json']);
  t.equal(
    r.status,
    0,
    `site.yml exits 0 ${
      r.status
        ? r.stdout
            .split('\n')
            .filter((l) => l.includes('"failed"'))
            .join('\n')
        : ''
    }`,
  );
  const rev = events(r.stdout);
  const predicted = pairs(cev, ['changed']),
    unknown = pairs(cev, ['unknown']),
    changed = pairs(rev, ['changed']);
  t.same(
    predicted.filter((p) => !changed.includes(p)),
    [],
    'every pair --check reported as changed did change',
  );
  t.same(
    changed.filter((p) => !predicted.includes(p) && !unknown.includes(p)),
    [],
    'every pair the run changed was reported as changed or unknown',
  );
  for (const e of cev.filter((e) => e.status === 'unknown'))
    t.match(e.reason, /depends on .+ \(task ".+"\)/, `unknown ${e.host} ${e.task}: names the pending change`);
  t.ok(unknown.length <= 2 * hosts.length, `few unknowns (${unknown.length}): ${unknown.join(', ')}`);
  for (const h of hosts)
    t.same(
      clusterOf(h).running_nodes.sort(),
      ['rabbit@node1', 'rabbit@node2', 'rabbit@node3'],
      `${h.name}: all three nodes running`,
    );
  const v = rev.find((e) => e.task?.includes('amqp_verify'));
  t.equal(v?.status, 'ok', 'amqp_verify passed');
  t.match(
    v?.msg,
    /1000 persistent messages confirmed via node\d and consumed exactly once via node\d; replicas on 3 nodes/,
  );
});

t.test('second run: changed=0, nothing restarted', async (t) => {
  const before = hosts.map(started);
  const r = run([SITE, '-i', 'lab', '--json']);
  t.equal(r.status, 0);
  const rc = recap(events(r.stdout));
  for (const h of hosts) t.equal(rc[h.name]?.changed, 0, `${h.name}: changed=0`);
  t.same(hosts.map(started), before, 'the same rabbitmq-server processes since the same time: no restart');
});

function exact(t: any, state: string): string[] {
  const before = fingerprint(hosts, PATHS, LIVE);
  const c = run([SITE, '-i', 'lab', '--check', '--json']);
  t.equal(c.status, 0, `${state}: --check exits 0`);
  t.same(fingerprint(hosts, PATHS, LIVE), before, `${state}: --check touched nothing`);
  const cev = events(c.stdout);
  t.same(pairs(cev, ['unknown']), [], `${state}: no unknown`);
  const r = run([SITE, '-i', 'lab', '--json']);
  t.equal(r.status, 0, `${state}: the run exits 0`);
  t.same(
    pairs(cev, ['changed']),
    pairs(events(r.stdout), ['changed']),
    `${state}: --check listed exactly the pairs the run changed`,
  );
  return pairs(cev, ['changed']);
}

t.test('converged cluster: --check is exact and empty', async (t) => {
  t.same(exact(t, 'converged'), []);
});

t.test('drifted cluster: a config edited on one node, the service stopped on another', async (t) => {
  const watermark = 's/^vm_memory_high_watermark.relative.*/vm_memory_high_watermark.relative = 0.55/';
  t.equal(ssh(hosts[1], `sed -i '${watermark}' /etc/rabbitmq/rabbitmq.conf`).status, 0);
  t.equal(ssh(hosts[2], 'systemctl stop rabbitmq-server').status, 0);
  const changed = exact(t, 'drifted');
  t.ok(
    changed.some((p) => p.startsWith('node2 ') && p.includes('prepare.yml')),
    'node2: rabbitmq.conf restored',
  );
  t.ok(
    changed.some((p) => p.startsWith('node2 ') && p.includes('handlers')),
    'node2: restarted by the handler',
  );
  t.ok(
    changed.some((p) => p.startsWith('node3 ') && p.includes('install.yml')),
    'node3: service started',
  );
  for (const h of hosts) t.equal(clusterOf(h).running_nodes.length, 3, `${h.name}: three running again`);
});

t.test('an unknown rabbitmq.conf key fails the task before the node is touched', async (t) => {
  const conf = ssh(hosts[0], 'sha256sum /etc/rabbitmq/rabbitmq.conf').stdout;
  const since = started(hosts[0]);
  const r = run([SITE, '-i', 'lab', '-e', '{"rabbitmq_conf_extra": {"cluster_formation.aws.secret_access_key": "x"}}']);
  t.equal(r.status, 2, 'exit 2: a task failed');
  t.match(
    r.stdout,
    /line \d+: cluster_formation\.aws\.secret_access_key \(nearest valid key: cluster_formation\.aws\.secret_key\)/,
  );
  t.equal(ssh(hosts[0], 'sha256sum /etc/rabbitmq/rabbitmq.conf').stdout, conf, 'rabbitmq.conf unchanged');
  t.equal(started(hosts[0]), since, 'the node was not restarted');
  const aws = run([
    SITE,
    '-i',
    'lab',
    '--check',
    '--json',
    '-e',
    'rabbitmq_peer_discovery=aws',
    '-e',
    'rabbitmq_aws_access_key_id=AKIAEXAMPLE',
    '-e',
    'rabbitmq_aws_secret_key=not-a-real-secret-key',
  ]);
  const conf2 = events(aws.stdout).filter((e) => e.task?.startsWith('rabbitmq.conf'));
  t.same(
    conf2.map((e) => e.status),
    ['changed', 'changed', 'changed'],
    "the AWS variant's keys are all valid for the installed RabbitMQ",
  );
});

t.test("a config that does not boot is rolled back, and the host fails with the node's own message", async (t) => {
  const h = hosts[2];
  const conf = ssh(h, 'sha256sum < /etc/rabbitmq/rabbitmq.conf').stdout;
  const r = run([
    SITE,
    '-i',
    'lab',
    '--limit',
    h.name,
    '-e',
    '{"rabbitmq_conf_extra": {"vm_memory_high_watermark.relative": "lots"}}',
  ]);
  t.equal(r.status, 2, 'exit 2: the restart failed on that host');
  t.match(
    r.stdout,
    /did not start with its new configuration; the previous \/etc\/rabbitmq\/rabbitmq\.conf was restored/,
  );
  t.match(r.stdout, /"lots" cannot be converted to a\(n\) float/, "the node's own words");
  t.equal(ssh(h, 'sha256sum < /etc/rabbitmq/rabbitmq.conf').stdout, conf, 'the previous rabbitmq.conf is back');
  t.equal(ssh(h, 'systemctl is-active rabbitmq-server').stdout.trim(), 'active', 'and the node runs with it');
  t.equal(run([SITE, '-i', 'lab', '--json']).status, 0, 'the next normal run is clean');
});

const ROTATED = 'ROTATEDCOOKIE' + 'Q'.repeat(20);

t.test('a new Erlang cookie on running nodes: stop, write, start; the CLI is never locked out', async (t) => {
  const r = run([SITE, '-i', 'lab', '--json', '-e', `rabbitmq_erlang_cookie=${ROTATED}`]);
  t.equal(
    r.status,
    0,
    `site.yml with a new cookie exits 0${
      r.status
        ? ` ${events(r.stdout)
            .filter((e) => e.status === 'failed')
            .map((e) => `${e.host}: ${e.msg}`)
            .join(' | ')
            .slice(0, 1500)}`
        : ''
    }`,
  );
  const cookieTask = events(r.stdout).filter((e) => e.task?.startsWith('Erlang cookie'));
  t.same(
    cookieTask.map((e) => e.status),
    ['changed', 'changed', 'changed'],
    'the cookie changed on every node',
  );
  t.ok(
    cookieTask.every((e) => e.changes?.[0]?.includes('stop rabbitmq-server, write, start')),
    'as stop, write, start',
  );
  const want = createHash('sha256').update(ROTATED).digest('hex');
  for (const h of hosts) {
    t.equal(
      ssh(
        h,
        'sha256sum < /var/lib/rabbitmq/.erlang.cookie | cut -d" " -f1; stat -c %U:%a /var/lib/rabbitmq/.erlang.cookie',
      ).stdout,
      `${want}\nrabbitmq:400\n`,
      `${h.name}: the new cookie, 0400, owned by rabbitmq`,
    );
    t.equal(ssh(h, 'rabbitmqctl -q status >/dev/null').status, 0, `${h.name}: rabbitmqctl still works`);
    t.equal(clusterOf(h).running_nodes.length, 3, `${h.name}: three running`);
  }
  t.equal(run([SITE, '-i', 'lab']).status, 0, "and back to the vault's cookie");
});

t.test('secrets never appear in any output', async (t) => {
  const secrets = Object.values(labSecrets()).concat(['not-a-real-secret-key']);
  t.ok(secrets.length >= 3);
  const d = run([SITE, '-i', 'lab', '--check', '--diff', '-e', 'rabbitmq_erlang_cookie=ZZZZZZZZZZZZZZZZZZZZZZZZ']);
  t.match(d.stdout, /replace the Erlang cookie/, 'a cookie change is shown as an action');
  for (const s of [...secrets, 'ZZZZZZZZZZZZZZZZZZZZZZZZ', ROTATED])
    t.notOk(
      outputs.some((o) => o.includes(s)),
      `a secret of ${s.length} characters is in no output`,
    );
});
