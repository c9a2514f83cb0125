// Every stable feature flag enabled (what `rabbitmqctl enable_feature_flag all` does).
import { SkipTask } from '../../util/errors.js';
import { TaskType } from '../task.js';
import { lastLines } from '../builtin/_output.js';
import { ctl, listing, mustOk, readCluster } from './_rabbitmq.js';

interface FlagsArgs {
  state?: 'all_stable_enabled';
}

export const rabbitmq_feature_flags: TaskType<FlagsArgs, string[]> = {
  name: 'rabbitmq_feature_flags',
  schema: { type: 'object', properties: { state: { enum: ['all_stable_enabled'] } }, additionalProperties: false },
  async check(ctx) {
    const list = 'rabbitmqctl list_feature_flags name state stability --formatter json';
    const r = await readCluster(ctx, 'feature flags', { list }, 'listing feature flags');
    if (!r) return []; // a new 3.10 node enables every stable flag itself
    // Listing asks every node of the cluster; one that does not answer (cut off, or stopped without leaving)
    // makes it time out. Flags cannot be enabled then either: nothing to do until every node answers.
    if (r.list.code !== 0 && /nodedown|timeout|badrpc/i.test(r.list.out))
      throw new SkipTask(
        `a node of the cluster does not answer (${lastLines(r.list.out, 1)}): ` +
          'feature flags are read and enabled when every node is up; run again then',
      );
    const flags = listing<{ name: string; state: string; stability: string }[]>(r.list, 'list_feature_flags');
    return flags.filter((f) => f.stability === 'stable' && f.state !== 'enabled').map((f) => f.name);
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
