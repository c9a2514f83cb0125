// Every stable feature flag enabled (what `rabbitmqctl enable_feature_flag all` does).
import { SkipTask } from '../../util/errors.js';
import { TaskType } from '../task.js';
import { ctl, mustOk } from './_rabbitmq.js';
import { clusterSnapshot, part, Snapshot } from './_snapshot.js';

interface FlagsArgs {
  state?: 'all_stable_enabled';
}

/** The stable flags not yet enabled. Enabling asks every node of the cluster: with one of them not running
 *  (cut off, or stopped without leaving) nothing can be done until it is back, and the task is skipped. */
export function flagsToEnable(s: Snapshot): string[] {
  // Listing them may ask the other nodes: one that does not answer makes it fail or time out.
  const raw = s.feature_flags;
  if ('error' in raw && /nodedown|timeout|badrpc|no answer/i.test(raw.error))
    throw new SkipTask(
      `a node of the cluster does not answer (${raw.error}): ` +
        'feature flags are read and enabled when every node is up; run again then',
    );
  const off = part(s, 'feature_flags', 'feature flags')
    .filter((f) => f.stability === 'stable' && f.state !== 'enabled')
    .map((f) => f.name);
  if (!off.length) return [];
  const c = part(s, 'cluster', 'feature flags');
  const down = c.all.filter((n) => !c.running.includes(n));
  if (down.length)
    throw new SkipTask(
      `${off.join(', ')} would be enabled, but ${down.join(', ')} of the cluster ${down.length > 1 ? 'are' : 'is'} ` +
        'not running: feature flags are enabled when every node is up; run again then',
    );
  return off;
}

export const rabbitmq_feature_flags: TaskType<FlagsArgs, string[]> = {
  name: 'rabbitmq_feature_flags',
  schema: { type: 'object', properties: { state: { enum: ['all_stable_enabled'] } }, additionalProperties: false },
  async check(ctx) {
    const s = await clusterSnapshot(ctx, 'feature flags');
    return s ? flagsToEnable(s) : []; // a new 3.10 node enables every stable flag itself
  },
  plan: (_a, off) =>
    off.length
      ? [{ action: `enable feature flags: ${off.join(', ')}`, effects: [{ kind: 'other', what: 'feature flags' }] }]
      : [],
  async apply(ctx) {
    const r = await ctl(ctx, { c: 'rabbitmqctl enable_feature_flag all' }, 'enabling feature flags');
    mustOk(r.c, 'rabbitmqctl enable_feature_flag all');
  },
};
