// Where and as whom to connect, from Ansible's connection variables, the command line's login, ~/.ssh/config
// (or -F in ansible_ssh_common_args) and ansible.cfg, with Ansible's precedence: -e and inventory variables
// (the caller merges -e over inventory), then remote_user, then -u/--private-key, then ~/.ssh/config.
import { homedir } from 'node:os';
import { ansibleDefault } from '../util/ansiblecfg.js';
import { defaultIdentities } from './sshlogin.js';
import { defaultSshConfigFile, expandPath, sshConfigFor, SshConfigEntry } from './sshconfig.js';

export type HostKeyChecking = 'yes' | 'accept-new' | 'no';

export interface SshTarget {
  name: string;
  address: string;
  port: number;
  user: string;
  /** Key files offered after the agent's keys, in order. */
  identityFiles: string[];
  /** SSH_AUTH_SOCK, unless IdentitiesOnly. */
  agent?: string;
  password?: string;
  /** Where accept-new writes; also read. */
  knownHostsFile: string;
  /** Other files read (the global known hosts). */
  extraKnownHostsFiles?: string[];
  strictHostKeys: HostKeyChecking;
  connectTimeoutMs: number;
  /** ServerAliveInterval (seconds; 0 sends none) and ServerAliveCountMax: a dead link is noticed after
   *  interval x (count + 1) seconds. rmqplay's default is 15 s x 3, as a lost host must not hang a run. */
  aliveIntervalMs: number;
  aliveCountMax: number;
  /** ProxyJump hops, first hop first. */
  jumps?: SshTarget[];
  /** Where a warning line goes (an accepted changed key); stderr by default. */
  warn?: (line: string) => void;
}

/** The login given on the command line, and remote_user of the play or task. */
export interface LoginOptions {
  user?: string;
  privateKey?: string;
  remoteUser?: string;
}

const GLOBAL_KNOWN_HOSTS = ['/etc/ssh/ssh_known_hosts'];

/** Reads Ansible's connection variables into an SshTarget. */
export function sshTarget(name: string, vars: Record<string, unknown>, login: LoginOptions = {}): SshTarget {
  const args = sshArgs(String(vars.ansible_ssh_common_args ?? '') + ' ' + String(vars.ansible_ssh_extra_args ?? ''));
  const sshName = String(vars.ansible_host ?? vars.ansible_ssh_host ?? name);
  const configFile = args.configFile ?? defaultSshConfigFile();
  const cfg = sshConfigFor(configFile, sshName);
  const varKey = vars.ansible_ssh_private_key_file ?? vars.ansible_private_key_file;
  const explicitKey = varKey !== undefined ? String(varKey) : login.privateKey;
  const varUser = vars.ansible_user ?? vars.ansible_ssh_user;
  const varPort = vars.ansible_port ?? vars.ansible_ssh_port;
  const password = vars.ansible_password ?? vars.ansible_ssh_pass;
  const timeout = vars.ansible_ssh_timeout ?? vars.ansible_timeout ?? args.options.connecttimeout;
  const knownHostsFiles = optionFiles(args.options.userknownhostsfile) ?? cfg.userKnownHostsFiles;
  const base: SshTarget = {
    name,
    address: cfg.hostName ?? sshName,
    port: Number(varPort ?? args.options.port ?? cfg.port ?? 22),
    user: String(varUser ?? login.remoteUser ?? login.user ?? cfg.user ?? localUser()),
    identityFiles: [],
    password: password !== undefined ? String(password) : undefined,
    knownHostsFile: knownHostsFiles?.[0] ?? `${homedir()}/.ssh/known_hosts`,
    extraKnownHostsFiles: [...(knownHostsFiles?.slice(1) ?? []), ...GLOBAL_KNOWN_HOSTS],
    strictHostKeys: hostKeyChecking(vars, args.options.stricthostkeychecking ?? cfg.strictHostKeyChecking),
    connectTimeoutMs: Number(timeout ?? cfg.connectTimeoutSeconds ?? 10) * 1000,
    aliveIntervalMs: Number(args.options.serveraliveinterval ?? cfg.serverAliveInterval ?? 15) * 1000,
    aliveCountMax: Number(args.options.serveralivecountmax ?? cfg.serverAliveCountMax ?? 3),
  };
  const identitiesOnly = /^yes$/i.test(args.options.identitiesonly ?? '') || cfg.identitiesOnly;
  const named = [...(explicitKey ? [expandPath(explicitKey)] : []), ...cfg.identityFiles];
  const target = withLogins(base, named, identitiesOnly);
  const jump = args.options.proxyjump ?? args.jump ?? cfg.proxyJump;
  if (jump && !/^none$/i.test(jump)) target.jumps = jump.split(',').map((hop) => jumpTarget(hop, configFile, target));
  return target;
}

function withLogins(t: SshTarget, named: string[], identitiesOnly: boolean): SshTarget {
  // As OpenSSH: the default identities only when no key file is named.
  const identityFiles = named.length ? named : defaultIdentities();
  const agent = identitiesOnly ? undefined : process.env.SSH_AUTH_SOCK || undefined;
  return { ...t, identityFiles, agent };
}

/** A ProxyJump hop `[user@]host[:port]` (or ssh://...), with its own ~/.ssh/config entry and the
 *  target's host key settings. */
function jumpTarget(hop: string, configFile: string, target: SshTarget): SshTarget {
  const m = /^(?:ssh:\/\/)?(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hop.trim());
  if (!m) throw new Error(`bad ProxyJump hop: ${hop}`);
  const host = m[2].replace(/^\[|\]$/g, '');
  const cfg: SshConfigEntry = sshConfigFor(configFile, host);
  const hopTarget: SshTarget = {
    ...target,
    name: `jump host ${hop.trim()}`,
    address: cfg.hostName ?? host,
    port: Number(m[3] ?? cfg.port ?? 22),
    user: m[1] ?? cfg.user ?? localUser(),
    password: undefined,
    jumps: undefined,
  };
  return withLogins(hopTarget, cfg.identityFiles, cfg.identitiesOnly);
}

interface SshArgs {
  configFile?: string;
  jump?: string;
  /** -o options, names lowercased; the first given wins, as in ssh. */
  options: Record<string, string | undefined>;
}

/** The parts of ssh's command line rmqplay understands: -F file, -J hops, -o Key=Value. */
export function sshArgs(line: string): SshArgs {
  const words = splitWords(line);
  const out: SshArgs = { options: {} };
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const flag = /^-([FJo])(.*)$/.exec(w);
    if (!flag) continue;
    const value = flag[2] || words[++i];
    if (value === undefined) break;
    if (flag[1] === 'F') out.configFile ??= expandPath(value);
    else if (flag[1] === 'J') out.jump ??= value;
    else {
      const kv = /^([^=\s]+)\s*=\s*(.*)$/.exec(value);
      if (kv) out.options[kv[1].toLowerCase()] ??= kv[2];
    }
  }
  return out;
}

/** Words as a shell splits them: quotes may start inside a word (UserKnownHostsFile="/a b/known"). */
function splitWords(line: string): string[] {
  const word = /(?:[^\s"']+|"[^"]*"|'[^']*')+/g;
  return (line.match(word) ?? []).map((w) => w.replace(/"([^"]*)"|'([^']*)'/g, '$1$2'));
}

/** -o UserKnownHostsFile=F names one file: its quotes are gone, and a path may hold spaces. */
function optionFiles(value: string | undefined): string[] | undefined {
  return value ? [expandPath(value)] : undefined;
}

/** Ansible's host_key_checking = False (ansible.cfg, ANSIBLE_HOST_KEY_CHECKING or the host's variable) is
 *  StrictHostKeyChecking=no; otherwise ssh's option, default yes (ssh's "ask" without a terminal). */
function hostKeyChecking(vars: Record<string, unknown>, option: string | undefined): HostKeyChecking {
  const ansible = vars.ansible_host_key_checking ?? vars.ansible_ssh_host_key_checking ?? ansibleHostKeyChecking();
  if (ansible !== undefined && isFalse(ansible)) return 'no';
  if (!option) return 'yes';
  if (/^accept-new$/i.test(option)) return 'accept-new';
  if (/^(no|off)$/i.test(option)) return 'no';
  return 'yes';
}

function isFalse(v: unknown): boolean {
  return v === false || /^(false|no|off|0|n|f)$/i.test(String(v));
}

/** host_key_checking from ANSIBLE_HOST_KEY_CHECKING, else the ansible.cfg Ansible would read. */
export function ansibleHostKeyChecking(): string | undefined {
  const env = process.env.ANSIBLE_HOST_KEY_CHECKING;
  if (env !== undefined && env !== '') return env;
  return ansibleDefault('host_key_checking');
}

function localUser(): string {
  return process.env.USER ?? 'root';
}
