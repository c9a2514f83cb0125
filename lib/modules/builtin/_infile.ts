// Shared by lineinfile and blockinfile: edit a text file on the host (created with create: true).
import { TaskError } from '../../util/errors.js';
import { Change } from '../pending.js';
import { TaskCtx } from '../task.js';
import { fileBytes } from '../facts.js';
import { decode, encode, inDomain } from '../bytes.js';
import { applyWrite, checkWrite, planWrite, WriteArgs, WriteData, writeSchemaProps, WriteState } from './_write.js';

export interface InFileArgs extends Omit<WriteArgs, 'dest'> {
  path: string;
  state?: 'present' | 'absent';
  create?: boolean;
  insertafter?: string;
  insertbefore?: string;
}
/** The file and its content after the edit, or no file (and nothing to remove from it). */
export type InFileState = (WriteState & { content: Buffer }) | { kind: 'nofile' };

/** Edits a file's bytes as text: the arguments are taken into the file's encoding (bytes.ts), so
 *  the lines the edit does not touch keep their bytes exactly, UTF-8 or not. */
export function editBytes<A extends InFileArgs>(bytes: Buffer, a: A, edit: (text: string, a: A) => string): Buffer {
  const file = decode(bytes);
  const argsIn = Object.fromEntries(
    Object.entries(a).map(([k, v]) => [k, typeof v === 'string' ? inDomain(v, file.encoding) : v]),
  ) as A;
  return encode(edit(file.text, argsIn), file.encoding);
}

/** The schema of an in-file task: path, the task's own properties, then the shared ones. */
export function inFileSchema(own: Record<string, unknown>): Record<string, unknown> {
  const shared = {
    state: { enum: ['present', 'absent'] },
    create: { type: 'boolean' },
    insertafter: { type: 'string' },
    insertbefore: { type: 'string' },
    ...writeSchemaProps,
  };
  return {
    type: 'object',
    properties: { path: { type: 'string' }, ...own, ...shared },
    required: ['path'],
    additionalProperties: false,
  };
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

/** The file to edit; no file when it is absent and the edit removes; an error when absent without create. */
export async function checkInFile(ctx: TaskCtx, args: InFileArgs): Promise<WriteState | { kind: 'nofile' }> {
  const ws = await checkWrite(ctx, args.path, true);
  if (ws.file.kind === 'absent') {
    if (args.state === 'absent') return { kind: 'nofile' };
    if (!args.create) throw new TaskError(`${args.path} does not exist: set create: true to create it`);
  }
  return ws;
}

/** check for an in-file task: the file as it is and its bytes after the edit (text edit on bytes). */
export async function checkEdit<A extends InFileArgs>(
  ctx: TaskCtx,
  args: A,
  edit: (text: string, a: A) => string,
): Promise<InFileState> {
  const ws = await checkInFile(ctx, args);
  if ('kind' in ws) return ws;
  const empty = Buffer.alloc(0);
  // A link is edited through (its target's content), as Ansible does.
  const before = ws.file.kind === 'absent' ? empty : (ws.before ?? (await fileBytes(ctx, args.path)) ?? empty);
  return { ...ws, content: editBytes(before, args, edit) };
}

export function planInFile(args: InFileArgs, s: InFileState): Change<WriteData>[] {
  return 'kind' in s ? [] : planWrite({ ...args, dest: args.path }, s, s.content);
}

export async function applyInFile(ctx: TaskCtx, changes: Change<WriteData>[], args: InFileArgs): Promise<void> {
  await applyWrite(ctx, { ...args, dest: args.path }, changes);
}
