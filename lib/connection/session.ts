// The controller's side of a long-lived `sh` (an SSH channel or a local child process): writes one command
// line at a time (shellscripts.ts) and reads its frame by length, in linear time over Buffers, decoding
// UTF-8 once the frame is complete. The framing does not rely on a secret: a command's output goes to files
// on the host, so any byte that arrives while no frame is expected, or a header whose seq or nonce is not
// the current command's, was injected; that command fails and the shell is dropped for a fresh one.
import { nodeCrypto } from '../util/crypto.js';
import { Become, RunResult } from './host.js';
import { batchLine, commandLine, needsPassword, setupScript } from './shellscripts.js';

const { randomBytes } = nodeCrypto;

export interface ShellIo {
  write(data: string): void;
  /** Ends the shell at once (closes the channel, kills the process). */
  destroy(): void;
}

interface Current {
  seq: number;
  nonce: string;
  timeoutMs: number;
  startedAt: number;
  become?: Become;
  prompt?: string;
  answered: boolean;
  auth: string;
  resolve: (r: RunResult) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
  /** A batch (runBatch): how many commands its `M` frame answers, and where their results go. */
  batch?: { count: number; resolve: (rs: (RunResult | Error)[]) => void };
}

interface Header {
  kind: string;
  code: string;
  outBytes: number;
  errBytes: number;
  /** An `M` frame: each command's exit code and byte counts, in order; outBytes is their total. */
  parts?: { code: number; outBytes: number; errBytes: number }[];
}

const MAX_HEADER = 200;
/** The most commands one batch may hold (its header stays short). */
export const MAX_BATCH = 64;
const MAX_BATCH_HEADER = MAX_HEADER + MAX_BATCH * 36;
const BATCH_HEADER = /^M (\d+) ([0-9a-f]+) (\d+)((?: \d+ \d+ \d+)+)$/;
// Headroom over the command's own timeout, which the host enforces itself (it kills the process group).
const BACKSTOP_MS = 30_000;
const HEADER = /^([FBX]) (\d+) ([0-9a-f]+) (\d+) (\d+) (\d+)$/;

export class ShellSession {
  dead = false;
  readonly ready: Promise<void>;
  private seq = 0;
  private readyNonce = randomBytes(8).toString('hex');
  private state: 'starting' | 'idle' | 'header' | 'body' = 'starting';
  private current?: Current;
  private onReady?: { resolve: () => void; reject: (e: Error) => void };
  private line: Buffer[] = [];
  private lineBytes = 0;
  private header?: Header;
  private body: Buffer[] = [];
  private bodyBytes = 0;

  constructor(
    private io: ShellIo,
    private hostName: string,
    private loginUser: string,
  ) {
    this.ready = new Promise((resolve, reject) => (this.onReady = { resolve, reject }));
    this.ready.catch(() => undefined);
    io.write(setupScript(this.readyNonce));
  }

  run(script: string, timeoutMs: number, become?: Become): Promise<RunResult> {
    if (this.dead || this.current || this.state !== 'idle') {
      return Promise.reject(new Error(`the shell on ${this.hostName} is not ready for a command`));
    }
    const seq = ++this.seq;
    const nonce = randomBytes(8).toString('hex');
    const cmd = commandLine(seq, nonce, script, timeoutMs, this.loginUser, become);
    return this.begin(seq, nonce, timeoutMs, cmd.line, become, cmd.prompt);
  }

  /** Several commands as the login user in one round trip (shellscripts.ts `__rmqplay_batch`): each command's
   *  result, or an Error when it did not run to its end (the batch's timeout). The batch's timeout is the
   *  longest of theirs. A failure of the shell itself rejects the whole batch. */
  async runBatch(scripts: string[], timeoutMs: number): Promise<(RunResult | Error)[]> {
    if (this.dead || this.current || this.state !== 'idle') {
      throw new Error(`the shell on ${this.hostName} is not ready for a command`);
    }
    if (!scripts.length || scripts.length > MAX_BATCH) throw new Error(`a batch holds 1 to ${MAX_BATCH} commands`);
    const seq = ++this.seq;
    const nonce = randomBytes(8).toString('hex');
    const line = batchLine(seq, nonce, scripts, timeoutMs);
    return new Promise<(RunResult | Error)[]>((resolve, reject) => {
      const batch = { count: scripts.length, resolve };
      this.begin(seq, nonce, timeoutMs, line, undefined, undefined, batch).then(
        // An `X` frame (the runner died) arrives as one result: every command of the batch fails with it.
        (r) => reject(new Error(`the batch runner failed on ${this.hostName}: ${r.stderr}`)),
        reject,
      );
    });
  }

  private begin(
    seq: number,
    nonce: string,
    timeoutMs: number,
    line: string,
    become?: Become,
    prompt?: string,
    batch?: Current['batch'],
  ): Promise<RunResult> {
    return new Promise<RunResult>((resolve, reject) => {
      const cur: Current = {
        seq,
        nonce,
        timeoutMs,
        startedAt: Date.now(),
        become,
        prompt: prompt,
        answered: false,
        auth: '',
        resolve,
        reject,
        batch,
      };
      cur.timer = setTimeout(() => this.fail(timedOut(timeoutMs, this.hostName)), timeoutMs + BACKSTOP_MS);
      this.current = cur;
      this.state = 'header';
      this.io.write(line);
    });
  }

  onStdout(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length && !this.dead) {
      if (this.state === 'idle') return this.injected('output arrived while no command was running');
      if (this.state === 'body') {
        off = this.takeBody(chunk, off);
        continue;
      }
      const nl = chunk.indexOf(10, off);
      const end = nl < 0 ? chunk.length : nl;
      this.line.push(chunk.subarray(off, end));
      this.lineBytes += end - off;
      const max = this.current?.batch ? MAX_BATCH_HEADER : MAX_HEADER;
      if (this.state === 'header' && this.lineBytes > max) return this.injected('a frame header is too long');
      if (nl < 0) return;
      off = nl + 1;
      const text = Buffer.concat(this.line).toString('latin1');
      this.line = [];
      this.lineBytes = 0;
      if (this.state === 'starting') this.started(text);
      else this.headerLine(text);
    }
  }

  onStderr(chunk: Buffer): void {
    if (this.dead || this.state === 'starting') return;
    const cur = this.current;
    if (!cur?.prompt) return this.injected('bytes arrived on stderr');
    // Only sudo writes here, while it authenticates: answer its unique prompt once, never a second time.
    cur.auth += chunk.toString('utf8');
    const first = cur.auth.indexOf(cur.prompt);
    if (first < 0) return;
    if (!cur.answered) {
      cur.answered = true;
      this.io.write(`${cur.become?.password ?? ''}\n`);
    }
    if (cur.auth.indexOf(cur.prompt, first + cur.prompt.length) < 0) return;
    const said = cur.auth.split(cur.prompt).join('').trim();
    this.finish({ code: 1, stdout: '', stderr: `${said}\nsudo: 1 incorrect password attempt`.trim() });
    this.drop();
  }

  onClose(): void {
    if (this.dead) return;
    this.dead = true;
    const gone = new Error(`the shell on ${this.hostName} ended unexpectedly`);
    this.onReady?.reject(gone);
    this.fail(gone);
  }

  /** Ends the shell; a command still running fails. */
  drop(): void {
    if (!this.dead) {
      this.dead = true;
      this.onReady?.reject(new Error(`the shell on ${this.hostName} was closed`));
      this.io.destroy();
    }
    this.fail(new Error(`the shell on ${this.hostName} was closed`));
  }

  private started(line: string): void {
    // Lines before the ready line come from the login's rc files: ignored.
    if (line !== `R ${this.readyNonce}`) return;
    this.state = 'idle';
    this.onReady?.resolve();
  }

  private headerLine(line: string): void {
    const cur = this.current!;
    if (cur.batch && line.startsWith('M ')) return this.batchHeader(line, cur);
    const m = HEADER.exec(line);
    if (!m) return this.injected('a malformed frame header');
    if (Number(m[2]) !== cur.seq || m[3] !== cur.nonce) return this.injected('a frame for another command');
    this.startBody({ kind: m[1], code: m[4], outBytes: Number(m[5]), errBytes: Number(m[6]) });
  }

  /** A header read: its body comes next (none: the frame is complete). */
  private startBody(header: Header): void {
    this.header = header;
    this.state = 'body';
    this.body = [];
    this.bodyBytes = 0;
    if (header.outBytes + header.errBytes === 0) this.complete();
  }

  private batchHeader(line: string, cur: Current): void {
    const m = BATCH_HEADER.exec(line);
    if (!m) return this.injected('a malformed frame header');
    if (Number(m[1]) !== cur.seq || m[2] !== cur.nonce) return this.injected('a frame for another command');
    const numbers = m[4].trim().split(' ').map(Number);
    const parts = [];
    for (let i = 0; i < numbers.length; i += 3)
      parts.push({ code: numbers[i], outBytes: numbers[i + 1], errBytes: numbers[i + 2] });
    if (parts.length !== cur.batch!.count || Number(m[3]) !== parts.length)
      return this.injected('a batch frame for another number of commands');
    const total = parts.reduce((n, p) => n + p.outBytes + p.errBytes, 0);
    this.startBody({ kind: 'M', code: '0', outBytes: total, errBytes: 0, parts });
  }

  private takeBody(chunk: Buffer, off: number): number {
    const h = this.header!;
    const take = Math.min(h.outBytes + h.errBytes - this.bodyBytes, chunk.length - off);
    this.body.push(chunk.subarray(off, off + take));
    this.bodyBytes += take;
    if (this.bodyBytes === h.outBytes + h.errBytes) this.complete();
    return off + take;
  }

  private complete(): void {
    const h = this.header!;
    const cur = this.current!;
    const body = Buffer.concat(this.body, this.bodyBytes);
    this.body = [];
    this.state = 'idle';
    if (h.parts) return this.completeBatch(h.parts, body, cur);
    const stdout = body.subarray(0, h.outBytes).toString('utf8');
    const stderr = body.subarray(h.outBytes).toString('utf8');
    // timeout(1) kills the command's group with SIGKILL: 137 once the time has passed.
    const killedLate = h.code === '137' && Date.now() - cur.startedAt >= cur.timeoutMs;
    if (h.kind === 'F' && killedLate) return this.fail(timedOut(cur.timeoutMs, this.hostName));
    if (h.kind === 'F') return this.finish({ code: Number(h.code), stdout, stderr });
    if (h.kind === 'X') {
      return this.finish({
        code: Number(h.code) || 1,
        stdout,
        stderr: `the command runner failed on ${this.hostName}`,
      });
    }
    const noPassword = cur.become?.password === undefined && /password is required/.test(stderr);
    if (noPassword) return this.finish({ code: 97, stdout, stderr: needsPassword(this.loginUser) });
    // What sudo said while authenticating (e.g. not in sudoers) says more than its first `-n` refusal.
    const said = cur.prompt ? cur.auth.split(cur.prompt).join('').trim() : '';
    this.finish({ code: 1, stdout, stderr: said ? `${said}\n${stderr}` : stderr });
  }

  /** Splits a batch's body by its header's counts. A command that says 137 once the batch's time has passed was
   *  stopped by the timeout (or never started): it failed, as a command alone would. */
  private completeBatch(parts: NonNullable<Header['parts']>, body: Buffer, cur: Current): void {
    const late = Date.now() - cur.startedAt >= cur.timeoutMs;
    const results: (RunResult | Error)[] = [];
    let off = 0;
    for (const p of parts) {
      const stdout = body.subarray(off, off + p.outBytes).toString('utf8');
      off += p.outBytes;
      const stderr = body.subarray(off, off + p.errBytes).toString('utf8');
      off += p.errBytes;
      results.push(p.code === 137 && late ? timedOut(cur.timeoutMs, this.hostName) : { code: p.code, stdout, stderr });
    }
    this.settle();
    cur.batch!.resolve(results);
  }

  private injected(what: string): void {
    const why = `${what} on the shell of ${this.hostName}: output was injected or lost; the shell is replaced`;
    this.fail(new Error(why));
    this.drop();
  }

  private finish(r: RunResult): void {
    this.settle()?.resolve(r);
  }

  private fail(e: Error): void {
    this.settle()?.reject(e);
  }

  /** The current command, now done with (no more frame expected, its timer stopped). */
  private settle(): Current | undefined {
    const cur = this.current;
    this.current = undefined;
    clearTimeout(cur?.timer);
    return cur;
  }
}

function timedOut(timeoutMs: number, host: string): Error {
  return new Error(`command timed out after ${Math.round(timeoutMs / 1000)} s on ${host}`);
}
