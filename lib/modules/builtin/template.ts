import { readFileSync } from 'node:fs';
import { TaskError } from '../../util/errors.js';
import { checkSyntax, renderTemplate, resolveVars } from '../../language/template.js';
import { TaskType } from '../task.js';
import { applyWrite, checkWrite, planWrite, WriteArgs, WriteData, writeSchemaProps, WriteState } from './_write.js';

interface TemplateArgs extends WriteArgs {
  src: string;
}

export const template: TaskType<TemplateArgs, WriteState & { content: string }, WriteData> = {
  name: 'template',
  templateArgs: ['src'],
  schema: {
    type: 'object',
    properties: { src: { type: 'string' }, dest: { type: 'string' }, ...writeSchemaProps },
    required: ['src', 'dest'],
    additionalProperties: false,
  },
  validate(args, find) {
    if (String(args.src).includes('{{')) return undefined;
    const file = find('templates', args.src);
    try {
      checkSyntax(readFileSync(file, 'utf8'), file);
    } catch (e) {
      return `template ${file} has a syntax error: ${(e as Error).message.split('\n')[0]}`;
    }
    return undefined;
  },
  async check(ctx, args) {
    const file = ctx.findFile('templates', args.src);
    let content: string;
    try {
      content = renderTemplate(readFileSync(file, 'utf8'), resolveVars(ctx.vars), file);
    } catch (e) {
      throw new TaskError(`template ${file}: ${(e as Error).message.split('\n')[0]}`);
    }
    return { ...(await checkWrite(ctx, args.dest, true)), content };
  },
  plan: (args, s) => planWrite(args, s, s.content),
  async apply(ctx, changes, args) {
    await applyWrite(ctx, args, changes);
  },
};
