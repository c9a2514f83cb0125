// Changes and their effects, and the check-mode overlay that carries them forward to later tasks.

/** What a change does to a host, so check mode can carry it forward to later tasks. */
export type Effect =
  | {
      kind: 'file';
      path: string;
      state: 'file';
      sha256: string;
      content?: Buffer | string;
      mode?: string;
      owner?: string;
      group?: string;
    }
  | { kind: 'file'; path: string; state: 'directory'; mode?: string; owner?: string; group?: string }
  | { kind: 'file'; path: string; state: 'link'; src: string }
  | { kind: 'file'; path: string; state: 'absent' }
  | { kind: 'file'; path: string; state: 'attrs'; mode?: string; owner?: string; group?: string }
  | { kind: 'package'; name: string; state: 'present' | 'absent' }
  | { kind: 'service'; name: string; active?: boolean; enabled?: boolean; fromStopped?: boolean }
  | { kind: 'other'; what: string };

export interface Change<D = unknown> {
  /** What will be done, for people: "create directory /srv/app". Never holds a secret. */
  action: string;
  effects?: Effect[];
  diff?: { path: string; before: string; after: string };
  /** Asked for every time (a command, a restart): not a sign of non-convergence after apply. */
  always?: boolean;
  /** Task-private data that apply needs (typed by the task). Never printed. */
  data?: D;
}

interface PendingEntry {
  effect: Effect;
  task: string;
  action: string;
}

/** Changes that earlier tasks would make on one host in check mode. Empty in a real run. */
export class Pending {
  private entries: PendingEntry[] = [];

  record(task: string, changes: Change<unknown>[]): void {
    for (const c of changes)
      for (const e of c.effects ?? [{ kind: 'other', what: c.action } as Effect])
        this.entries.push({ effect: e, task, action: c.action });
  }

  get empty(): boolean {
    return this.entries.length === 0;
  }

  /** The latest pending effect on a path, on a folder above it (removed), or below it (a directory
   *  made with mkdir -p makes its missing parents too, so they would be directories). */
  file(path: string): Effect | undefined {
    return this.fileBefore(path, this.entries.length);
  }

  private fileBefore(path: string, end: number): Effect | undefined {
    for (let i = end - 1; i >= 0; i--) {
      const e = this.entries[i].effect;
      if (e.kind !== 'file') continue;
      if (e.path === path) {
        if (e.state !== 'attrs') return e;
        // Attributes apply to what the path would be before them, an implied parent included.
        const base = this.fileBefore(path, i);
        const hasAttrs = base && base.kind === 'file' && (base.state === 'file' || base.state === 'directory');
        return hasAttrs ? ({ ...base, ...pick(e) } as Effect) : e;
      }
      if (e.state === 'absent' && isUnder(path, e.path)) return { kind: 'file', path, state: 'absent' };
      if (e.state === 'directory' && isUnder(e.path, path)) return this.parentOf(path, i);
    }
    return undefined;
  }

  /** A folder above the directory entry i makes: mkdir -p leaves an earlier directory (with its
   *  attributes) or link there as it is, and makes a missing one with default attributes. */
  private parentOf(path: string, i: number): Effect {
    const earlier = this.fileBefore(path, i);
    const kept = earlier?.kind === 'file' && (earlier.state === 'directory' || earlier.state === 'link');
    return kept ? earlier : { kind: 'file', path, state: 'directory' };
  }

  package(name: string): PendingEntry | undefined {
    return [...this.entries].reverse().find((p) => p.effect.kind === 'package' && p.effect.name === name);
  }

  packages(): PendingEntry[] {
    return this.entries.filter((p) => p.effect.kind === 'package' && p.effect.state === 'present');
  }

  service(name: string): { active?: boolean; enabled?: boolean } | undefined {
    let out: { active?: boolean; enabled?: boolean } | undefined;
    for (const p of this.entries)
      if (p.effect.kind === 'service' && p.effect.name === name) out = { ...out, ...strip(p.effect) };
    return out;
  }

  /** Any pending entry matching a test, for tasks that depend on a kind of change. */
  find(test: (e: Effect) => boolean): PendingEntry | undefined {
    return this.entries.find((p) => test(p.effect));
  }

  /** Position of the last entry matching a test (-1: none), to tell which change comes first. */
  lastIndex(test: (e: Effect) => boolean): number {
    for (let i = this.entries.length - 1; i >= 0; i--) if (test(this.entries[i].effect)) return i;
    return -1;
  }

  describe(p: PendingEntry): string {
    return `${p.action} (task "${p.task}")`;
  }
}

/** Whether path is strictly inside folder ("/" holds everything; a trailing slash is ignored). */
function isUnder(path: string, folder: string): boolean {
  const prefix = folder.replace(/\/+$/, '') + '/';
  return path !== folder && path.startsWith(prefix);
}

function pick(e: Effect): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k of ['mode', 'owner', 'group'] as const)
    if ((e as Record<string, unknown>)[k] !== undefined) o[k] = (e as Record<string, unknown>)[k];
  return o;
}
function strip(e: Effect): { active?: boolean; enabled?: boolean } {
  const s = e as { active?: boolean; enabled?: boolean };
  const o: { active?: boolean; enabled?: boolean } = {};
  if (s.active !== undefined) o.active = s.active;
  if (s.enabled !== undefined) o.enabled = s.enabled;
  return o;
}
