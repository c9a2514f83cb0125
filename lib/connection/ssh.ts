// The SSH Host: one ssh2 connection per host for the whole run (through its ProxyJump hops), and one
// long-lived `sh` channel on it (about 45 ms saved per command against a new exec channel), driven by
// ShellSession (session.ts): framed by length, each command in its own process group, killed on timeout; a dead
// shell, or one that received injected bytes, is replaced by a fresh channel. A connection that drops between
// commands is made again (bounded) before the host is unreachable.
import type { Duplex } from 'node:stream';
import type { Client, ClientChannel, ConnectConfig } from 'ssh2';
import { ConnectError } from '../util/errors.js';
import { Become, Host, PathInfo, PutOptions, RunOptions, RunResult } from './host.js';
import { parsePathStates, PathRead, pathStateScript } from './pathstate.js';
import { checkHostKey, hostKeyOrder } from './hostkeys.js';
import { lookupHost } from './knownhosts.js';
import { MAX_BATCH, ShellSession } from './session.js';
import { putScript, getScript } from './shellscripts.js';
import { prepareLogins } from './sshlogin.js';
import { loadSsh2 } from './ssh2lib.js';
import { SshTarget } from './sshtarget.js';

export { sshTarget } from './sshtarget.js';
export type { HostKeyChecking, LoginOptions, SshTarget } from './sshtarget.js';

/** A command waiting for the shell. */
interface Job {
  script: string;
  opts: RunOptions;
  resolve: (r: RunResult) => void;
  reject: (e: Error) => void;
  /** A path's state asked with stat() instead of a script: read with the others of its batch (pathstate.ts). */
  stat?: PathRead & { done: (info: PathInfo | undefined) => void };
}

/** The most script bytes one batch carries. */
const MAX_BATCH_BYTES = 256 * 1024;

/** Tries to make a dropped connection again, before the host is unreachable. */
const RECONNECT_TRIES = 2;
const RECONNECT_PAUSE_MS = 500;

export class SshHost implements Host {
  private conn?: Client;
  /** The ProxyJump hops' connections, first hop first. */
  private hops: Client[] = [];
  private session?: ShellSession;
  private opening?: Promise<ShellSession>;
  /** Commands waiting for the shell, first come first run; `busy` while one (or a batch) runs. */
  private jobs: Job[] = [];
  private busy = false;
  private connected = false;
  /** Commands run, for the benchmark and tests that prove one connection per host. */
  stats = { connects: 0, channels: 0, commands: 0, batches: 0 };

  constructor(
    public readonly target: SshTarget,
    private defaultTimeoutMs = 10 * 60_000,
  ) {}
  get name(): string {
    return this.target.name;
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    const chain = [...(this.target.jumps ?? []), this.target];
    const clients: Client[] = [];
    try {
      let sock: Duplex | undefined;
      for (const [i, hop] of chain.entries()) {
        if (i > 0) sock = await forwardTo(clients[i - 1], hop);
        clients.push(await openClient(hop, sock));
      }
    } catch (e) {
      for (const c of clients) c.end();
      // A hop's error is told as this host's: the report is per inventory host.
      throw e instanceof ConnectError && e.host === this.name ? e : new ConnectError(this.name, (e as Error).message);
    }
    const conn = clients.pop()!;
    const hops = clients;
    this.conn = conn;
    this.hops = hops;
    this.stats.connects++;
    this.connected = true;
    conn.on('close', () => {
      for (const c of hops) c.end();
      // A late close of a connection already replaced says nothing of the new one.
      if (this.conn !== conn) return;
      this.connected = false;
      this.session?.onClose();
      this.session = undefined;
    });
  }

  /** A dropped connection made again: a few tries, as the drop may be brief. */
  private async reconnect(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.connect();
      } catch (e) {
        if (attempt >= RECONNECT_TRIES) throw e;
        await new Promise((r) => setTimeout(r, RECONNECT_PAUSE_MS));
      }
    }
  }

  /** Starts opening the shell now, so that it is ready when the first command comes (an error is told then). */
  warm(): void {
    this.openShell().catch(() => undefined);
  }

  /** The live shell, or a new one: one at a time, however many commands ask for it together. A shell still
   *  starting (this.session is set before its ready line arrives) is waited for. */
  private openShell(): Promise<ShellSession> {
    if (this.opening) return this.opening;
    if (this.session && !this.session.dead) return Promise.resolve(this.session);
    this.opening = this.newShell().finally(() => (this.opening = undefined));
    return this.opening;
  }

  private async newShell(): Promise<ShellSession> {
    if (this.stats.connects > 0) await this.reconnect();
    else await this.connect();
    const conn = this.conn!;
    const ch = await new Promise<ClientChannel>((res, rej) =>
      conn.exec('exec sh', (err, stream) =>
        err ? rej(new ConnectError(this.name, `cannot open a shell: ${err.message}`)) : res(stream),
      ),
    );
    this.stats.channels++;
    const session = new ShellSession(
      { write: (d) => ch.write(d), destroy: () => ch.close() },
      this.name,
      this.target.user,
    );
    ch.on('data', (d: Buffer) => session.onStdout(d));
    ch.stderr.on('data', (d: Buffer) => session.onStderr(d));
    ch.on('close', () => session.onClose());
    this.session = session;
    try {
      await session.ready;
    } catch (e) {
      throw new ConnectError(this.name, `cannot start a shell: ${(e as Error).message}`);
    }
    return session;
  }

  run(script: string, opts: RunOptions = {}): Promise<RunResult> {
    return new Promise<RunResult>((resolve, reject) => this.enqueue({ script, opts, resolve, reject }));
  }

  stat(path: string, bytes: boolean, opts: RunOptions = {}): Promise<PathInfo | undefined> {
    if (!path.startsWith('/') || !this.batchable(opts)) return Promise.resolve(undefined);
    const none = () => undefined;
    return new Promise((done) =>
      this.enqueue({ script: '', opts, resolve: none, reject: none, stat: { path, bytes, done } }),
    );
  }

  private enqueue(job: Job): void {
    this.jobs.push(job);
    // From idle, the next turn of the event loop: reads queued together in this one are sent together.
    if (!this.busy) {
      this.busy = true;
      setImmediate(() => void this.next());
    }
  }

  /** Runs the next command, or the next run of batchable reads as one batch, then the rest in order. */
  private async next(): Promise<void> {
    const group = this.takeGroup();
    if (!group.length) {
      this.busy = false;
      return;
    }
    // A path alone is read by the caller's own script: a find for one path is no cheaper.
    if (group.length === 1 && group[0].stat) group[0].stat.done(undefined);
    else if (group.length === 1) {
      const [job] = group;
      await this.runNow(job.script, job.opts).then(job.resolve, job.reject);
    } else await this.runBatchNow(group);
    void this.next();
  }

  /** The first waiting command; with it, when it is a batchable read as the login user, the batchable reads
   *  queued right after it (up to MAX_BATCH commands and MAX_BATCH_BYTES). */
  private takeGroup(): Job[] {
    const first = this.jobs.shift();
    if (!first) return [];
    const group = [first];
    let bytes = first.script.length;
    while (
      this.batchable(first.opts) &&
      group.length < MAX_BATCH &&
      this.jobs.length &&
      this.batchable(this.jobs[0].opts)
    ) {
      bytes += this.jobs[0].script.length;
      if (bytes > MAX_BATCH_BYTES) break;
      group.push(this.jobs.shift()!);
    }
    return group;
  }

  private batchable(opts: RunOptions): boolean {
    return !!opts.batch && (!opts.become || opts.become.user === this.target.user);
  }

  private async runBatchNow(group: Job[]): Promise<void> {
    const timeoutMs = Math.max(...group.map((j) => j.opts.timeoutMs ?? this.defaultTimeoutMs));
    let session: ShellSession | undefined;
    try {
      session = await this.openShell();
      this.stats.commands += group.length;
      this.stats.batches++;
      const paths = group.flatMap((j) => (j.stat ? [j.stat] : []));
      const pathScript = paths.length ? [pathStateScript(paths)] : [];
      // The same read twice in one batch (three tasks on one file) runs once: a batch only reads, in one go.
      const scripts = [...new Set(group.flatMap((j) => (j.stat ? [] : [j.script])))];
      const results = await session.runBatch([...pathScript, ...scripts], timeoutMs);
      if (paths.length) {
        const r = results[0];
        const infos = r instanceof Error ? paths.map(() => undefined) : parsePathStates(r, paths);
        paths.forEach((p, i) => p.done(infos[i]));
      }
      for (const job of group) {
        if (job.stat) continue;
        const r = results[pathScript.length + scripts.indexOf(job.script)];
        if (r instanceof Error) job.reject(r);
        else job.resolve({ ...r });
      }
    } catch (e) {
      const err = this.closedError(e as Error, session, group.find((j) => !j.stat)?.script ?? 'find');
      for (const job of group) {
        if (job.stat) job.stat.done(undefined);
        else job.reject(err);
      }
    }
  }

  /** A command's error, as the host's being unreachable when the connection went away under it. */
  private closedError(e: Error, session: ShellSession | undefined, script: string): Error {
    if (!session?.dead || this.connected) return e;
    const first = script.trimStart().split('\n')[0];
    const what = first.length > 80 ? `${first.slice(0, 77)}...` : first;
    return new ConnectError(this.name, `it closed while running: ${what}`, true);
  }

  private async runNow(script: string, opts: RunOptions): Promise<RunResult> {
    const session = await this.openShell();
    this.stats.commands++;
    try {
      return await session.run(script, opts.timeoutMs ?? this.defaultTimeoutMs, opts.become);
    } catch (e) {
      throw this.closedError(e as Error, session, script);
    }
  }

  async put(path: string, bytes: Buffer | string, opts: PutOptions = {}): Promise<void> {
    const r = await this.run(putScript(path, bytes, opts), { become: opts.become });
    if (r.code !== 0) throw new Error(`cannot write ${path}: ${r.stderr.trim() || `exit ${r.code}`}`);
  }

  async get(path: string, opts: { become?: Become; batch?: boolean } = {}): Promise<Buffer | null> {
    const r = await this.run(getScript(path), opts);
    if (r.code === 3) return null;
    if (r.code !== 0) throw new Error(`cannot read ${path}: ${r.stderr.trim() || `exit ${r.code}`}`);
    return Buffer.from(r.stdout, 'base64');
  }

  /** A command in its own SSH session (a new channel each time): for the rare command that needs
   *  one, and for the benchmark that compares it with the persistent shell. */
  async exec(command: string): Promise<RunResult> {
    await this.connect();
    const conn = this.conn!;
    return new Promise((resolve, reject) =>
      conn.exec(command, (err, ch) => {
        if (err) return reject(new ConnectError(this.name, `cannot open a channel: ${err.message}`));
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let code = 0;
        ch.on('data', (d: Buffer) => out.push(d));
        ch.stderr.on('data', (d: Buffer) => errOut.push(d));
        ch.on('exit', (c: number | null) => (code = c ?? 0));
        ch.on('close', () =>
          resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(errOut).toString() }),
        );
      }),
    );
  }

  async close(): Promise<void> {
    this.session?.drop();
    this.session = undefined;
    this.connected = false;
    this.conn?.end();
    for (const c of this.hops) c.end();
  }
}

/** One hop: a TCP connection (or a channel forwarded by the previous hop), host key checked, logged in. */
async function openClient(t: SshTarget, sock: Duplex | undefined): Promise<Client> {
  const known = lookupHost([t.knownHostsFile, ...(t.extraKnownHostsFiles ?? [])], t.address, t.port);
  const logins = await prepareLogins({
    user: t.user,
    agent: t.agent,
    identityFiles: t.identityFiles,
    password: t.password,
  });
  let keyProblem = '';
  const client = new (await loadSsh2()).Client();
  const config: ConnectConfig = {
    host: sock ? undefined : t.address,
    port: t.port,
    sock,
    username: t.user,
    readyTimeout: t.connectTimeoutMs,
    keepaliveInterval: t.aliveIntervalMs,
    keepaliveCountMax: t.aliveCountMax,
    authHandler: logins.handler,
    algorithms: { serverHostKey: hostKeyOrder(known.keys.map((k) => k.type)) },
    hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
      checkHostKey(t, known, key).then(
        (problem) => {
          keyProblem = problem ?? '';
          verify(!problem);
        },
        (e: Error) => {
          keyProblem = e.message;
          verify(false);
        },
      );
    },
  };
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.once('error', reject);
      client.once('close', () => reject(new Error('the connection closed during the login')));
      client.connect(config);
    });
  } catch (e) {
    client.end();
    const tried = logins.labels.length ? logins.labels.join(', ') : 'none (no agent, no key file, no password)';
    const reason = keyProblem || (e as Error).message;
    throw new ConnectError(t.name, `${reason} (ssh ${t.user}@${t.address}:${t.port}; keys tried: ${tried})`);
  }
  client.removeAllListeners('error');
  client.on('error', () => undefined);
  return client;
}

/** A channel from one hop to the next, as ssh -J does with forwardOut. */
function forwardTo(via: Client, next: SshTarget): Promise<Duplex> {
  return new Promise((resolve, reject) =>
    via.forwardOut('127.0.0.1', 0, next.address, next.port, (err, ch) =>
      err
        ? reject(
            new ConnectError(
              next.name,
              `cannot reach ${next.address}:${next.port} through the jump host: ${err.message}`,
            ),
          )
        : resolve(ch),
    ),
  );
}
