import { redactDeep } from '../../util/secrets.js';
import { TaskType } from '../task.js';

interface DebugArgs {
  msg?: unknown;
  var?: string;
}

export const debug: TaskType<DebugArgs, { msg: unknown }> = {
  name: 'debug',
  schema: { type: 'object', properties: { msg: {}, var: { type: 'string' } }, additionalProperties: false },
  async check(ctx, a) {
    return { msg: redactDeep(a.var !== undefined ? { [a.var]: ctx.vars[a.var] } : (a.msg ?? 'Hello world!')) };
  },
  plan: () => [],
  result: (_a, s) => ({ msg: s.msg }),
  async apply() {},
};
