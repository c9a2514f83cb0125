// The local Host (zx): runs the same scripts on this machine, so tasks can be unit-tested locally.
import { $ } from 'zx';
import { userInfo } from 'node:os';
import { Become, Host, PutOptions, RunOptions, RunResult } from './host.js';
import { getScript, putScript, wrapBecome } from './shellscripts.js';

export class LocalHost implements Host {
  constructor(public readonly name = 'localhost') {}

  async run(script: string, opts: RunOptions = {}): Promise<RunResult> {
    const full = wrapBecome(script, userInfo().username, opts.become);
    const p = await $({ nothrow: true, quiet: true, timeout: opts.timeoutMs ?? 600_000, input: '' })`sh -c ${full}`;
    return { code: p.exitCode ?? 1, stdout: p.stdout, stderr: p.stderr };
  }

  async put(path: string, bytes: Buffer | string, opts: PutOptions = {}): Promise<void> {
    const r = await this.run(putScript(path, bytes, opts), { become: opts.become });
    if (r.code !== 0) throw new Error(`cannot write ${path}: ${r.stderr.trim()}`);
  }

  async get(path: string, opts: { become?: Become } = {}): Promise<Buffer | null> {
    const r = await this.run(getScript(path), { become: opts.become });
    if (r.code === 3) return null;
    if (r.code !== 0) throw new Error(`cannot read ${path}: ${r.stderr.trim()}`);
    return Buffer.from(r.stdout, 'base64');
  }

  async close(): Promise<void> {}
}
