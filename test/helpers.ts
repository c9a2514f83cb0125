// Helpers for tests: run the built CLI, read its NDJSON events, run commands on lab hosts
// with the system's own ssh (independent of rmqplay's SSH code).
import { execFileSync, spawnSync, SpawnSyncReturns } from 'node:child_process';
import { loadInventories } from '../dist/lib/core/inventory.js';
import type { RunEvents } from '../dist/lib/core/report.js';
import { decrypt, setVaultPasswords, VaultPasswords } from '../dist/lib/util/vault.js';
import { passwordFromFile } from '../dist/lib/util/vaultpass.js';
import { ansibleDefaultPath } from '../dist/lib/util/ansiblecfg.js';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const CLI = resolve('dist/lib/cli.js');

export function rmqplay(args: string[], opts: { timeoutMs?: number; cwd?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync('node', [CLI, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, RMQPLAY_STATS: '1' },
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 20 * 60_000,
    maxBuffer: 256 * 1024 * 1024,
  });
}

export interface Ev {
  event: string;
  host?: string;
  task_id?: string;
  task?: string;
  status?: string;
  item?: unknown;
  reason?: string;
  msg?: string;
  hosts?: Record<string, Record<string, number>>;
  changes?: string[];
}

export function events(out: string): Ev[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

/** (host, task_id) pairs with a status, as "host task_id" strings, sorted. */
export function pairs(evs: Ev[], statuses: string[]): string[] {
  return [
    ...new Set(
      evs.filter((e) => e.event === 'task' && statuses.includes(e.status!)).map((e) => `${e.host} ${e.task_id}`),
    ),
  ].sort();
}

export function recap(evs: Ev[]): Record<string, Record<string, number>> {
  return evs.find((e) => e.event === 'recap')?.hosts ?? {};
}

export interface LabHost {
  name: string;
  ip: string;
}
export function labHosts(): LabHost[] {
  const inv = readFileSync('inventory/lab.yml', 'utf8');
  const out: LabHost[] = [];
  for (const m of inv.matchAll(/^\s{8}(node\d+):\n\s+ansible_host: ([\d.]+)/gm)) out.push({ name: m[1], ip: m[2] });
  return out;
}

const CACHE = process.env.RMQPLAY_LAB_CACHE ?? '/var/cache/rmqplay/lab';
export function ssh(host: LabHost, script: string, timeoutMs = 120_000): SpawnSyncReturns<string> {
  return spawnSync(
    'ssh',
    [
      '-i',
      `${CACHE}/id_ed25519`,
      '-o',
      `UserKnownHostsFile=${CACHE}/known_hosts`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      'ConnectTimeout=5',
      `root@${host.ip}`,
      script,
    ],
    { encoding: 'utf8', timeout: timeoutMs },
  );
}

/** A checksum of what a dry run must not touch: path, mode, owner, size and mtime of everything
 *  under paths, and the dpkg status. Under `live` (a running broker's own database, which it
 *  writes by itself) only names, modes and owners count. */
export function fingerprint(hosts: LabHost[], paths: string[], live: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  const prune = live.map((p) => `-path ${p} -prune -o`).join(' ');
  const kinds = '\\( -type f -o -type l -o -type d \\)';
  const everything = `find ${paths.join(' ')} -xdev ${prune} ${kinds} -printf '%p %m %u %s %T@\\n' 2>/dev/null;`;
  const liveNames = live.length ? `find ${live.join(' ')} -xdev -printf '%p %m %u\\n' 2>/dev/null;` : '';
  const script = `{ ${everything} ${liveNames} } | sort | sha256sum; sha256sum < /var/lib/dpkg/status`;
  for (const h of hosts) {
    const r = ssh(h, script);
    out[h.name] = r.stdout.trim();
  }
  return out;
}

export function lab(args: string[]): SpawnSyncReturns<string> {
  return rmqplay(['lab', ...args], { timeoutMs: 15 * 60_000 });
}

/** Fresh, empty lab hosts: down, then up. */
/** Handlers an earlier test's failed or killed run left pending (.rmqplay/, core/handlerstate.ts) would run
 *  first in the next test's run: each test starts from its own hosts, not from another test's leftovers. */
export function forgetPendingHandlers(): void {
  rmSync('.rmqplay', { recursive: true, force: true });
}

export function freshLab(nodes = 3): LabHost[] {
  forgetPendingHandlers();
  const d = lab(['down']);
  if (d.status !== 0) throw new Error(`lab down failed: ${d.stderr}`);
  const u = lab(['up', '--nodes', String(nodes)]);
  if (u.status !== 0) throw new Error(`lab up failed: ${u.stderr}`);
  return labHosts();
}

export function labIsUp(n: number): boolean {
  return existsSync('inventory/lab.yml') && labHosts().length === n && lab(['status']).status === 0;
}

/** The lab's secrets: its vault file, decrypted with the password file `lab up` keeps in the lab cache. */
export function labSecrets(): Record<string, string> {
  const cache = process.env.RMQPLAY_LAB_CACHE ?? '/var/cache/rmqplay/lab';
  const passwords = new VaultPasswords();
  passwords.add(undefined, readFileSync(join(cache, 'vault-password'), 'utf8').split('\n')[0]);
  const plain = decrypt(readFileSync('inventory/group_vars/rabbitmq/vault.yml', 'utf8'), passwords).toString('utf8');
  return Object.fromEntries([...plain.matchAll(/^(\w+): (\S+)$/gm)].map((m) => [m[1], m[2]]));
}

/** The verification user's credentials from the lab's vault. */
export function verifyCreds(): { user: string; password: string } {
  return { user: 'rmqplay-verify', password: labSecrets().rabbitmq_verify_password };
}

/** A healthy cluster of at least 3 nodes: the one a previous test left, or a new 3-node one built by site.yml. */
export function ensureCluster(): LabHost[] {
  forgetPendingHandlers();
  const up = existsSync('inventory/lab.yml') && labHosts().length >= 3 && lab(['status']).status === 0;
  if (up && rmqplay(['playbooks/verify.yml', '-i', 'lab']).status === 0) return labHosts();
  const hosts = freshLab(3);
  const r = rmqplay(['playbooks/site.yml', '-i', 'lab']);
  if (r.status !== 0) throw new Error(`site.yml failed: ${r.stdout.slice(-2000)}`);
  return hosts;
}

/** Debian's ansible-inventory --list and rmqplay read the same inventory: same hosts, groups, merged variables. */
export function compareWithAnsible(t: any, inv: string): void {
  const out = JSON.parse(execFileSync('ansible-inventory', ['-i', inv, '--list'], { encoding: 'utf8' }));
  const hostsOf = (g: string, seen = new Set<string>()): string[] => {
    if (seen.has(g)) return [];
    seen.add(g);
    return [
      ...new Set([...(out[g]?.hosts ?? []), ...(out[g]?.children ?? []).flatMap((c: string) => hostsOf(c, seen))]),
    ].sort();
  };
  // As the CLI does first: the vault passwords (the lab's, named by the ansible.cfg lab up writes).
  const cfgPassword = ansibleDefaultPath('vault_password_file');
  const passwords = new VaultPasswords();
  if (cfgPassword) passwords.add(undefined, passwordFromFile(cfgPassword));
  setVaultPasswords(passwords);
  const ours = loadInventories([inv]);
  const theirVars = out._meta.hostvars as Record<string, Record<string, unknown>>;
  t.same([...ours.hosts.keys()].sort(), Object.keys(theirVars).sort(), `${inv}: same hosts`);
  for (const h of Object.keys(theirVars))
    t.same(ours.hostVars(h), theirVars[h], `${inv}: same merged variables for ${h}`);
  for (const g of Object.keys(out)) {
    if (g === '_meta' || !hostsOf(g).length) continue;
    t.same(ours.groupHosts(g).sort(), hostsOf(g), `${inv}: same members of group ${g}`);
  }
}

/** A TCP listener on 127.0.0.1 that counts the connections made to it, and an inventory file (YAML) whose
 *  hosts all point at it: tests of bad input assert that nothing connected. */
export async function connectionCounter(hosts = ['h1']): Promise<{ inv: string; stop: () => Promise<number> }> {
  let connections = 0;
  const server = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const inv = join(mkdtempSync(join(tmpdir(), 'rmqplay-inv-')), 'hosts.yml');
  const address = `{ ansible_host: 127.0.0.1, ansible_port: ${port} }`;
  writeFileSync(inv, `all:\n  hosts:\n${hosts.map((h) => `    ${h}: ${address}\n`).join('')}`);
  const stop = async () => {
    await new Promise((r) => server.close(r));
    return connections;
  };
  return { inv, stop };
}

/** Two users on a lab host that log in with the lab's key: deploy (sudo NOPASSWD) and ops (sudo with a
 *  password). Returns the ssh result of making them. */
export function sudoUsers(h: LabHost, opsPassword: string): SpawnSyncReturns<string> {
  const addUser = 'id -u $u >/dev/null 2>&1 || useradd -m -s /bin/sh $u';
  const authorize = 'mkdir -p /home/$u/.ssh; cp /root/.ssh/authorized_keys /home/$u/.ssh/; chown -R $u: /home/$u/.ssh';
  return ssh(
    h,
    `set -e
for u in deploy ops; do ${addUser}; ${authorize}; done
echo 'deploy ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/deploy
echo 'ops:${opsPassword}' | chpasswd
echo 'ops ALL=(ALL) ALL' > /etc/sudoers.d/ops`,
  );
}

/** Debian's python3 (it has the ansible-core and PyYAML the comparisons import), else the one on PATH. */
export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** Scheduler events that do nothing, but for those a test listens to. */
export function runEvents(listen: Partial<RunEvents> = {}): RunEvents {
  const none = () => {};
  const quiet = { play: none, taskStart: none, result: none, hostDone: none, rescued: none, taskEnd: none };
  return { ...quiet, message: none, handlers: none, ...listen };
}

/** What fn throws (undefined when it returns). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}
