// Changes and their effects, and the check-mode overlay that carries them forward to later tasks.

/** What a change does to a host, so check mode can carry it forward to later tasks. */
export type Effect =
  | {
      kind: 'file';
      path: string;
      state: 'file';
      sha256: string;
      content?: string;
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

  /** The latest pending effect on a path or on a folder above it. */
  file(path: string): Effect | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i].effect;
      if (e.kind !== 'file') continue;
      if (e.path === path) {
        if (e.state !== 'attrs') return e;
        const base = this.file0(path, i);
        return base && base.kind === 'file' && base.state !== 'absent' && base.state !== 'link'
          ? ({ ...base, ...pick(e) } as Effect)
          : e;
      }
      if (e.state === 'absent' && path.startsWith(e.path.replace(/\/$/, '') + '/'))
        return { kind: 'file', path, state: 'absent' };
    }
    return undefined;
  }

  private file0(path: string, before: number): Effect | undefined {
    for (let i = before - 1; i >= 0; i--) {
      const e = this.entries[i].effect;
      if (e.kind === 'file' && e.path === path && e.state !== 'attrs') return e;
    }
    return undefined;
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
