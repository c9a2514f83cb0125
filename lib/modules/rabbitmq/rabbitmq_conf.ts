// rabbitmq.conf from a Handlebars template, with every key checked against the schema of the
// RabbitMQ installed on the host before the file is written (and in check mode).
// The previous file is kept as DEST.rmqplay-prev so a restart that fails can roll back.
import { TaskError } from '../../util/errors.js';
import { ConfProblem, SCHEMA_KEYS_SCRIPT, unknownKeys } from './rabbitconf.js';
import { sh } from '../../connection/quote.js';
import { mustRun, TaskType } from '../task.js';
import { asText } from '../bytes.js';
import { copyOverScript, WriteData, WriteState } from '../builtin/_write.js';
import { template } from '../builtin/template.js';

interface ConfArgs {
  src: string;
  dest?: string;
  mode?: string | number;
  owner?: string;
  group?: string;
}
type ConfState = WriteState & { content: Buffer };

/** The template task's arguments, with dest resolved. */
const asTemplate = (a: ConfArgs) => ({ ...a, dest: a.dest ?? '/etc/rabbitmq/rabbitmq.conf' });

export const rabbitmq_conf: TaskType<ConfArgs, ConfState, WriteData> = {
  name: 'rabbitmq_conf',
  templateArgs: ['src'],
  schema: {
    type: 'object',
    properties: {
      src: { type: 'string' },
      dest: { type: 'string' },
      mode: { type: ['string', 'integer'] },
      owner: { type: 'string' },
      group: { type: 'string' },
    },
    required: ['src'],
    additionalProperties: false,
  },
  validate: (a, find) => template.validate!(asTemplate(a), find),
  async check(ctx, a) {
    const args = asTemplate(a);
    const dest = args.dest;
    const st = await template.check(ctx, args);
    const r = await ctx.host.run(SCHEMA_KEYS_SCRIPT, { become: ctx.become });
    if (r.code === 0) {
      const problems = unknownKeys(asText(st.content), r.stdout.split('\n').filter(Boolean));
      const nearest = (p: ConfProblem) => (p.suggestion ? ` (nearest valid key: ${p.suggestion})` : '');
      const listed = problems.map((p) => `    line ${p.line}: ${p.key}${nearest(p)}`).join('\n');
      if (problems.length)
        throw new TaskError(
          `${dest} (from ${a.src}) has keys RabbitMQ on this host does not know; ` +
            `the node would not boot with it, so nothing was changed:\n${listed}`,
        );
    }
    return st;
  },
  plan: (a, s) => template.plan(asTemplate(a), s),
  async apply(ctx, changes, a) {
    const args = asTemplate(a);
    const dest = args.dest;
    const prev = dest + '.rmqplay-prev';
    const keepPrevious = sh`mkdir -p "$(dirname ${dest})"` + '\n' + copyOverScript(dest, prev);
    await mustRun(ctx, keepPrevious, `keeping ${dest} as ${prev}`);
    await template.apply(ctx, changes, args);
  },
};
