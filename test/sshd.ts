// A private sshd on 127.0.0.1 for connection tests (never the lab): a temp host key, a temp authorized_keys
// per user, a free port; stop() kills it. Needs /usr/sbin/sshd (Debian package openssh-server).
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SshTarget } from '../dist/lib/connection/ssh.js';

export interface Sshd {
  port: number;
  dir: string;
  keyFile: string;
  knownHostsFile: string;
  /** The host's public keys, "type base64", one per host key type. */
  hostKeys: string[];
  /** sshd's log so far (LogLevel DEBUG1 with `debug`). */
  log(): string;
  target(user: string): SshTarget;
  stop(): void;
}

export interface SshdOptions {
  /** Host key types, in sshd's HostKey order; ed25519 by default. */
  hostKeyTypes?: string[];
  /** Which of them the written known_hosts holds; all by default. */
  knownTypes?: string[];
  /** More public keys ("type base64 comment") every user may log in with. */
  authorize?: string[];
  /** LogLevel DEBUG1: forwarding requests appear in log(). */
  debug?: boolean;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts sshd; users (root and any given) log in with one temp key. */
export async function startSshd(users: string[] = ['root'], opts: SshdOptions = {}): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-sshd-'));
  const types = opts.hostKeyTypes ?? ['ed25519'];
  const hostKeyFiles = types.map((t) => join(dir, `host_${t}`));
  types.forEach((t, i) => execFileSync('ssh-keygen', ['-q', '-t', t, '-N', '', '-f', hostKeyFiles[i]]));
  const keyFile = join(dir, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
  const pub = readFileSync(`${keyFile}.pub`, 'utf8');
  const authorized = [pub.trim(), ...(opts.authorize ?? [])].join('\n') + '\n';
  // sshd reads authorized_keys as the user logging in.
  chmodSync(dir, 0o755);
  for (const u of users) writeFileSync(join(dir, `${u}.keys`), authorized, { mode: 0o644 });
  const port = await freePort();
  const hostKeys = hostKeyFiles.map((f) => readFileSync(`${f}.pub`, 'utf8').split(' ').slice(0, 2).join(' '));
  const knownTypes = opts.knownTypes ?? types;
  const knownLines = hostKeys.filter((_, i) => knownTypes.includes(types[i])).map((k) => `[127.0.0.1]:${port} ${k}\n`);
  const knownHostsFile = join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, knownLines.join(''));
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      ...hostKeyFiles.map((f) => `HostKey ${f}`),
      `LogLevel ${opts.debug ? 'DEBUG1' : 'INFO'}`,
      'ListenAddress 127.0.0.1',
      `AuthorizedKeysFile ${dir}/%u.keys`,
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      `PidFile ${dir}/sshd.pid`,
      'MaxSessions 50',
      '',
    ].join('\n'),
  );
  execFileSync('mkdir', ['-p', '/run/sshd']);
  const child: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config, '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sshd did not start: ${log}`)), 10_000);
    child.stderr?.on('data', () => {
      if (/Server listening/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', () => reject(new Error(`sshd exited: ${log}`)));
  });
  return {
    port,
    dir,
    keyFile,
    knownHostsFile,
    hostKeys,
    log: () => log,
    target: (user: string) => ({
      name: 'sshd-local',
      address: '127.0.0.1',
      port,
      user,
      identityFiles: [keyFile],
      knownHostsFile,
      extraKnownHostsFiles: [],
      strictHostKeys: 'yes',
      connectTimeoutMs: 10_000,
    }),
    stop: () => {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A throwaway local user (useradd), removed by the returned function. */
export function throwawayUser(name: string, sudoers: string, password?: string): () => void {
  execFileSync('sh', ['-c', 'id -u "$1" >/dev/null 2>&1 || useradd -m -s /bin/sh "$1"', 'sh', name]);
  // Without a password, '*' rather than useradd's '!': sshd refuses keys for a locked account.
  if (password !== undefined) execFileSync('chpasswd', { input: `${name}:${password}\n` });
  else execFileSync('usermod', ['-p', '*', name]);
  writeFileSync(`/etc/sudoers.d/${name}`, `${sudoers}\n`, { mode: 0o440 });
  return () => {
    rmSync(`/etc/sudoers.d/${name}`, { force: true });
    execFileSync('sh', ['-c', 'userdel -r "$1" 2>/dev/null; true', 'sh', name]);
  };
}

/** Processes on this machine whose command line holds a secret. */
export function cmdlinesWith(secret: string): string[] {
  const found: string[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const c = readFileSync(`/proc/${p}/cmdline`, 'latin1');
      if (c.includes(secret)) found.push(`${p}: ${c.slice(0, 120)}`);
    } catch {
      // The process ended meanwhile.
    }
  }
  return found;
}
