// One connection per inventory host, connection kind and login user for the whole run, opened on first use and
// shared by every task. The login follows Ansible's precedence: -e over inventory variables (merged here), then
// remote_user (of the play or task, given to get()), then -u/--private-key; ~/.ssh/config below all of them
// (sshTarget). The connection kind likewise (Ansible's PlayContext): ansible_connection (-e, then the inventory),
// then the task's or play's connection keyword (given to get()), then -c/--connection, then ssh.
import { connectionKind, CONNECTIONS, Host } from '../connection/host.js';
import { ConnectError } from '../util/errors.js';
import { LocalHost } from '../connection/local.js';
import { LoginOptions, SshHost, sshTarget } from '../connection/ssh.js';
import { lazyVars } from '../language/template.js';

export type Connect = (name: string, vars: Record<string, unknown>, login?: LoginOptions) => Promise<Host>;

export async function defaultConnect(
  name: string,
  vars: Record<string, unknown>,
  login: LoginOptions = {},
): Promise<Host> {
  const asked = vars.ansible_connection === undefined ? 'ssh' : String(vars.ansible_connection);
  const kind = connectionKind(asked);
  if (!kind) {
    const known = Object.keys(CONNECTIONS).join(', ');
    throw new ConnectError(name, `connection ${asked}: rmqplay has the connections ${known}`);
  }
  if (kind === 'local') return new LocalHost(name);
  const h = new SshHost(sshTarget(name, vars, login));
  await h.connect();
  // Its shell opens while the other hosts connect.
  h.warm();
  return h;
}

/** What the run's command line adds to a host's connection variables. */
export interface ConnectionFlags {
  /** -u and --private-key. */
  login?: { user?: string; privateKey?: string };
  /** -c/--connection: below the connection keyword and ansible_connection. */
  connection?: string;
  /** -e: above every inventory variable; extraData (JSON) is data, never rendered. */
  extraVars?: Record<string, unknown>;
  extraData?: Record<string, unknown>;
}

export class Connections {
  private open = new Map<string, Promise<Host>>();
  /** Per host: whether ansible_user (or ansible_ssh_user) decides the login, so remote_user does not. */
  private userByVar = new Map<string, boolean>();
  /** Per host: whether ansible_connection (inventory or -e) decides the connection, so the keyword does not. */
  private connectionByVar = new Map<string, boolean>();

  constructor(
    private varsOf: (host: string) => Record<string, unknown>,
    private connect: Connect = defaultConnect,
    private flags: ConnectionFlags = {},
  ) {}

  /** The connection to a host; remoteUser and connection are the play's or task's keywords (rendered), if any. */
  get(name: string, remoteUser?: string, connection?: string): Promise<Host> {
    // ansible_user (inventory or -e) outranks remote_user: then every remote_user is the same login. Decided
    // once per host: get() runs for every task, the host's variables are merged only when needed.
    let byVar = this.userByVar.get(name);
    if (byVar === undefined) {
      const merged = this.mergedVars(name);
      byVar = ['ansible_user', 'ansible_ssh_user'].some((k) => merged[k] !== undefined);
      this.userByVar.set(name, byVar);
      this.connectionByVar.set(name, merged.ansible_connection !== undefined);
    }
    const user = byVar ? undefined : remoteUser;
    // The connection, when no variable decides it: the keyword, else -c (undefined: ssh).
    const kind = this.connectionByVar.get(name) ? undefined : (connection ?? this.flags.connection);
    const key = [name, user ?? '', kind ?? ''].join('\u0000');
    let c = this.open.get(key);
    if (!c) {
      // Only the connection variables are rendered here: others may need the play's variables.
      const vars = lazyVars(this.mergedVars(name), new Set(Object.keys(this.flags.extraData ?? {})));
      const conn: Record<string, unknown> = {};
      for (const k of Object.keys(vars)) if (k.startsWith('ansible_')) conn[k] = vars[k];
      if (kind !== undefined) conn.ansible_connection = kind;
      const login: LoginOptions = { ...this.flags.login, ...(user === undefined ? {} : { remoteUser: user }) };
      c = this.connect(name, conn, login);
      this.open.set(key, c);
      c.catch(() => this.open.delete(key));
    }
    return c;
  }

  /** A host's inventory variables under -e, as the login reads them. */
  private mergedVars(name: string): Record<string, unknown> {
    return { ...this.varsOf(name), ...this.flags.extraVars, ...(this.flags.extraData ?? {}) };
  }

  /** Closes every connection; with RMQPLAY_STATS, prints their counts on stderr first. */
  async closeAll(): Promise<void> {
    const settled = await Promise.all([...this.open.values()].map((c) => c.catch(() => undefined)));
    const hosts = settled.filter((h): h is Host => h !== undefined);
    if (process.env.RMQPLAY_STATS) process.stderr.write(statsLine(hosts));
    await Promise.all(hosts.map((h) => h.close()));
  }
}

function statsLine(hosts: Host[]): string {
  const stats = hosts.flatMap((h) => (h instanceof SshHost ? [h.stats] : []));
  const sum = (k: keyof SshHost['stats']) => stats.reduce((a, s) => a + s[k], 0);
  const counts = `connections=${sum('connects')} channels=${sum('channels')} commands=${sum('commands')}`;
  // Batches: round trips that carried several reads run ahead (lookahead.ts).
  return `rmqplay: hosts=${hosts.length} ${counts} batches=${sum('batches')}\n`;
}
