// The SSH Host: one node-ssh connection per host for the whole run, and one long-lived `sh`
// channel on it (about 45 ms saved per command against a new exec channel), driven by ShellSession
// (session.ts): framed by length, each command in its own process group, killed on timeout; a dead
// shell, or one that received injected bytes, is replaced by a fresh channel.
import { homedir } from 'node:os';
import { NodeSSH } from 'node-ssh';
import type { ClientChannel } from 'ssh2';
import { ConnectError } from '../util/errors.js';
import { Become, Host, PutOptions, RunOptions, RunResult } from './host.js';
import { knownKeys } from './knownhosts.js';
import { ShellSession } from './session.js';
import { putScript, getScript } from './shellscripts.js';

export interface SshTarget {
  name: string;
  address: string;
  port: number;
  user: string;
  keyFile?: string;
  password?: string;
  knownHostsFile: string;
  strictHostKeys: boolean;
  connectTimeoutMs: number;
}

/** Reads Ansible's connection variables into an SshTarget. */
export function sshTarget(name: string, vars: Record<string, unknown>): SshTarget {
  const common = String(vars.ansible_ssh_common_args ?? '') + ' ' + String(vars.ansible_ssh_extra_args ?? '');
  const opt = (k: string) => new RegExp(`-o\\s*${k}=("[^"]*"|\\S+)`, 'i').exec(common)?.[1]?.replace(/^"|"$/g, '');
  const strict = opt('StrictHostKeyChecking');
  const keyFile = vars.ansible_ssh_private_key_file ?? vars.ansible_private_key_file;
  return {
    name,
    address: String(vars.ansible_host ?? vars.ansible_ssh_host ?? name),
    port: Number(vars.ansible_port ?? vars.ansible_ssh_port ?? 22),
    user: String(vars.ansible_user ?? vars.ansible_ssh_user ?? process.env.USER ?? 'root'),
    keyFile: keyFile ? String(keyFile).replace(/^~/, homedir()) : undefined,
    password:
      vars.ansible_password !== undefined
        ? String(vars.ansible_password)
        : vars.ansible_ssh_pass !== undefined
          ? String(vars.ansible_ssh_pass)
          : undefined,
    knownHostsFile: (opt('UserKnownHostsFile') ?? `${homedir()}/.ssh/known_hosts`).replace(/^~/, homedir()),
    strictHostKeys: !(strict && /^(no|off|accept-new)$/i.test(strict)),
    connectTimeoutMs: Number(vars.ansible_ssh_timeout ?? vars.ansible_timeout ?? 10) * 1000,
  };
}

export class SshHost implements Host {
  private ssh = new NodeSSH();
  private session?: ShellSession;
  private queue: Promise<unknown> = Promise.resolve();
  private connected = false;
  /** Commands run, for the benchmark and tests that prove one connection per host. */
  stats = { connects: 0, channels: 0, commands: 0 };

  constructor(
    public readonly target: SshTarget,
    private defaultTimeoutMs = 10 * 60_000,
  ) {}
  get name(): string {
    return this.target.name;
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    const t = this.target;
    const keys = knownKeys(t.knownHostsFile, t.address, t.port);
    let keyProblem = '';
    try {
      await this.ssh.connect({
        host: t.address,
        port: t.port,
        username: t.user,
        privateKeyPath: t.keyFile,
        password: t.password,
        readyTimeout: t.connectTimeoutMs,
        keepaliveInterval: 15_000,
        hostVerifier: (key: Buffer) => {
          if (!t.strictHostKeys) return true;
          const ok = keys.includes(key.toString('base64'));
          if (!ok) keyProblem = hostKeyProblem(t.address, t.knownHostsFile, keys.length > 0);
          return ok;
        },
      } as Parameters<NodeSSH['connect']>[0]);
    } catch (e) {
      throw new ConnectError(t.name, keyProblem || `${(e as Error).message} (ssh ${t.user}@${t.address}:${t.port})`);
    }
    this.stats.connects++;
    this.connected = true;
    this.ssh.connection?.on('close', () => {
      this.connected = false;
      this.session?.onClose();
      this.session = undefined;
    });
  }

  private async openShell(): Promise<ShellSession> {
    if (this.session && !this.session.dead) return this.session;
    await this.connect();
    const conn = this.ssh.connection!;
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
    const job = this.queue.then(() => this.runNow(script, opts));
    this.queue = job.catch(() => undefined);
    return job;
  }

  private async runNow(script: string, opts: RunOptions): Promise<RunResult> {
    const session = await this.openShell();
    this.stats.commands++;
    try {
      return await session.run(script, opts.timeoutMs ?? this.defaultTimeoutMs, opts.become);
    } catch (e) {
      if (session.dead && !this.connected) throw new ConnectError(this.name, 'connection closed');
      throw e;
    }
  }

  async put(path: string, bytes: Buffer | string, opts: PutOptions = {}): Promise<void> {
    const r = await this.run(putScript(path, bytes, opts), { become: opts.become });
    if (r.code !== 0) throw new Error(`cannot write ${path}: ${r.stderr.trim() || `exit ${r.code}`}`);
  }

  async get(path: string, opts: { become?: Become } = {}): Promise<Buffer | null> {
    const r = await this.run(getScript(path), { become: opts.become });
    if (r.code === 3) return null;
    if (r.code !== 0) throw new Error(`cannot read ${path}: ${r.stderr.trim() || `exit ${r.code}`}`);
    return Buffer.from(r.stdout, 'base64');
  }

  /** A command in its own SSH session (a new channel each time): for the rare command that needs
   *  one, and for the benchmark that compares it with the persistent shell. */
  async exec(command: string): Promise<RunResult> {
    await this.connect();
    const r = await this.ssh.execCommand(command);
    return { code: r.code ?? 0, stdout: r.stdout, stderr: r.stderr };
  }

  async close(): Promise<void> {
    this.session?.drop();
    this.session = undefined;
    this.ssh.dispose();
    this.connected = false;
  }
}

function hostKeyProblem(address: string, knownHostsFile: string, known: boolean): string {
  if (!known) {
    const todo = 'add it (ssh-keyscan) or set -o StrictHostKeyChecking=no in ansible_ssh_common_args';
    return `no host key for ${address} in ${knownHostsFile}: ${todo}`;
  }
  const todo = 'the host changed or someone is in the middle; check it, then update known_hosts';
  return `host key of ${address} does not match ${knownHostsFile}: ${todo}`;
}
