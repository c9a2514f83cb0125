// Every stable feature flag enabled (what `rabbitmqctl enable_feature_flag all` does).
import { TaskType } from '../task.js';
import { brandNewCluster, ctl, json, mustOk, needNode } from './_rabbitmq.js';

interface FlagsArgs {
  state?: 'all_stable_enabled';
}

export const rabbitmq_feature_flags: TaskType<FlagsArgs, string[]> = {
  name: 'rabbitmq_feature_flags',
  schema: { type: 'object', properties: { state: { enum: ['all_stable_enabled'] } }, additionalProperties: false },
  async check(ctx) {
    if (brandNewCluster(ctx)) return []; // a new 3.10 node enables every stable flag itself
    const peers = needNode(ctx, 'feature flags');
    const r = await ctl(
      ctx,
      { list: 'rabbitmqctl list_feature_flags name state stability --formatter json' },
      'listing feature flags',
      peers,
    );
    return json<{ name: string; state: string; stability: string }[]>(
      mustOk(r.list, 'list_feature_flags'),
      'list_feature_flags',
    )
      .filter((f) => f.stability === 'stable' && f.state !== 'enabled')
      .map((f) => f.name);
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
