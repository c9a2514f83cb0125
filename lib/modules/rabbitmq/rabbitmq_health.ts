// Read-only health: the node runs, every expected node is in the same cluster and running,
// no resource alarms, no partitions. Never changes anything. Reads the node's snapshot (a converged run
// has read it already); with wait, a real run reads it again until the nodes are members and running.
import { SkipTask, TaskError } from '../../util/errors.js';
import { TaskCtx, TaskType } from '../task.js';
import { playHostsPending } from './_rabbitmq.js';
import { part, Snapshot, snapshot } from './_snapshot.js';
import { nodeName } from './rabbitmq_cluster.js';

interface HealthArgs {
  nodes: string[];
  /** Seconds to wait, in a real run, until every node is a member and running (what await_online_nodes did). */
  wait?: number;
}
interface Status {
  running: string[];
}
/** What is wrong: what may settle by itself (waited for), and what fails at once. */
interface Health {
  waiting: string[];
  problems: string[];
  running: string[];
}

/** The cluster's health as the node's snapshot shows it, for the nodes wanted (node names). */
export function healthOf(s: Snapshot, want: string[]): Health {
  const what = 'cluster health';
  const c = part(s, 'cluster', what);
  const notMember = want.filter((n) => !c.disc.includes(n));
  const notRunning = want.filter((n) => !c.running.includes(n));
  const alarms = part(s, 'alarms', what);
  const partitions = part(s, 'partitions', what);
  const waiting = [
    notMember.length ? `not in this cluster: ${notMember.join(', ')}` : '',
    notRunning.length ? `not running: ${notRunning.join(', ')}` : '',
  ].filter(Boolean);
  const problems = [
    alarms.length ? `alarms: ${alarms.join(', ')}` : '',
    partitions.length
      ? `partitions: ${partitions.map((p) => `${p.node} cut off from ${p.peers.join(', ')}`).join('; ')}`
      : '',
  ].filter(Boolean);
  return { waiting, problems, running: c.running };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The health, read again every 2 s until nothing is waited for or the time is up (then the last answer, or
 *  the last failure to read: the node itself may be starting). */
async function settled(ctx: TaskCtx, want: string[], waitMs: number): Promise<Health> {
  const until = Date.now() + waitMs;
  // The first read is the run's (a converged run has it already); then fresh ones, the first at once (the
  // run's may be some seconds old), every 2 s after that.
  for (let reads = 0; ; reads++) {
    if (reads > 1) await sleep(2000);
    let health: Health | undefined;
    try {
      health = healthOf(await snapshot(ctx, 'cluster health', { fresh: reads > 0 }), want);
      if (!health.waiting.length) return health;
    } catch (e) {
      if (!(e instanceof TaskError) || Date.now() >= until) throw e;
    }
    if (health && Date.now() >= until) return health;
  }
}

export const rabbitmq_health: TaskType<HealthArgs, Status> = {
  name: 'rabbitmq_health',
  schema: {
    type: 'object',
    properties: {
      nodes: { type: 'array', items: { type: 'string' }, minItems: 1 },
      wait: { type: 'integer', minimum: 0, maximum: 3600 },
    },
    required: ['nodes'],
    additionalProperties: false,
  },
  async check(ctx, a) {
    const busy = playHostsPending(ctx);
    if (busy.length) throw new SkipTask(`earlier tasks would change ${busy.join(', ')} first`);
    const want = a.nodes.map((n) => nodeName(ctx, n));
    // Check mode reads once: it never waits.
    const waitMs = ctx.checkMode ? 0 : (a.wait ?? 0) * 1000;
    const h = await settled(ctx, want, waitMs);
    const problems = [...h.waiting, ...h.problems];
    if (problems.length) {
      const waited = h.waiting.length && waitMs ? ` (after waiting ${a.wait} s)` : '';
      throw new TaskError(`cluster unhealthy as seen from ${ctx.host.name}${waited}: ${problems.join('; ')}`);
    }
    return { running: h.running };
  },
  plan: () => [],
  result: (_a, st) => ({ msg: `${st.running.length} nodes running, no alarms, no partitions` }),
  async apply() {},
};
