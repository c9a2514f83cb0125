// A policy on a vhost: pattern, definition, apply-to and priority.
import { sh } from '../../connection/quote.js';
import { TaskType } from '../task.js';
import { applyCtl, CtlChange, ctlChange } from './_rabbitmq.js';
import { clusterSnapshot, part, Snapshot } from './_snapshot.js';

interface PolicyArgs {
  name: string;
  pattern?: string;
  definition?: Record<string, unknown>;
  apply_to?: 'queues' | 'exchanges' | 'all';
  priority?: number;
  vhost?: string;
  state?: 'present' | 'absent';
}
interface Policy {
  vhost: string;
  name: string;
  pattern: string;
  'apply-to': string;
  definition: Record<string, unknown>;
  priority: number;
}

const canon = (v: unknown): string =>
  JSON.stringify(v, (_k, x) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort()) : x,
  );

/** The policy as the node's snapshot has it, in the shape list_policies prints; null: none. */
export function policyState(s: Snapshot, vhost: string, name: string): Policy | null {
  const p = part(s, 'policies', `policy ${name}`).find((x) => x.vhost === vhost && x.name === name);
  if (!p) return null;
  // An Erlang proplist with no pairs is encoded as [].
  const definition = Array.isArray(p.definition) && !p.definition.length ? {} : p.definition;
  return {
    vhost,
    name,
    pattern: p.pattern,
    'apply-to': p.apply_to,
    definition: definition as Record<string, unknown>,
    priority: p.priority,
  };
}

export const rabbitmq_policy: TaskType<PolicyArgs, Policy | null, CtlChange> = {
  name: 'rabbitmq_policy',
  schema: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      pattern: { type: 'string' },
      definition: { type: 'object' },
      apply_to: { enum: ['queues', 'exchanges', 'all'] },
      priority: { type: 'integer' },
      vhost: { type: 'string' },
      state: { enum: ['present', 'absent'] },
    },
    required: ['name'],
    additionalProperties: false,
  },
  validate: (a) =>
    a.state !== 'absent' && (!a.pattern || !a.definition) ? 'rabbitmq_policy needs pattern and definition' : undefined,
  async check(ctx, a) {
    const s = await clusterSnapshot(ctx, `policy ${a.name}`);
    return s ? policyState(s, a.vhost ?? '/', a.name) : null;
  },
  plan(a, s) {
    const vhost = a.vhost ?? '/';
    if (a.state === 'absent')
      return s
        ? [
            {
              action: `clear policy ${a.name} on ${vhost}`,
              data: ctlChange(sh`rabbitmqctl clear_policy -p ${vhost} ${a.name}`, 'rabbit_policy', 'delete', [
                vhost,
                a.name,
              ]),
            },
          ]
        : [];
    const applyTo = a.apply_to ?? 'all';
    const priority = a.priority ?? 0;
    if (
      s &&
      s.pattern === a.pattern &&
      s['apply-to'] === applyTo &&
      Number(s.priority) === priority &&
      canon(s.definition) === canon(a.definition)
    )
      return [];
    const definition = JSON.stringify(a.definition);
    const options = sh`-p ${vhost} --apply-to ${applyTo} --priority ${priority}`;
    return [
      {
        action: `${s ? 'update' : 'set'} policy ${a.name} on ${vhost}: ${a.pattern} → ${canon(a.definition)}`,
        effects: [{ kind: 'other', what: `policy ${a.name}` }],
        data: ctlChange(
          `rabbitmqctl set_policy ${options} ` + sh`${a.name} ${a.pattern} ${definition}`,
          'rabbit_policy',
          'parse_set',
          [vhost, a.name, a.pattern!, definition, priority, applyTo],
        ),
      },
    ];
  },
  apply: (ctx, changes) => applyCtl(ctx, changes, changes[0].action),
};
