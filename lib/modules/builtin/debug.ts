import { exprValue } from '../../language/expr.js';
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
    if (a.var === undefined) return { msg: redactDeep(a.msg ?? 'Hello world!') };
    // `var` is an expression (r.stdout, groups['all'] | length), as Ansible reads it.
    const value = exprValue(a.var, ctx.vars);
    return { msg: redactDeep({ [a.var]: value === undefined ? 'VARIABLE IS NOT DEFINED!' : value }) };
  },
  plan: () => [],
  result: (_a, s) => ({ msg: s.msg }),
  async apply() {},
};
