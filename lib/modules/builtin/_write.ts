// Shared by copy, template, lineinfile and blockinfile: make a file hold exactly some content.
import { TaskError } from '../../util/errors.js';
import { Change } from '../pending.js';
import { dataOf } from './_change.js';
import { sh } from '../../connection/quote.js';
import { attrChanges, FileState, fileContent, fileState, parentExists, sha256 } from '../facts.js';
import { normMode, TaskCtx } from '../task.js';

export interface WriteArgs {
  dest: string;
  mode?: string | number;
  owner?: string;
  group?: string;
  backup?: boolean;
}
export interface WriteState {
  file: FileState;
  before: string | null;
  parentOk: boolean;
}
/** What a write carries from plan to apply. */
export interface WriteData {
  content: string;
}

export const writeSchemaProps = {
  mode: { type: ['string', 'integer'] },
  owner: { type: 'string' },
  group: { type: 'string' },
  backup: { type: 'boolean' },
};

export async function checkWrite(ctx: TaskCtx, dest: string, wantDiff: boolean): Promise<WriteState> {
  const file = await fileState(ctx, dest);
  if (file.kind === 'directory' || file.kind === 'other') {
    const what = file.kind === 'directory' ? 'directory' : file.type;
    throw new TaskError(`${dest} is a ${what}, not a file: remove it or choose another dest`);
  }
  const parentOk = file.kind !== 'absent' || (await parentExists(ctx, dest));
  const before = wantDiff && file.kind === 'file' ? await fileContent(ctx, dest) : null;
  return { file, before, parentOk };
}

export function planWrite(args: WriteArgs, state: WriteState, content: string, secret = false): Change<WriteData>[] {
  const mode = normMode(args.mode);
  const want = { mode, owner: args.owner, group: args.group };
  const f = state.file;
  if (!state.parentOk)
    throw new TaskError(
      `the folder of ${args.dest} does not exist: create it first with a file task (state: directory)`,
    );
  const sum = sha256(content);
  const effect = { kind: 'file' as const, path: args.dest, state: 'file' as const, sha256: sum, content, ...want };
  const diff = secret ? undefined : { path: args.dest, before: state.before ?? '', after: content };
  if (f.kind !== 'file') return [{ action: `create ${args.dest}`, effects: [effect], diff, data: { content } }];
  if (f.sha256 !== sum) return [{ action: `update ${args.dest}`, effects: [effect], diff, data: { content } }];
  const attrs = attrChanges(f, want);
  if (attrs.length) return [{ action: `${args.dest}: ${attrs.join(', ')}`, effects: [effect], data: { content } }];
  return [];
}

export async function applyWrite(ctx: TaskCtx, args: WriteArgs, changes: Change<WriteData>[]): Promise<void> {
  if (!changes.length) return;
  const { content } = dataOf(changes[0]);
  if (args.backup) {
    const dest = args.dest;
    const backup = sh`[ -f ${dest} ] && cp -p ${dest} ${dest}.$(date +%Y%m%d%H%M%S)~ || true`;
    await ctx.host.run(backup, { become: ctx.become });
  }
  await ctx.host.put(args.dest, content, {
    mode: normMode(args.mode),
    owner: args.owner,
    group: args.group,
    become: ctx.become,
  });
}
