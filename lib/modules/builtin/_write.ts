// Shared by copy, template, lineinfile and blockinfile: make a file hold exactly some content.
import { TaskError } from '../../util/errors.js';
import { Change } from '../pending.js';
import { dataOf } from './_change.js';
import { sh } from '../../connection/quote.js';
import { attrChanges, FileState, fileState, fileStateAndBytes, parentExists, sha256 } from '../facts.js';
import { asBytes, asText } from '../bytes.js';
import { mustRun, normMode, TaskCtx } from '../task.js';

export interface WriteArgs {
  dest: string;
  mode?: string | number;
  owner?: string;
  group?: string;
  backup?: boolean;
}
export interface WriteState {
  file: FileState;
  /** The bytes there now (read for a diff or an edit). */
  before: Buffer | null;
  parentOk: boolean;
}
/** What a write carries from plan to apply. */
export interface WriteData {
  content: Buffer;
}

export const writeSchemaProps = {
  mode: { type: ['string', 'integer'] },
  owner: { type: 'string' },
  group: { type: 'string' },
  backup: { type: 'boolean' },
};

export async function checkWrite(ctx: TaskCtx, dest: string, wantDiff: boolean): Promise<WriteState> {
  const read = wantDiff ? await fileStateAndBytes(ctx, dest) : { file: await fileState(ctx, dest), bytes: null };
  const file = read.file;
  if (file.kind === 'directory' || file.kind === 'other') {
    const what = file.kind === 'directory' ? 'directory' : file.type;
    throw new TaskError(`${dest} is a ${what}, not a file: remove it or choose another dest`);
  }
  const parentOk = file.kind !== 'absent' || (await parentExists(ctx, dest));
  const before = file.kind === 'file' ? read.bytes : null;
  return { file, before, parentOk };
}

export function planWrite(
  args: WriteArgs,
  state: WriteState,
  wanted: Buffer | string,
  secret = false,
): Change<WriteData>[] {
  const content = asBytes(wanted);
  const mode = normMode(args.mode);
  const want = { mode, owner: args.owner, group: args.group };
  const f = state.file;
  if (!state.parentOk)
    throw new TaskError(
      `the folder of ${args.dest} does not exist: create it first with a file task (state: directory)`,
    );
  const sum = sha256(content);
  const effect = { kind: 'file' as const, path: args.dest, state: 'file' as const, sha256: sum, content, ...want };
  const before = state.before === null ? '' : asText(state.before);
  const diff = secret ? undefined : { path: args.dest, before, after: asText(content) };
  if (f.kind !== 'file') return [{ action: `create ${args.dest}`, effects: [effect], diff, data: { content } }];
  if (f.sha256 !== sum) return [{ action: `update ${args.dest}`, effects: [effect], diff, data: { content } }];
  const attrs = attrChanges(f, want);
  if (attrs.length) return [{ action: `${args.dest}: ${attrs.join(', ')}`, effects: [effect], data: { content } }];
  return [];
}

export async function applyWrite(ctx: TaskCtx, args: WriteArgs, changes: Change<WriteData>[]): Promise<void> {
  if (!changes.length) return;
  const { content } = dataOf(changes[0]);
  if (args.backup) await mustRun(ctx, backupScript(args.dest), `backup of ${args.dest}`);
  await ctx.host.put(args.dest, content, {
    mode: normMode(args.mode),
    owner: args.owner,
    group: args.group,
    become: ctx.become,
  });
}

// Backups: a cp into a name an attacker could predict, or a cp that follows a link, lets a planted
// symlink redirect the write. So: a fresh mktemp name in the same folder, a link copied as a link,
// and the reserved name replaced (--remove-destination opens with O_EXCL) rather than written through.
const COPY_NO_FOLLOW = 'cp -P -p --remove-destination -- "$src" "$tmp"';
const SYNC_COPY = '{ [ -L "$tmp" ] || sync -- "$tmp"; }';

/** A copy of path (when it exists) as path.TIMESTAMP.RANDOM~ beside it, as Ansible names backups. */
export function backupScript(path: string): string {
  return [
    sh`src=${path}`,
    '[ -f "$src" ] || [ -L "$src" ] || exit 0',
    'tmp=$(mktemp --suffix="~" "$src.$(date +%Y%m%d%H%M%S).XXXXXX") || exit 1',
    `${COPY_NO_FOLLOW} && ${SYNC_COPY} || { rm -f -- "$tmp"; exit 1; }`,
  ].join('\n');
}

/** Copies from over to (when from exists): through a fresh mktemp file in to's folder, renamed with
 *  -T semantics, so a link or folder planted at to is replaced (or refused), never written through. */
export function copyOverScript(from: string, to: string): string {
  return [
    sh`src=${from}; dst=${to}`,
    '[ -f "$src" ] || [ -L "$src" ] || exit 0',
    'tmp=$(mktemp "$(dirname -- "$dst")/.rmqplay.XXXXXX") || exit 1',
    `${COPY_NO_FOLLOW} && ${SYNC_COPY} && mv -f -T -- "$tmp" "$dst" || { rm -f -- "$tmp"; exit 1; }`,
  ].join('\n');
}
