import { readFileSync } from 'node:fs';
import { TaskType } from '../task.js';
import { applyWrite, checkWrite, planWrite, WriteArgs, WriteData, writeSchemaProps, WriteState } from './_write.js';

interface CopyArgs extends WriteArgs {
  content?: string;
  src?: string;
}

export const copy: TaskType<CopyArgs, WriteState & { content: Buffer | string }, WriteData> = {
  name: 'copy',
  readAhead: true,
  schema: {
    type: 'object',
    properties: {
      dest: { type: 'string' },
      content: { type: ['string', 'number', 'boolean'] },
      src: { type: 'string' },
      ...writeSchemaProps,
    },
    required: ['dest'],
    oneOf: [{ required: ['content'] }, { required: ['src'] }],
    additionalProperties: false,
  },
  validate(args, find) {
    if (args.src !== undefined && !String(args.src).includes('{{')) find('files', args.src);
    return undefined;
  },
  async check(ctx, args) {
    // A src file is bytes (a binary file arrives as it is); content is text, written as UTF-8.
    const content = args.content !== undefined ? String(args.content) : readFileSync(ctx.findFile('files', args.src!));
    return { ...(await checkWrite(ctx, args.dest, true)), content };
  },
  plan: (args, s) => planWrite(args, s, s.content),
  async apply(ctx, changes, args) {
    await applyWrite(ctx, args, changes);
  },
};
