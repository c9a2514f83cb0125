// Ansible's group: a local group present or absent. Used to create the rabbitmq group before the
// package, so files with secrets can be 0640 root:rabbitmq from the start (the package's postinst
// keeps a group that exists).
import { sh } from '../../connection/quote.js';
import { mustRun, TaskType } from '../task.js';
import { dataOf } from './_change.js';

interface GroupArgs {
  name: string;
  state?: 'present' | 'absent';
  system?: boolean;
}
interface GroupState {
  exists: boolean;
}

export const group: TaskType<GroupArgs, GroupState, string> = {
  name: 'group',
  readAhead: true,
  schema: {
    type: 'object',
    properties: {
      // The names groupadd accepts (Debian's default NAME_REGEX, and no option-like leading dash).
      name: { type: 'string', pattern: '^[a-z_][a-z0-9_-]*[$]?$', maxLength: 32 },
      state: { enum: ['present', 'absent'] },
      system: { type: 'boolean' },
    },
    required: ['name'],
    additionalProperties: false,
  },
  async check(ctx, a) {
    const r = await ctx.host.run(sh`getent group ${a.name} >/dev/null`, { become: ctx.become });
    const pendingAdd = ctx.pending.find((e) => e.kind === 'other' && e.what === `group ${a.name}`);
    return { exists: r.code === 0 || pendingAdd !== undefined };
  },
  plan(a, s) {
    const want = (a.state ?? 'present') === 'present';
    if (want === s.exists) return [];
    const add = a.system ? sh`groupadd --system ${a.name}` : sh`groupadd ${a.name}`;
    const command = want ? add : sh`groupdel ${a.name}`;
    const action = `${want ? 'add' : 'remove'} group ${a.name}`;
    const effect = { kind: 'other' as const, what: `group ${a.name}` };
    return [{ action, effects: want ? [effect] : [], data: command }];
  },
  async apply(ctx, changes) {
    for (const c of changes) await mustRun(ctx, dataOf(c), c.action);
  },
};
