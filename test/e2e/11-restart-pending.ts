// Handlers survive a failed run, on the RabbitMQ cluster (issue 10, point 3): site.yml changes rabbitmq.conf
// (a new memory watermark, which notifies "restart rabbitmq") and a later task fails on every node (a plugin that
// does not exist), so the play ends before its handlers. The next run restarts each node first, as the pending
// handlers say, and the cluster ends correct: three running nodes, each with the new watermark in effect.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { ensureCluster, events, Ev, LabHost, rmqplay, ssh } from '../helpers.js';

const SITE = 'playbooks/site.yml';
const STATE = '.rmqplay/handlers-lab.json';
const NEW_WATERMARK = '0.45';

interface HandlersEv extends Ev {
  action?: string;
  handlers?: string[];
}

const startedAt = (h: LabHost) => ssh(h, 'systemctl show -p ActiveEnterTimestamp rabbitmq-server').stdout.trim();
const watermark = (h: LabHost) =>
  ssh(h, "rabbitmqctl eval 'vm_memory_monitor:get_vm_memory_high_watermark().'").stdout.trim();

function runningNodes(h: LabHost): number {
  const r = ssh(h, 'rabbitmqctl cluster_status --formatter json');
  const start = r.stdout.indexOf('{');
  return start < 0 ? 0 : (JSON.parse(r.stdout.slice(start)) as { running_nodes: string[] }).running_nodes.length;
}

t.test('rabbitmq.conf changed, then a later task failed: the next run restarts the nodes first', async (t) => {
  const hosts = ensureCluster();
  const names = hosts.map((h) => h.name);
  const before = Object.fromEntries(hosts.map((h) => [h.name, startedAt(h)]));
  const watermarkVar = `rabbitmq_memory_high_watermark=${NEW_WATERMARK}`;
  const badPlugin = JSON.stringify({ rabbitmq_plugins: ['rabbitmq_management', 'rabbitmq_no_such_plugin'] });

  const failed = rmqplay([SITE, '-i', 'lab', '--json', '-e', watermarkVar, '-e', badPlugin]);
  const evs = events(failed.stdout) as HandlersEv[];
  t.equal(failed.status, 2, `a task failed: exit 2${failed.status === 2 ? '' : ' ' + failed.stdout.slice(-2000)}`);
  const conf = evs.filter((e) => e.task?.startsWith('rabbitmq.conf') && e.status === 'changed');
  t.same(conf.map((e) => e.host).sort(), names, 'rabbitmq.conf changed on every node');
  const plugins = evs.filter((e) => e.task === 'enabled plugins' && e.status === 'failed');
  t.same(plugins.map((e) => e.host).sort(), names, `the plugins task failed on every node: ${plugins[0]?.msg}`);
  t.notOk(
    evs.some((e) => e.task === 'restart rabbitmq'),
    'the restart handler did not run in the failed run',
  );
  for (const h of hosts) t.equal(startedAt(h), before[h.name], `${h.name}: not restarted yet`);
  t.ok(existsSync(STATE), `the pending handlers are kept in ${STATE}`);
  const saved = JSON.parse(readFileSync(STATE, 'utf8')) as { hosts: Record<string, { notified: string[] }> };
  t.same(Object.keys(saved.hosts).sort(), names, 'for every node');
  t.ok(
    Object.values(saved.hosts).every((s) => s.notified.includes('restart rabbitmq')),
    'each has "restart rabbitmq" pending',
  );

  const next = rmqplay([SITE, '-i', 'lab', '--json', '-e', watermarkVar]);
  const nextEvs = events(next.stdout) as HandlersEv[];
  t.equal(next.status, 0, `the next run exits 0${next.status ? ' ' + next.stdout.slice(-2000) : ''}`);
  for (const h of hosts) {
    const own = nextEvs.filter((e) => e.host === h.name && (e.event === 'handlers' || e.event === 'task'));
    t.same(
      [own[0]?.event, own[0]?.action, own[0]?.handlers],
      ['handlers', 'run', ['restart rabbitmq']],
      `${h.name}: the run starts by saying the pending handler runs first`,
    );
    t.same([own[1]?.task, own[1]?.status], ['restart rabbitmq', 'changed'], `${h.name}: then the restart, first`);
    t.not(startedAt(h), before[h.name], `${h.name}: the node was restarted`);
    t.equal(watermark(h), NEW_WATERMARK, `${h.name}: the new watermark is in effect`);
    t.equal(runningNodes(h), 3, `${h.name}: three nodes running`);
  }
  const conf2 = nextEvs.filter((e) => e.task?.startsWith('rabbitmq.conf'));
  t.ok(
    conf2.every((e) => e.status === 'ok'),
    'rabbitmq.conf itself did not change again',
  );
  t.notOk(existsSync(STATE) && readFileSync(STATE, 'utf8').includes('restart rabbitmq'), 'the state file is cleared');

  // The nodes keep the new watermark: the next site.yml run of the suite (13, five nodes) rewrites rabbitmq.conf
  // and restarts them anyway, so a third restart here would only cost time.
});
