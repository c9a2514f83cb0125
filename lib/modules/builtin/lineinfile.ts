import { TaskError } from '../../util/errors.js';
import { fileContent } from '../facts.js';
import { TaskType } from '../task.js';
import { applyWrite, checkWrite, planWrite, WriteArgs, WriteData, writeSchemaProps, WriteState } from './_write.js';

interface LineArgs extends WriteArgs {
  path: string;
  line?: string;
  regexp?: string;
  state?: 'present' | 'absent';
  create?: boolean;
  insertafter?: string;
  insertbefore?: string;
}

/** Where new lines go: before the first line matching insertbefore (BOF: the top), after the
 *  last line matching insertafter, else at the end, as Ansible's lineinfile and blockinfile do. */
export function insertAt(lines: string[], a: { insertbefore?: string; insertafter?: string }): number {
  if (a.insertbefore === 'BOF') return 0;
  if (a.insertbefore) {
    const r = new RegExp(a.insertbefore);
    const i = lines.findIndex((l) => r.test(l));
    return i >= 0 ? i : lines.length;
  }
  if (a.insertafter && a.insertafter !== 'EOF') {
    const r = new RegExp(a.insertafter);
    let i = -1;
    lines.forEach((l, j) => {
      if (r.test(l)) i = j;
    });
    if (i >= 0) return i + 1;
  }
  return lines.length;
}

/** Ansible's lineinfile on text: replace the last line matching regexp, else insert; or remove. */
export function editLines(text: string, a: LineArgs): string {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const re = a.regexp ? new RegExp(a.regexp) : undefined;
  const matches = (l: string) => (re ? re.test(l) : l === a.line);
  if (a.state === 'absent') {
    const kept = lines.filter((l) => !matches(l));
    return kept.length ? kept.join('\n') + '\n' : '';
  }
  const line = a.line!;
  let idx = -1;
  lines.forEach((l, i) => {
    if (matches(l)) idx = i;
  });
  if (idx >= 0) lines[idx] = line;
  else if (!lines.includes(line)) {
    lines.splice(insertAt(lines, a), 0, line);
  }
  return lines.join('\n') + '\n';
}

export const lineinfile: TaskType<LineArgs, (WriteState & { content: string }) | { kind: 'nofile' }, WriteData> = {
  name: 'lineinfile',
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string' },
      line: { type: 'string' },
      regexp: { type: 'string' },
      state: { enum: ['present', 'absent'] },
      create: { type: 'boolean' },
      insertafter: { type: 'string' },
      insertbefore: { type: 'string' },
      ...writeSchemaProps,
    },
    required: ['path'],
    additionalProperties: false,
  },
  validate(args) {
    if (args.state !== 'absent' && args.line === undefined) return 'lineinfile needs "line" unless state is absent';
    return undefined;
  },
  async check(ctx, args) {
    const ws = await checkWrite(ctx, args.path, true);
    if (ws.file.kind === 'absent') {
      if (args.state === 'absent') return { kind: 'nofile' };
      if (!args.create) throw new TaskError(`${args.path} does not exist: set create: true to create it`);
    }
    const before = ws.file.kind === 'absent' ? '' : (ws.before ?? (await fileContent(ctx, args.path)) ?? '');
    return { ...ws, content: editLines(before, args) };
  },
  plan: (args, s) => ('kind' in s ? [] : planWrite({ ...args, dest: args.path }, s, s.content)),
  async apply(ctx, changes, args) {
    await applyWrite(ctx, { ...args, dest: args.path }, changes);
  },
};
