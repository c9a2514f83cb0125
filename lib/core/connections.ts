// One connection per inventory host for the whole run, opened on first use and shared by every task.
import { Host } from '../connection/host.js';
import { LocalHost } from '../connection/local.js';
import { SshHost, sshTarget } from '../connection/ssh.js';
import { lazyVars } from '../language/template.js';

export type Connect = (name: string, vars: Record<string, unknown>) => Promise<Host>;

export async function defaultConnect(name: string, vars: Record<string, unknown>): Promise<Host> {
  if (vars.ansible_connection === 'local') return new LocalHost(name);
  const h = new SshHost(sshTarget(name, vars));
  await h.connect();
  return h;
}

export class Connections {
  private open = new Map<string, Promise<Host>>();

  constructor(
    private varsOf: (host: string) => Record<string, unknown>,
    private connect: Connect = defaultConnect,
  ) {}

  get(name: string): Promise<Host> {
    let c = this.open.get(name);
    if (!c) {
      // Only the connection variables are rendered here: others may need the play's variables.
      const vars = lazyVars(this.varsOf(name), new Set());
      const conn: Record<string, unknown> = {};
      for (const k of Object.keys(vars)) if (k.startsWith('ansible_')) conn[k] = vars[k];
      c = this.connect(name, conn);
      this.open.set(name, c);
      c.catch(() => this.open.delete(name));
    }
    return c;
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
  return `rmqplay: hosts=${hosts.length} ${counts}\n`;
}
