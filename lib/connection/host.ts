// Host: the only seam to the outside. Tasks see a Host and a Pending overlay (check mode).
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}
export interface RunOptions {
  timeoutMs?: number;
  become?: Become;
  /** A read that may share one round trip with other such reads queued with it (lib/core/lookahead.ts): the
   *  SSH host sends them as one batch when it can. Ignored by hosts that cannot. */
  batch?: boolean;
}
export interface Become {
  user: string;
  password?: string;
}
export interface PutOptions {
  mode?: string;
  owner?: string;
  group?: string;
  become?: Become;
}

/** The connections rmqplay has, by Ansible's names for them (smart and paramiko are its SSH here). */
export const CONNECTIONS: Record<string, 'ssh' | 'local'> = {
  ssh: 'ssh',
  smart: 'ssh',
  paramiko: 'ssh',
  local: 'local',
};

/** The connection a name (connection:, -c, ansible_connection) means, or undefined when rmqplay has none. */
export function connectionKind(name: string): 'ssh' | 'local' | undefined {
  return Object.prototype.hasOwnProperty.call(CONNECTIONS, name) ? CONNECTIONS[name] : undefined;
}

/** A regular file's bytes come with its state up to this size (stat, and the statScript of modules/facts.ts). */
export const INLINE_BYTES = 1 << 20;

/** A path's state as Host.stat reads it: its kind, and what that kind has (a link's target; a directory's and a
 *  regular file's mode, owner and group; a regular file's size and, when asked and at most INLINE_BYTES, bytes;
 *  for another kind, stat(1)'s name of its type). */
export type PathInfo =
  | { kind: 'absent' }
  | { kind: 'link'; target: string }
  | { kind: 'directory'; mode: string; owner: string; group: string }
  | { kind: 'file'; mode: string; owner: string; group: string; size: number; bytes?: Buffer }
  | { kind: 'other'; type: string };

export interface Host {
  readonly name: string;
  run(script: string, opts?: RunOptions): Promise<RunResult>;
  /** A path's state, read together with the other reads of its batch (RunOptions.batch): the SSH host reads all
   *  the paths of one batch with one `find` and their bytes with one `cat`, where a script per path takes one to
   *  three programs each. Undefined when the host cannot read it that way (no batch, another user, a relative
   *  path, a file that changed under the read): the caller reads it with its own script. */
  stat?(path: string, bytes: boolean, opts?: RunOptions): Promise<PathInfo | undefined>;
  /** Atomic write: temp file beside the target, then rename. */
  put(path: string, bytes: Buffer | string, opts?: PutOptions): Promise<void>;
  /** A file's bytes, or null when it does not exist. */
  get(path: string, opts?: { become?: Become; batch?: boolean }): Promise<Buffer | null>;
  close(): Promise<void>;
}

/** A Host that is `host` but for what `over` replaces: the wrappers (become errors, a task's environment, reads
 *  sent together) change one or two of its methods and pass the rest through. */
export function hostWith(host: Host, over: Partial<Pick<Host, 'run' | 'stat' | 'get'>>): Host {
  return {
    name: host.name,
    run: (script, opts) => host.run(script, opts),
    stat: (path, bytes, opts) => host.stat?.(path, bytes, opts) ?? Promise.resolve(undefined),
    put: (path, bytes, opts) => host.put(path, bytes, opts),
    get: (path, opts) => host.get(path, opts),
    close: () => host.close(),
    ...over,
  };
}
