import { TaskError } from '../../util/errors.js';
import { TaskType } from '../task.js';
import { insertAt } from './lineinfile.js';
import { applyWrite, checkWrite, planWrite, WriteArgs, WriteData, writeSchemaProps, WriteState } from './_write.js';

interface BlockArgs extends WriteArgs {
  path: string;
  block?: string;
  marker?: string;
  state?: 'present' | 'absent';
  create?: boolean;
  insertafter?: string;
  insertbefore?: string;
}

/** Ansible's blockinfile on text: one block between "# BEGIN/END ANSIBLE MANAGED BLOCK" markers. */
export function editBlock(text: string, a: BlockArgs): string {
  const marker = a.marker ?? '# {mark} ANSIBLE MANAGED BLOCK';
  const begin = marker.replace('{mark}', 'BEGIN');
  const end = marker.replace('{mark}', 'END');
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const b = lines.indexOf(begin);
  const e = b >= 0 ? lines.indexOf(end, b) : -1;
  const blockLines = a.state === 'absent' || !a.block ? [] : [begin, ...a.block.replace(/\n$/, '').split('\n'), end];
  if (b >= 0 && e >= 0) lines.splice(b, e - b + 1, ...blockLines);
  else if (blockLines.length) {
    lines.splice(insertAt(lines, a), 0, ...blockLines);
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

export const blockinfile: TaskType<BlockArgs, (WriteState & { content: string }) | { kind: 'nofile' }, WriteData> = {
  name: 'blockinfile',
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string' },
      block: { type: 'string' },
      marker: { type: 'string' },
      state: { enum: ['present', 'absent'] },
      create: { type: 'boolean' },
      insertafter: { type: 'string' },
      insertbefore: { type: 'string' },
      ...writeSchemaProps,
    },
    required: ['path'],
    additionalProperties: false,
  },
  async check(ctx, args) {
    const ws = await checkWrite(ctx, args.path, true);
    if (ws.file.kind === 'absent') {
      if (args.state === 'absent') return { kind: 'nofile' };
      if (!args.create) throw new TaskError(`${args.path} does not exist: set create: true to create it`);
    }
    return { ...ws, content: editBlock(ws.before ?? '', args) };
  },
  plan: (args, s) => ('kind' in s ? [] : planWrite({ ...args, dest: args.path }, s, s.content)),
  async apply(ctx, changes, args) {
    await applyWrite(ctx, { ...args, dest: args.path }, changes);
  },
};
