// A virtual host, with its default queue type (quorum makes every new queue replicated).
import { TaskError } from '../../util/errors.js';
import { sh } from '../../connection/quote.js';
import { TaskType } from '../task.js';
import { applyCtl, CtlChange, ctlChange } from './_rabbitmq.js';
import { clusterSnapshot, part, Snapshot } from './_snapshot.js';

interface VhostArgs {
  name: string;
  default_queue_type?: 'classic' | 'quorum' | 'stream';
  state?: 'present' | 'absent';
}
type VhostState = { exists: false } | { exists: true; dqt: string };

/** The vhost as the node's snapshot has it (no default queue type set: classic). */
export function vhostState(s: Snapshot, name: string): VhostState {
  const v = part(s, 'vhosts', `vhost ${name}`).find((x) => x.name === name);
  return v ? { exists: true, dqt: v.default_queue_type ?? 'classic' } : { exists: false };
}

export const rabbitmq_vhost: TaskType<VhostArgs, VhostState, CtlChange> = {
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
    const s = await clusterSnapshot(ctx, `vhost ${a.name}`);
    return s ? vhostState(s, a.name) : { exists: false };
  },
  plan(a, s) {
    if (a.state === 'absent')
      return s.exists
        ? [
            {
              action: `delete vhost ${a.name} (and every queue in it)`,
              data: ctlChange(sh`rabbitmqctl delete_vhost ${a.name}`, 'rabbit_vhost', 'delete', [a.name]),
            },
          ]
        : [];
    if (!s.exists) {
      const dqt = a.default_queue_type;
      return [
        {
          action: `create vhost ${a.name}` + (dqt ? ` (default queue type ${dqt})` : ''),
          effects: [{ kind: 'other', what: `vhost ${a.name}` }],
          data: dqt
            ? ctlChange(sh`rabbitmqctl add_vhost ${a.name} --default-queue-type ${dqt}`, 'rabbit_vhost', 'add', [
                a.name,
                // As the CLI's add_vhost with --default-queue-type: its description and tags default to none.
                {
                  map: [
                    ['description', ''],
                    ['tags', []],
                    ['default_queue_type', dqt],
                  ],
                },
              ])
            : ctlChange(sh`rabbitmqctl add_vhost ${a.name}`, 'rabbit_vhost', 'add', [a.name]),
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
  apply: (ctx, changes) => applyCtl(ctx, changes, changes[0].action),
};
