import { TaskError } from '../../util/errors.js';
import { evalExpr } from '../../language/expr.js';
import { TaskType } from '../task.js';

interface AssertArgs {
  that: string | boolean | (string | boolean)[];
  fail_msg?: string;
  msg?: string;
  success_msg?: string;
  quiet?: boolean;
}

export const assert: TaskType<AssertArgs, { msg: string }> = {
  name: 'assert',
  schema: {
    type: 'object',
    properties: {
      that: { type: ['string', 'boolean', 'array'] },
      fail_msg: { type: 'string' },
      msg: { type: 'string' },
      success_msg: { type: 'string' },
      quiet: { type: 'boolean' },
    },
    required: ['that'],
    additionalProperties: false,
  },
  async check(ctx, a) {
    for (const cond of [a.that].flat()) {
      let ok: boolean;
      try {
        ok = evalExpr(cond, ctx.vars);
      } catch (e) {
        throw new TaskError(`cannot evaluate "${cond}": ${(e as Error).message}`);
      }
      if (!ok) throw new TaskError(a.fail_msg ?? a.msg ?? `assertion failed: ${cond}`);
    }
    return { msg: a.success_msg ?? 'All assertions passed' };
  },
  plan: () => [],
  result: (_a, s) => ({ msg: s.msg }),
  async apply() {},
};
