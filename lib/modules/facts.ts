// Facts: a command plus a pure parser, read through the check-mode overlay.
import { nodeCrypto } from '../util/crypto.js';
import { Effect } from './pending.js';
import { INLINE_BYTES, PathInfo } from '../connection/host.js';
import { sh } from '../connection/quote.js';
import { asBytes } from './bytes.js';
import { TaskCtx } from './task.js';

const { createHash } = nodeCrypto;

export type FileState =
  | { kind: 'absent' }
  | { kind: 'file'; mode: string; owner: string; group: string; sha256: string; size: number }
  | { kind: 'directory'; mode: string; owner: string; group: string }
  | { kind: 'link'; src: string }
  | { kind: 'other'; type: string };

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** What statScript reads of a regular file besides its type, mode, owner, group and size: its sha256, its bytes
 *  (base64, when it is at most INLINE_BYTES; the controller computes the sha256: two programs instead of five),
 *  or nothing more (one program, for a task that only needs what kind of path it is, or its attributes). */
export type FileRead = 'sum' | 'bytes' | 'attrs';

/** A path's state: see FileRead. */
export function statScript(path: string, read: FileRead = 'sum'): string {
  // User and group names hold no blank (useradd refuses them): stat's words are split by the shell.
  const file =
    read === 'bytes'
      ? sh`set -- $(stat -c '%a %s %U %G' ${path}) && printf 'file\\n%s\\n%s\\n%s\\n%s\\n' "$1" "$3" "$4" "$2" &&
  if [ "$2" -le ${INLINE_BYTES} ]; then base64 < ${path}; fi;`
      : read === 'sum'
        ? sh`stat -c 'file\n%a\n%U\n%G\n%s' ${path}; sha256sum < ${path} | cut -d' ' -f1;`
        : sh`stat -c 'file\n%a\n%U\n%G\n%s' ${path};`;
  return (
    sh`if [ -L ${path} ]; then printf 'link\\n%s\\n' "$(readlink ${path})";
elif [ -d ${path} ]; then stat -c 'directory\n%a\n%U\n%G' ${path};
elif [ -f ${path} ]; then ` +
    file +
    sh`
elif [ -e ${path} ]; then echo other; stat -c '%F' ${path};
else echo absent; fi`
  );
}

export function parseStat(out: string): FileState {
  const l = out.split('\n');
  switch (l[0]) {
    case 'absent':
      return { kind: 'absent' };
    case 'link':
      return { kind: 'link', src: l[1] };
    case 'directory':
      return { kind: 'directory', mode: l[1].padStart(4, '0'), owner: l[2], group: l[3] };
    case 'file':
      return { kind: 'file', mode: l[1].padStart(4, '0'), owner: l[2], group: l[3], size: Number(l[4]), sha256: l[5] };
    default:
      return { kind: 'other', type: l[1] ?? 'unknown' };
  }
}

/** A path's state as it is, or as earlier pending changes would leave it (check mode). With `sum` false, a
 *  regular file's sha256 is not read (it is ''): for tasks that look only at the kind of path or its attributes. */
export async function fileState(ctx: TaskCtx, path: string, sum = true): Promise<FileState> {
  const p = ctx.pending.file(path);
  if (!p) return realStat(ctx, path, sum);
  // Attributes a pending change leaves unset are those the path has now.
  const needsReal = p.kind === 'file' && p.state !== 'absent' && p.state !== 'link';
  return fromEffect(p, needsReal ? await realStat(ctx, path, sum) : undefined);
}

/** A path's state from Host.stat (a regular file's sha256 from its bytes), or undefined when it lacks a part. */
function fromInfo(info: PathInfo | undefined, sum: boolean): FileState | undefined {
  if (!info) return undefined;
  switch (info.kind) {
    case 'link':
      return { kind: 'link', src: info.target };
    case 'directory':
      return { ...info, mode: info.mode.padStart(4, '0') };
    case 'file': {
      if (sum && !info.bytes) return undefined;
      const { bytes, ...attrs } = info;
      return { ...attrs, mode: info.mode.padStart(4, '0'), sha256: bytes ? sha256(bytes) : '' };
    }
    default:
      return info;
  }
}

async function realStat(ctx: TaskCtx, path: string, sum: boolean): Promise<FileState> {
  const known = fromInfo(await ctx.host.stat?.(path, sum, { become: ctx.become }), sum);
  if (known) return known;
  const r = await ctx.host.run(statScript(path, sum ? 'sum' : 'attrs'), { become: ctx.become });
  const state = parseStat(r.stdout.trim());
  return state.kind === 'file' && !sum ? { ...state, sha256: '' } : state;
}

function fromEffect(e: Effect, real?: FileState): FileState {
  if (e.kind !== 'file') return { kind: 'absent' };
  const base = real && (real.kind === 'file' || real.kind === 'directory') ? real : undefined;
  switch (e.state) {
    case 'absent':
      return { kind: 'absent' };
    case 'link':
      return { kind: 'link', src: e.src };
    case 'directory':
      return {
        kind: 'directory',
        mode: e.mode ?? base?.mode ?? '0755',
        owner: e.owner ?? base?.owner ?? 'root',
        group: e.group ?? base?.group ?? 'root',
      };
    case 'file':
      return {
        kind: 'file',
        mode: e.mode ?? base?.mode ?? '0644',
        owner: e.owner ?? base?.owner ?? 'root',
        group: e.group ?? base?.group ?? 'root',
        sha256: e.sha256,
        size: -1,
      };
    case 'attrs': {
      // Only mode, owner and group change: what is there now, with the pending attributes on top.
      if (!base) return real ?? { kind: 'absent' };
      const attrs = { mode: e.mode ?? base.mode, owner: e.owner ?? base.owner, group: e.group ?? base.group };
      return { ...base, ...attrs };
    }
  }
}

/** A path's state and, for a regular file, its bytes, in one round trip when no pending change is on it. */
export async function fileStateAndBytes(
  ctx: TaskCtx,
  path: string,
): Promise<{ file: FileState; bytes: Buffer | null }> {
  if (ctx.pending.file(path)) {
    const file = await fileState(ctx, path);
    return { file, bytes: file.kind === 'file' ? await fileBytes(ctx, path) : null };
  }
  const info = await ctx.host.stat?.(path, true, { become: ctx.become });
  if (info?.kind === 'file' && info.bytes) return { file: fromInfo(info, true)!, bytes: info.bytes };
  if (info && info.kind !== 'file') return { file: fromInfo(info, false)!, bytes: null };
  const r = await ctx.host.run(statScript(path, 'bytes'), { become: ctx.become });
  const out = r.stdout.trim();
  const lines = out.split('\n');
  if (lines[0] !== 'file') return { file: parseStat(out), bytes: null };
  const [, mode, owner, group, size] = lines;
  const attrs = { mode: mode.padStart(4, '0'), owner, group, size: Number(size) };
  const inline = Buffer.from(lines.slice(5).join(''), 'base64');
  // A file bigger than the inline limit, or one that changed between stat and read, is read again whole.
  const bytes = inline.length === attrs.size ? inline : await ctx.host.get(path, { become: ctx.become });
  // Gone between the two reads.
  if (bytes === null) return { file: { kind: 'absent' }, bytes: null };
  return { file: { kind: 'file', ...attrs, size: bytes.length, sha256: sha256(bytes) }, bytes };
}

/** The bytes a file holds now, or would hold after pending changes. */
export async function fileBytes(ctx: TaskCtx, path: string): Promise<Buffer | null> {
  const p = ctx.pending.file(path);
  if (p && p.kind === 'file') {
    if (p.state === 'absent') return null;
    if (p.state === 'file' && p.content !== undefined) return asBytes(p.content);
  }
  return ctx.host.get(path, { become: ctx.become });
}

/** A text file's content now, or after pending changes (UTF-8). */
export async function fileContent(ctx: TaskCtx, path: string): Promise<string | null> {
  const b = await fileBytes(ctx, path);
  return b === null ? null : b.toString('utf8');
}

/** Whether the folder a file goes into exists now or would after pending changes. */
export async function parentExists(ctx: TaskCtx, path: string): Promise<boolean> {
  const dir = path.replace(/\/[^/]*$/, '') || '/';
  const s = await fileState(ctx, dir, false);
  return s.kind === 'directory';
}

/** Mode, owner and group differences between wanted attributes and a present path. */
export function attrChanges(
  have: { mode: string; owner: string; group: string },
  want: { mode?: string; owner?: string; group?: string },
): string[] {
  const out: string[] = [];
  if (want.mode && /^[0-7]+$/.test(want.mode) && parseInt(want.mode, 8) !== parseInt(have.mode, 8))
    out.push(`mode ${have.mode} → ${want.mode}`);
  if (want.owner && want.owner !== have.owner) out.push(`owner ${have.owner} → ${want.owner}`);
  if (want.group && want.group !== have.group) out.push(`group ${have.group} → ${want.group}`);
  return out;
}

export function attrScript(path: string, want: { mode?: string; owner?: string; group?: string }): string {
  const cmds: string[] = [];
  if (want.mode) cmds.push(sh`chmod ${want.mode} ${path}`);
  if (want.owner || want.group) {
    const ownerGroup = (want.owner ?? '') + (want.group ? ':' + want.group : '');
    cmds.push(sh`chown ${ownerGroup} ${path}`);
  }
  return cmds.join(' && ');
}
