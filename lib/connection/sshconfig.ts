// ~/.ssh/config (or the file given with -F) read with the ssh-config parser: the options OpenSSH applies to a
// host, first match wins, Host patterns with negation. `Match exec` is never run: a config is data here.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import SSHConfig from 'ssh-config';

export interface SshConfigEntry {
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  identitiesOnly: boolean;
  proxyJump?: string;
  userKnownHostsFiles?: string[];
  strictHostKeyChecking?: string;
  connectTimeoutSeconds?: number;
  serverAliveInterval?: number;
  serverAliveCountMax?: number;
}

const parsed = new Map<string, SSHConfig>();

function load(file: string): SSHConfig | undefined {
  if (!existsSync(file)) return undefined;
  let c = parsed.get(file);
  if (!c) {
    c = SSHConfig.parse(readFileSync(file, 'utf8'));
    parsed.set(file, c);
  }
  return c;
}

export function defaultSshConfigFile(): string {
  return `${homedir()}/.ssh/config`;
}

/** What the config says about `host` (the name ssh is given: Ansible's ansible_host or inventory name). */
export function sshConfigFor(file: string, host: string): SshConfigEntry {
  const config = load(file);
  const found = config ? config.compute(host, { ignoreCase: true, matchExec: false }) : {};
  const one = (k: string): string | undefined => {
    const v = found[k];
    return Array.isArray(v) ? v[0] : v;
  };
  const many = (k: string): string[] => {
    const v = found[k];
    return v === undefined ? [] : Array.isArray(v) ? v : [v];
  };
  const rawHostName = one('hostname');
  const hostName = rawHostName ? expandTokens(rawHostName, host, {}) : undefined;
  const real = hostName ?? host;
  const port = one('port');
  const timeout = one('connecttimeout');
  const knownHosts = one('userknownhostsfile');
  return {
    hostName,
    user: one('user'),
    port: port ? Number(port) : undefined,
    identityFiles: many('identityfile').map((f) => expandPath(expandTokens(f, real, { port, user: one('user') }))),
    identitiesOnly: /^yes$/i.test(one('identitiesonly') ?? ''),
    proxyJump: one('proxyjump'),
    userKnownHostsFiles: knownHosts?.split(/\s+/).map((f) => expandPath(expandTokens(f, real, { port }))),
    strictHostKeyChecking: one('stricthostkeychecking'),
    connectTimeoutSeconds: timeout ? Number(timeout) : undefined,
    serverAliveInterval: numberOf(one('serveraliveinterval')),
    serverAliveCountMax: numberOf(one('serveralivecountmax')),
  };
}

function numberOf(v: string | undefined): number | undefined {
  return v === undefined || !/^\d+$/.test(v) ? undefined : Number(v);
}

/** The %-tokens OpenSSH expands in these options (%h host, %p port, %r user, %d home, %u local user, %%). */
function expandTokens(value: string, host: string, more: { port?: string; user?: string }): string {
  const table: Record<string, string> = {
    '%': '%',
    h: host,
    p: more.port ?? '22',
    r: more.user ?? '',
    d: homedir(),
    u: process.env.USER ?? '',
  };
  return value.replace(/%([%hprdu])/g, (_, t: string) => table[t]);
}

export function expandPath(path: string): string {
  return path.replace(/^~(?=$|\/)/, homedir());
}
