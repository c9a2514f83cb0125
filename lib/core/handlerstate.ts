// Handlers that survive a failed run. A notification that no handler acted on by the end of a run (the host failed,
// was cut off, or its handler failed) is written to .rmqplay/handlers-<inventory>.json in the working folder, one
// file per inventory; the next run of a playbook with a handler of that name (or listening to it) runs it first on
// that host. The file holds host names, notification names, times and the playbook's path: never a variable's value.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { PlaybookError } from '../util/errors.js';

export const STATE_DIR = '.rmqplay';

/** What one host still needs. */
export interface PendingOnHost {
  /** Notification names (a handler's name or a topic it listens to), in the order they were notified. */
  notified: string[];
  /** When they were first left pending (ISO time). */
  since: string;
  /** The playbook of the run that left them. */
  playbook: string;
}

export interface HandlerStateFile {
  version: 1;
  inventory: string[];
  hosts: Record<string, PendingOnHost>;
}

/** The state file of an inventory (its sources as loaded), in the folder cwd: inventory/prod.yml is "prod",
 *  other paths are named by their path relative to cwd, a host list by its hosts. */
export function handlerStatePath(sources: string[], cwd = process.cwd()): string {
  const names = sources.map((src) => {
    if (!isAbsolute(src) && src.includes(',')) return 'hosts_' + src;
    const rel = relative(resolve(cwd, 'inventory'), resolve(cwd, src));
    if (rel && !rel.startsWith('..') && !isAbsolute(rel)) return rel;
    const fromCwd = relative(cwd, resolve(cwd, src));
    return fromCwd && !fromCwd.startsWith('..') ? fromCwd : resolve(cwd, src);
  });
  const joined = names
    .map((n) => n.replace(/\.(ya?ml|ini)$/, ''))
    .join('+')
    .replace(/[^A-Za-z0-9.+_-]+/g, '_')
    .replace(/^[._]+/, '');
  return join(cwd, STATE_DIR, `handlers-${joined || 'inventory'}.json`);
}

/** The pending notifications of an inventory's hosts; none if there is no file. A file that is not what this
 *  writes is bad input: losing it silently could lose a restart a host needs. */
export function loadHandlerState(path: string): Map<string, PendingOnHost> {
  const out = new Map<string, PendingOnHost>();
  if (!existsSync(path)) return out;
  const bad = (why: string) =>
    new PlaybookError(
      { file: path },
      `${why}; this file holds handlers left pending by a failed run: mend it, or \
delete it to drop them`,
    );
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw bad(`not valid JSON (${(e as Error).message})`);
  }
  const hosts = (data as HandlerStateFile | null)?.hosts;
  if (!hosts || typeof hosts !== 'object' || Array.isArray(hosts)) throw bad('expected {"version": 1, "hosts": {...}}');
  for (const [host, p] of Object.entries(hosts)) {
    const names = (p as PendingOnHost)?.notified;
    if (!Array.isArray(names) || !names.every((n) => typeof n === 'string'))
      throw bad(`host ${host}: "notified" must be a list of handler names`);
    if (!names.length) continue;
    const since = typeof p.since === 'string' ? p.since : '';
    const playbook = typeof p.playbook === 'string' ? p.playbook : '';
    out.set(host, { notified: [...new Set(names)], since, playbook });
  }
  return out;
}

/** Writes the file atomically (temp file, rename); removes it when nothing is pending. */
export function saveHandlerState(path: string, inventory: string[], pending: Map<string, PendingOnHost>): void {
  const hosts: Record<string, PendingOnHost> = {};
  for (const [h, p] of [...pending].sort(([a], [b]) => a.localeCompare(b))) if (p.notified.length) hosts[h] = p;
  if (!Object.keys(hosts).length) {
    // existsSync first: rmSync loads Node's rimraf, ~2 ms of every start-up (issue 11), for a file seldom there.
    if (existsSync(path)) rmSync(path, { force: true });
    return;
  }
  mkdirSync(join(path, '..'), { recursive: true });
  const tmp = join(path, '..', `.${basename(path)}.${process.pid}.tmp`);
  const data: HandlerStateFile = { version: 1, inventory, hosts };
  writeFileSync(tmp, JSON.stringify(data, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, path);
}

/** The path as people should read it: relative to the working folder when inside it. */
export function shownPath(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
