import { readFileSync } from 'node:fs';
import { TaskError } from '../../util/errors.js';
import { checkSyntax, renderTemplate, resolveVars } from '../../language/template.js';
import { TaskType } from '../task.js';
import { decode, Encoding } from '../bytes.js';
import { applyWrite, checkWrite, planWrite, WriteArgs, WriteData, writeSchemaProps, WriteState } from './_write.js';

interface TemplateArgs extends WriteArgs {
  src: string;
}

export const template: TaskType<TemplateArgs, WriteState & { content: Buffer }, WriteData> = {
  name: 'template',
  readAhead: true,
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
      checkSyntax(withoutNul(decode(readFileSync(file)).text), file, (name) => find('templates', name));
    } catch (e) {
      return `template ${file} has a syntax error: ${(e as Error).message.split('\n')[0]}`;
    }
    return undefined;
  },
  async check(ctx, args) {
    const file = ctx.findFile('templates', args.src);
    let content: Buffer;
    try {
      const source = decode(readFileSync(file));
      const vars = resolveVars(ctx.vars);
      const rendered = renderKeepingNul(source.text, vars, file, (name) => ctx.findFile('templates', name));
      content = encodeOutput(rendered, source.encoding);
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

/** The rendered bytes: the template's own bytes exactly. A template that is not UTF-8 is taken as
 *  Latin-1, so a value rendered into it is written in Latin-1 when it fits, else in UTF-8. */
function encodeOutput(text: string, encoding: Encoding): Buffer {
  if (encoding === 'utf8') return Buffer.from(text, 'utf8');
  const fitsLatin1 = /^[\u0000-\u00ff]*$/.test(text);
  if (fitsLatin1) return Buffer.from(text, 'latin1');
  return Buffer.concat([...text].map((ch) => Buffer.from(ch, ch.charCodeAt(0) <= 0xff ? 'latin1' : 'utf8')));
}

// Handlebars' lexer fails on NUL bytes ("Unrecognized text"): they go around it as a marker.
const NUL_MARK = '\ue000rmqplay-nul\ue001';

/** The text with its NUL bytes as a marker Handlebars can read. */
function withoutNul(text: string): string {
  return text.includes('\0') ? text.replaceAll('\0', NUL_MARK) : text;
}

function renderKeepingNul(
  text: string,
  vars: Record<string, unknown>,
  file: string,
  find: (name: string) => string,
): string {
  if (!text.includes('\0')) return renderTemplate(text, vars, file, find);
  return renderTemplate(withoutNul(text), vars, file, find).replaceAll(NUL_MARK, '\0');
}
