// Host: the only seam to the outside. Tasks see a Host and a Pending overlay (check mode).
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}
export interface RunOptions {
  timeoutMs?: number;
  become?: Become;
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

export interface Host {
  readonly name: string;
  run(script: string, opts?: RunOptions): Promise<RunResult>;
  /** Atomic write: temp file beside the target, then rename. */
  put(path: string, bytes: Buffer | string, opts?: PutOptions): Promise<void>;
  /** A file's bytes, or null when it does not exist. */
  get(path: string, opts?: { become?: Become }): Promise<Buffer | null>;
  close(): Promise<void>;
}
