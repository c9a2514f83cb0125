// Read-only health: the node runs, every expected node is in the same cluster and running,
// no resource alarms, no partitions. Never changes anything.
import { SkipTask, TaskError } from '../../util/errors.js';
import { TaskType } from '../task.js';
import { ctl, json, playHostsPending } from './_rabbitmq.js';
import { nodeName } from './rabbitmq_cluster.js';

interface HealthArgs {
  nodes: string[];
}
interface Status {
  running_nodes: string[];
  disk_nodes: string[];
  alarms: unknown[];
  partitions: Record<string, unknown>;
}

export const rabbitmq_health: TaskType<HealthArgs, Status> = {
  name: 'rabbitmq_health',
  schema: {
    type: 'object',
    properties: { nodes: { type: 'array', items: { type: 'string' }, minItems: 1 } },
    required: ['nodes'],
    additionalProperties: false,
  },
  async check(ctx, a) {
    const busy = playHostsPending(ctx);
    if (busy.length) throw new SkipTask(`earlier tasks would change ${busy.join(', ')} first`);
    const r = await ctl(ctx, { status: 'rabbitmqctl cluster_status --formatter json' }, 'reading cluster status');
    const st = json<Status>(r.status.out, `cluster_status on ${ctx.host.name}`);
    const want = a.nodes.map((n) => nodeName(ctx, n));
    const notMember = want.filter((n) => !st.disk_nodes.includes(n));
    const notRunning = want.filter((n) => !st.running_nodes.includes(n));
    const partitions = Object.entries(st.partitions ?? {}).filter(([, v]) => Array.isArray(v) && v.length);
    const problems = [
      notMember.length ? `not in this cluster: ${notMember.join(', ')}` : '',
      notRunning.length ? `not running: ${notRunning.join(', ')}` : '',
      (st.alarms ?? []).length ? `alarms: ${JSON.stringify(st.alarms)}` : '',
      partitions.length ? `partitions: ${JSON.stringify(Object.fromEntries(partitions))}` : '',
    ].filter(Boolean);
    if (problems.length) throw new TaskError(`cluster unhealthy as seen from ${ctx.host.name}: ${problems.join('; ')}`);
    return st;
  },
  plan: () => [],
  result: (_a, st) => ({ msg: `${st.running_nodes.length} nodes running, no alarms, no partitions` }),
  async apply() {},
};
