// A virtual host, with its default queue type (quorum makes every new queue replicated).
import { TaskError } from '../../util/errors.js';
import { sh } from '../../connection/quote.js';
import { TaskType } from '../task.js';
import { dataOf } from '../builtin/_change.js';
import { brandNewCluster, ctl, json, mustOk, needNode } from './_rabbitmq.js';

interface VhostArgs {
  name: string;
  default_queue_type?: 'classic' | 'quorum' | 'stream';
  state?: 'present' | 'absent';
}
type VhostState = { exists: false } | { exists: true; dqt: string };

export const rabbitmq_vhost: TaskType<VhostArgs, VhostState, string> = {
  name: 'rabbitmq_vhost',
  schema: {
    type: 'object',
    properties: {
      name: { type: 'string', minLength: 1 },
      default_queue_type: { enum: ['classic', 'quorum', 'stream'] },
      state: { enum: ['present', 'absent'] },
    },
    required: ['name'],
    additionalProperties: false,
  },
  async check(ctx, a) {
    if (brandNewCluster(ctx)) return { exists: false };
    const peers = needNode(ctx, `vhost ${a.name}`);
    const r = await ctl(
      ctx,
      { list: 'rabbitmqctl list_vhosts name default_queue_type --formatter json' },
      'listing vhosts',
      peers,
    );
    const v = json<{ name: string; default_queue_type: string }[]>(
      mustOk(r.list, 'rabbitmqctl list_vhosts'),
      'list_vhosts',
    ).find((x) => x.name === a.name);
    return v ? { exists: true, dqt: v.default_queue_type } : { exists: false };
  },
  plan(a, s) {
    if (a.state === 'absent')
      return s.exists
        ? [{ action: `delete vhost ${a.name} (and every queue in it)`, data: sh`rabbitmqctl delete_vhost ${a.name}` }]
        : [];
    if (!s.exists) {
      const dqt = a.default_queue_type;
      return [
        {
          action: `create vhost ${a.name}` + (dqt ? ` (default queue type ${dqt})` : ''),
          effects: [{ kind: 'other', what: `vhost ${a.name}` }],
          data: sh`rabbitmqctl add_vhost ${a.name}` + (dqt ? sh` --default-queue-type ${dqt}` : ''),
        },
      ];
    }
    const have = s.dqt === 'undefined' ? 'classic' : s.dqt;
    if (a.default_queue_type && have !== a.default_queue_type)
      throw new TaskError(
        `vhost ${a.name} exists with default queue type ${have}; RabbitMQ 3.10 cannot change it in place. ` +
          'Declare queues with x-queue-type, or delete and recreate the vhost (its queues go with it).',
      );
    return [];
  },
  async apply(ctx, changes) {
    const r = await ctl(ctx, { c: dataOf(changes[0]) }, changes[0].action);
    mustOk(r.c, changes[0].action);
  },
};
