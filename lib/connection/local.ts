// The local Host: runs the same scripts on this machine, so tasks can be unit-tested locally. Each command
// gets its own `sh` (no argument but its name), driven by the same ShellSession as the SSH host.
import { ChildProcess, spawn } from 'node:child_process';
import { userInfo } from 'node:os';
import { Become, Host, PutOptions, RunOptions, RunResult } from './host.js';
import { ShellSession } from './session.js';
import { getScript, putScript } from './shellscripts.js';

export class LocalHost implements Host {
  constructor(public readonly name = 'localhost') {}

  async run(script: string, opts: RunOptions = {}): Promise<RunResult> {
    const child = spawn('sh', [], { stdio: ['pipe', 'pipe', 'pipe'] });
    const io = { write: (d: string) => child.stdin.write(d), destroy: () => child.kill('SIGKILL') };
    const session = new ShellSession(io, this.name, userInfo().username);
    child.stdin.on('error', () => undefined);
    child.stdout.on('data', (d: Buffer) => session.onStdout(d));
    child.stderr.on('data', (d: Buffer) => session.onStderr(d));
    child.on('close', () => session.onClose());
    child.on('error', () => session.onClose());
    try {
      await session.ready;
      return await session.run(script, opts.timeoutMs ?? 600_000, opts.become);
    } finally {
      // End of input: the shell exits (and removes its temp folder) once the command is done. Nothing more is
      // read from it, so this process need not wait for that to exit itself (start-up time, issue 11).
      child.stdin.end();
      letGo(child);
    }
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

/** The event loop stops waiting for a shell whose input has ended: the command's result is in. */
function letGo(child: ChildProcess): void {
  child.unref();
  for (const io of [child.stdin, child.stdout, child.stderr]) (io as { unref?: () => void } | null)?.unref?.();
}
