// Host.stat on the SSH host: the paths of one batch read together. One `find` prints every path's kind, mode,
// owner, group, size and link target; one `find | xargs cat` prints the bytes of the regular files asked for
// (those of at most INLINE_BYTES), all through one base64. Five programs for the whole batch, where a script per
// path takes one to three programs each (stat, base64, readlink). Every path is absolute (a relative one could
// read as an option of find): the SSH host asks only for those.
import { INLINE_BYTES, PathInfo, RunResult } from './host.js';
import { q } from './quote.js';

export interface PathRead {
  path: string;
  bytes: boolean;
}

// stat(1)'s %F names of the kinds find's %y letters mean (statScript reports them so).
const OTHER_TYPES: Record<string, string> = {
  p: 'fifo',
  s: 'socket',
  b: 'block special file',
  c: 'character special file',
  D: 'door',
};

/** The paths whose bytes are read, each once, in the order the script cats them and the parser splits them. */
const bytesPaths = (reads: PathRead[]) => [...new Set(reads.filter((r) => r.bytes).map((r) => r.path))];

/** The script that reads them all; its stdout is base64. */
export function pathStateScript(reads: PathRead[]): string {
  // `/` first, always there: a find without -printf (BusyBox, BSD) prints nothing, which must not read as absent.
  const all = [...new Set(['/', ...reads.map((r) => r.path)])];
  const withBytes = bytesPaths(reads);
  const cat = withBytes.length
    ? `find ${withBytes.map(q).join(' ')} -maxdepth 0 -type f -size -${INLINE_BYTES + 1}c -print0 2>/dev/null |
  xargs -0 -r cat --`
    : ':';
  return `{
  find ${all.map(q).join(' ')} -maxdepth 0 -printf '%p\\0%y\\0%m\\0%u\\0%g\\0%s\\0%l\\0' 2>/dev/null
  printf 'END\\0'
  ${cat}
} | base64`;
}

/** Each read's state, in order; undefined for those it cannot tell (the script failed, or a file's bytes were
 *  not those of the size found: it changed between the two reads). */
export function parsePathStates(r: RunResult, reads: PathRead[]): (PathInfo | undefined)[] {
  if (r.code !== 0) return reads.map(() => undefined);
  const out = Buffer.from(r.stdout, 'base64');
  const found = new Map<string, PathInfo>();
  let pos = 0;
  const field = (): string | undefined => {
    const end = out.indexOf(0, pos);
    if (end < 0) return undefined;
    const s = out.subarray(pos, end).toString('utf8');
    pos = end + 1;
    return s;
  };
  for (;;) {
    const path = field();
    if (path === undefined) return reads.map(() => undefined);
    if (path === 'END') break;
    const [type, mode, owner, group, size, target] = [field(), field(), field(), field(), field(), field()];
    if (target === undefined) return reads.map(() => undefined);
    if (type === 'l') found.set(path, { kind: 'link', target });
    else if (type === 'd') found.set(path, { kind: 'directory', mode, owner, group } as PathInfo);
    else if (type === 'f') found.set(path, { kind: 'file', mode, owner, group, size: Number(size) } as PathInfo);
    else found.set(path, { kind: 'other', type: OTHER_TYPES[type!] ?? 'unknown' });
  }
  if (found.get('/')?.kind !== 'directory') return reads.map(() => undefined);
  // The bytes, in the order the script asked for them, of the regular files small enough.
  const rest = out.subarray(pos);
  const catted = bytesPaths(reads).filter((p) => {
    const f = found.get(p);
    return f?.kind === 'file' && f.size <= INLINE_BYTES;
  });
  const total = catted.reduce((n, p) => n + (found.get(p) as { size: number }).size, 0);
  const bytesOf = new Map<string, Buffer>();
  if (total === rest.length) {
    let at = 0;
    for (const p of catted) {
      const size = (found.get(p) as { size: number }).size;
      bytesOf.set(p, rest.subarray(at, at + size));
      at += size;
    }
  }
  return reads.map(({ path, bytes }) => {
    const f = found.get(path) ?? { kind: 'absent' };
    if (!bytes || f.kind !== 'file' || f.size > INLINE_BYTES) return f;
    const b = bytesOf.get(path);
    return b ? { ...f, bytes: Buffer.from(b) } : undefined;
  });
}
