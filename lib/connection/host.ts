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

export interface Host {
  readonly name: string;
  run(script: string, opts?: RunOptions): Promise<RunResult>;
  /** Atomic write: temp file beside the target, then rename. */
  put(path: string, bytes: Buffer | string, opts?: PutOptions): Promise<void>;
  /** A file's bytes, or null when it does not exist. */
  get(path: string, opts?: { become?: Become; batch?: boolean }): Promise<Buffer | null>;
  close(): Promise<void>;
}
