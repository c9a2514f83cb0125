// The lab: Debian 12 hosts booted with systemd in systemd-nspawn, each in its own network
// namespace on a private bridge, reached over real SSH (DESIGN.md section 5).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { $ } from 'zx';
import { sh } from '../connection/quote.js';
import { LabError } from '../util/errors.js';
import { dumpYaml } from '../language/yaml.js';
import { decrypt, encrypt, isVaulted, VaultPasswords } from '../util/vault.js';

export interface LabConfig {
  cache: string;
  subnet: string;
  nodes: number;
  cwd: string;
  log: (s: string) => void;
}
interface HostRec {
  name: string;
  ip: string;
  pid?: number;
}
export interface HostDirs {
  d: string;
  upper: string;
  work: string;
  root: string;
}
interface LabState {
  subnet: string;
  bridge: string;
  hosts: Record<string, HostRec>;
}

const BRIDGE = 'rmqplay0';
export const LAB_PACKAGES = ['rabbitmq-server', 'python3-apt'];
const TOOLS: Record<string, string> = {
  debootstrap: 'debootstrap',
  'systemd-nspawn': 'systemd-container',
  'dpkg-scanpackages': 'dpkg-dev',
  'ssh-keyscan': 'openssh-client',
  ip: 'iproute2',
};

/** Runs one bash command line; zx passes it to bash as one quoted argument. */
function bash(cmd: string) {
  return $({ nothrow: true, quiet: true })`bash -c ${cmd}`;
}

export class Lab {
  constructor(private c: LabConfig) {}

  get paths() {
    const d = this.c.cache;
    return {
      base: join(d, 'base'),
      repo: join(d, 'repo'),
      key: join(d, 'id_ed25519'),
      known: join(d, 'known_hosts'),
      hosts: join(d, 'hosts'),
      state: join(d, 'state.json'),
      log: join(d, 'lab.log'),
    };
  }

  /** Runs a bash command built with `sh` (every value in it quoted); a failure is a LabError. */
  private async run(cmd: string, what: string): Promise<string> {
    appendFileSync(this.paths.log, `\n$ ${cmd}\n`);
    const p = await bash(cmd);
    appendFileSync(this.paths.log, p.stdout + p.stderr);
    if (p.exitCode !== 0) {
      const lastLines = p.stderr.trim().split('\n').slice(-3).join(' | ');
      const message = `lab: ${what} failed (exit ${p.exitCode}): ${lastLines}\n  full log: ${this.paths.log}`;
      throw new LabError(message);
    }
    return p.stdout;
  }

  /** Runs a bash command that may fail; says whether it succeeded. */
  private async try(cmd: string): Promise<boolean> {
    appendFileSync(this.paths.log, `\n$ ${cmd} (may fail)\n`);
    const p = await bash(cmd);
    appendFileSync(this.paths.log, p.stdout + p.stderr);
    return p.exitCode === 0;
  }

  preflight(): void {
    if (process.platform !== 'linux') throw new LabError('lab: needs Linux (systemd-nspawn and network namespaces)');
    if (process.getuid?.() !== 0) {
      const why = 'it mounts overlays, makes network namespaces and boots containers';
      throw new LabError(`lab: needs root (${why}): run it with sudo`);
    }
    const binDirs = ['/usr/bin', '/usr/sbin', '/bin', '/sbin'];
    const missing = Object.keys(TOOLS).filter((t) => !binDirs.some((d) => existsSync(join(d, t))));
    if (missing.length) {
      const packages = [...new Set(missing.map((m) => TOOLS[m]))];
      const install = sh`apt-get install -y ${packages}`;
      throw new LabError(`lab: missing ${missing.join(', ')}. Install them with:\n  ${install}`);
    }
    mkdirSync(this.c.cache, { recursive: true });
    mkdirSync(this.paths.hosts, { recursive: true });
  }

  state(): LabState {
    if (existsSync(this.paths.state)) return JSON.parse(readFileSync(this.paths.state, 'utf8'));
    return { subnet: this.c.subnet, bridge: BRIDGE, hosts: {} };
  }
  private save(s: LabState): void {
    writeFileSync(this.paths.state, JSON.stringify(s, null, 2));
  }

  /** The apt mirror this machine itself uses (never hard-coded). */
  async mirror(): Promise<string> {
    const out = await this.run(APT_SOURCES_COMMAND, 'reading apt sources');
    const deb822 = /^URIs:\s*(\S+\/debian)\/?\s*$/m.exec(out);
    const m = deb822 ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s+\S+/m.exec(out);
    if (!m) {
      const example = 'deb http://<mirror>/debian bookworm main';
      throw new LabError(`lab: cannot find a Debian mirror in /etc/apt/sources.list*: add one (${example})`);
    }
    return m[1];
  }

  async ensureKey(): Promise<void> {
    if (!existsSync(this.paths.key)) await this.run(keygenCommand(this.paths.key), 'making the lab SSH key');
  }

  async ensureBase(): Promise<void> {
    const { base, key, repo } = this.paths;
    if (existsSync(join(base, '.rmqplay-complete')) && existsSync(join(repo, 'Packages.gz'))) return;
    if (await this.anyHostBooted())
      throw new LabError(
        'lab: the base image is missing or unfinished while hosts are up: run "rmqplay lab down" first',
      );
    const mirror = await this.mirror();
    const part = base + '.partial';
    this.c.log(`lab: building the Debian 12 base image from ${mirror} (about a minute, once)…`);
    await this.run(sh`rm -rf ${part} ${repo} && mkdir -p ${repo}`, 'cleaning');
    await this.run(debootstrapCommand(part, mirror), 'debootstrap');
    this.c.log('lab: downloading rabbitmq-server and its dependencies into a local apt repository…');
    await this.run(downloadCommand(part, repo, mirror), 'downloading packages');
    await this.run(indexRepoCommand(repo), 'indexing the local repository');
    this.c.log('lab: finishing the base image…');
    await this.run(finishBaseCommand(part, base, key), 'finishing the base image');
  }

  private async anyHostBooted(): Promise<boolean> {
    return Object.values(this.state().hosts).some((h) => h.pid && alive(h.pid));
  }

  async checkSubnet(subnet: string): Promise<void> {
    const routes = await this.run('ip -4 route show', 'reading routes');
    const [net] = subnet.split('/');
    const prefix = net.split('.').slice(0, 3).join('.');
    for (const line of routes.split('\n')) {
      if (line.includes(`dev ${BRIDGE}`)) continue;
      const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)/.exec(line);
      if (m && overlaps(m[1], Number(m[2]), `${prefix}.0`, 24))
        throw new LabError(
          `lab: subnet ${subnet} clashes with a route this machine has (${line.trim()}): choose another with --subnet`,
        );
    }
  }

  async up(): Promise<LabState> {
    this.preflight();
    const st = this.state();
    if (Object.keys(st.hosts).length && st.subnet !== this.c.subnet && this.c.subnet !== DEFAULT_SUBNET)
      throw new LabError(`lab: it is already up on ${st.subnet}; run "rmqplay lab down" before changing the subnet`);
    const subnet = Object.keys(st.hosts).length ? st.subnet : this.c.subnet;
    st.subnet = subnet;
    await this.checkSubnet(subnet);
    await this.try('sysctl -qw fs.inotify.max_user_instances=8192 fs.inotify.max_user_watches=524288');
    await this.ensureKey();
    await this.ensureBase();
    const prefix = subnet.split('/')[0].split('.').slice(0, 3).join('.');
    await this.run(bridgeCommand(prefix), 'making the bridge');
    const wanted = Math.max(this.c.nodes, Object.keys(st.hosts).length);
    for (let k = 1; k <= wanted; k++) {
      const name = `node${k}`;
      st.hosts[name] ??= { name, ip: `${prefix}.${FIRST_HOST_OCTET + k}` };
    }
    const toBoot = Object.values(st.hosts).filter((h) => !(h.pid && alive(h.pid) && isOurs(h.pid, h.name)));
    if (toBoot.length) this.c.log(`lab: booting ${toBoot.map((h) => h.name).join(', ')}…`);
    for (const h of toBoot) {
      await this.cleanHost(h, false);
      await this.prepareHost(h, prefix);
      h.pid = this.boot(h);
    }
    this.save(st);
    await Promise.all(Object.values(st.hosts).map((h) => this.waitSsh(h)));
    await this.writeKnownHosts(st);
    this.writeInventory(st);
    const upHosts = Object.values(st.hosts).map((h) => `${h.name} ${h.ip}`);
    this.c.log(
      `lab: ${upHosts.length} hosts up: ${upHosts.join(', ')}\nlab: inventory written to ${this.inventoryPath}`,
    );
    return st;
  }

  private hostDir(h: HostRec): HostDirs {
    const d = join(this.paths.hosts, h.name);
    return { d, upper: join(d, 'upper'), work: join(d, 'work'), root: join(d, 'root') };
  }

  private async prepareHost(h: HostRec, prefix: string): Promise<void> {
    const dirs = this.hostDir(h);
    const fresh = !existsSync(join(dirs.upper, 'etc', 'hostname'));
    await this.run(overlayCommand(dirs, this.paths.base), `mounting ${h.name}'s disk`);
    if (fresh) await this.run(hostFilesCommand(dirs.root, h.name), `preparing ${h.name}`);
    await this.run(networkCommand(h, prefix), `making ${h.name}'s network`);
  }

  private boot(h: HostRec): number {
    const { d, root } = this.hostDir(h);
    const out = openSync(join(d, 'console.log'), 'a');
    const p = spawn(
      'systemd-nspawn',
      [
        '-D',
        root,
        '--boot',
        '--register=no',
        '--keep-unit',
        `--network-namespace-path=/run/netns/${h.name}`,
        `--machine=${h.name}`,
        `--bind-ro=${this.paths.repo}:/srv/repo`,
        '--console=passive',
        '--link-journal=no',
        '--resolv-conf=off',
        '--timezone=off',
      ],
      { detached: true, stdio: ['ignore', out, out] },
    );
    p.unref();
    return p.pid!;
  }

  private async waitSsh(h: HostRec): Promise<void> {
    const start = Date.now();
    const consoleLog = join(this.hostDir(h).d, 'console.log');
    while (Date.now() - start < 90_000) {
      if (h.pid && !alive(h.pid)) throw new LabError(`lab: ${h.name} stopped while booting; see ${consoleLog}`);
      if (await this.try(sshProbeCommand(h.ip))) return;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new LabError(`lab: ${h.name} (${h.ip}) did not answer SSH within 90 s; see ${consoleLog}`);
  }

  private async writeKnownHosts(st: LabState): Promise<void> {
    const lines: string[] = [];
    for (const h of Object.values(st.hosts)) {
      const keys = await this.run(sh`ssh-keyscan -T 5 ${h.ip} 2>/dev/null`, `reading ${h.name}'s host keys`);
      lines.push(keys.trim());
    }
    writeFileSync(this.paths.known, lines.join('\n') + '\n');
  }

  get inventoryPath(): string {
    return join(this.c.cwd, 'inventory', 'lab.yml');
  }

  private writeInventory(st: LabState): void {
    const hosts: Record<string, unknown> = {};
    for (const h of Object.values(st.hosts))
      hosts[h.name] = {
        ansible_host: h.ip,
        ansible_user: 'root',
        ansible_ssh_private_key_file: resolve(this.paths.key),
        ansible_ssh_common_args: knownHostsArgs(resolve(this.paths.known)),
      };
    const vars = {
      // Idle Erlang schedulers sleep: many nodes share this machine's two cores.
      rabbitmq_erl_scheduler_busy_wait_off: true,
      rabbitmq_users: [
        {
          name: 'admin',
          password: '{{ rabbitmq_admin_password }}',
          tags: ['administrator'],
          permissions: [{ vhost: '/' }, { vhost: 'ha' }],
        },
      ],
    };
    const inv = { all: { children: { rabbitmq: { hosts, vars } } } };
    mkdirSync(join(this.c.cwd, 'inventory'), { recursive: true });
    writeFileSync(
      this.inventoryPath,
      `# Written by "rmqplay lab up"; git-ignored. Ansible reads it too.\n${dumpYaml(inv)}`,
    );
    this.writeVault();
  }

  /** The lab's random secrets, as an ansible-vault file whose password lives in the lab cache (0600), and an
   *  ansible.cfg naming that password file, so rmqplay and Ansible both read the vault with no option. A
   *  plain vault.yml from an older lab is encrypted in place; secrets are kept across up and down. */
  private writeVault(): void {
    const vault = join(this.c.cwd, 'inventory', 'group_vars', 'rabbitmq', 'vault.yml');
    const pwFile = join(this.c.cache, 'vault-password');
    if (!existsSync(pwFile)) writeFileSync(pwFile, randomBytes(24).toString('base64url') + '\n', { mode: 0o600 });
    const password = readFileSync(pwFile, 'utf8').split('\n')[0];
    const old = existsSync(vault) ? readFileSync(vault, 'utf8') : undefined;
    if (old !== undefined && isVaulted(old)) {
      try {
        decrypt(old, passwordsOf(password));
      } catch {
        throw new LabError(`${vault} is encrypted with another password than ${pwFile}: remove it for new secrets`);
      }
    } else {
      const rnd = (n: number) => randomBytes(n).toString('base64url');
      const plain =
        old ??
        `# Random secrets for the lab, written by "rmqplay lab up"; git-ignored.\n${dumpYaml({
          rabbitmq_erlang_cookie: randomBytes(20).toString('hex').toUpperCase(),
          rabbitmq_admin_password: rnd(18),
          rabbitmq_verify_password: rnd(18),
        })}`;
      mkdirSync(join(vault, '..'), { recursive: true });
      writeFileSync(vault, encrypt(plain, password), { mode: 0o600 });
    }
    const cfg = join(this.c.cwd, 'ansible.cfg');
    const line = `vault_password_file = ${pwFile}`;
    if (!existsSync(cfg)) {
      const head =
        '# Written by "rmqplay lab up"; git-ignored. The lab vault\'s password file, for rmqplay and Ansible.';
      writeFileSync(cfg, `${head}\n[defaults]\n${line}\n`);
    } else if (!readFileSync(cfg, 'utf8').includes(line)) {
      this.c.log(`lab: ${vault} is a vault; add "${line}" to [defaults] in ${cfg}, or pass --vault-password-file`);
    }
  }

  /** Stops a host's processes and removes its mount and network; wipes its disk when asked. */
  private async cleanHost(h: HostRec, wipe: boolean): Promise<void> {
    const { d, root } = this.hostDir(h);
    if (h.pid && alive(h.pid) && isOurs(h.pid, h.name)) {
      process.kill(h.pid, 'SIGTERM');
      for (let i = 0; i < 60 && alive(h.pid); i++) await new Promise((r) => setTimeout(r, 250));
    }
    if (h.pid && alive(h.pid) && isOurs(h.pid, h.name)) process.kill(h.pid, 'SIGKILL');
    for (const cmd of cleanHostCommands(h.name, root)) await this.try(cmd);
    h.pid = undefined;
    if (wipe) rmSync(d, { recursive: true, force: true });
  }

  async down(): Promise<void> {
    this.preflight();
    const st = this.state();
    await Promise.all(Object.values(st.hosts).map((h) => this.cleanHost(h, true)));
    // Leftovers of earlier runs that the state file no longer names.
    await this.try(LEFTOVERS_COMMAND);
    const mounts = mountsUnder(readFileSync('/proc/mounts', 'utf8'), resolve(this.paths.hosts));
    await this.try(unmountAllCommand(mounts));
    await this.try(sh`ip link del ${BRIDGE} 2>/dev/null; true`);
    rmSync(this.paths.hosts, { recursive: true, force: true });
    rmSync(this.paths.state, { force: true });
    rmSync(this.paths.known, { force: true });
    rmSync(this.inventoryPath, { force: true });
    this.c.log('lab: down; every lab host, mount, namespace, veth and the bridge are gone');
  }

  async status(): Promise<{ name: string; ip: string; running: boolean; ssh: boolean }[]> {
    const st = this.state();
    const out = [];
    for (const h of Object.values(st.hosts)) {
      const running = !!h.pid && alive(h.pid) && isOurs(h.pid, h.name);
      // Not logged: status needs no root and may run before the cache folder exists.
      const ssh = running && (await bash(sshProbeCommand(h.ip))).exitCode === 0;
      out.push({ name: h.name, ip: h.ip, running, ssh });
    }
    return out;
  }

  private host(name: string): HostRec {
    const h = this.state().hosts[name];
    if (!h) throw new LabError(`lab: no host named ${name}; lab status lists them`);
    return h;
  }

  /** The host dies at once: SIGKILL every process in its namespace (its init first). */
  async kill(name: string): Promise<void> {
    this.preflight();
    const h = this.host(name);
    const killAll = killNamespaceCommand(name);
    // Twice: processes forked while the first round ran.
    const killTwice = [killAll, 'sleep 0.3', killAll, 'true'].join('; ');
    await this.run(killTwice, `killing ${name}`);
    for (let i = 0; i < 40 && h.pid && alive(h.pid); i++) await new Promise((r) => setTimeout(r, 100));
  }

  async start(name: string): Promise<void> {
    this.preflight();
    const st = this.state();
    const h = st.hosts[name];
    if (!h) throw new LabError(`lab: no host named ${name}`);
    if (h.pid && alive(h.pid) && isOurs(h.pid, name)) {
      this.c.log(`lab: ${name} is already running`);
      return;
    }
    await this.try(killNamespaceCommand(name));
    h.pid = this.boot(h);
    this.save(st);
    await this.waitSsh(h);
    this.c.log(`lab: ${name} started`);
  }

  async link(name: string, up: boolean): Promise<void> {
    this.preflight();
    this.host(name);
    const what = `${up ? 'healing' : 'cutting'} ${name}'s link`;
    await this.run(linkCommand(name, up), what);
  }
}

/** nodeK gets PREFIX.(10 + K) in the lab's /24: node1 is .11, and .254 (node244) is the last host address. */
const FIRST_HOST_OCTET = 10;
export const MAX_NODES = 254 - FIRST_HOST_OCTET;
export const DEFAULT_SUBNET = '10.213.77.0/24';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
function isOurs(pid: number, name: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`--machine=${name}\0`);
  } catch {
    return false;
  }
}
function ipNum(ip: string): number {
  return ip.split('.').reduce((a, b) => a * 256 + Number(b), 0);
}
function overlaps(a: string, alen: number, b: string, blen: number): boolean {
  const len = Math.min(alen, blen);
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return (ipNum(a) & mask) >>> 0 === (ipNum(b) & mask) >>> 0;
}

// The commands the lab runs, built with `sh` so that every path, name and address stays one word. They are pure
// and exported so that a unit test can run them against fake tools.

const APT_SOURCES_COMMAND =
  'cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null || true';

const BASE_PACKAGES = 'openssh-server,systemd,systemd-sysv,dbus,iproute2,python3,sudo,ca-certificates';

export function vethName(host: string): string {
  return `veth-${host}`;
}

export function keygenCommand(key: string): string {
  return sh`ssh-keygen -q -t ed25519 -N '' -C rmqplay-lab -f ${key}`;
}

export function debootstrapCommand(part: string, mirror: string): string {
  return sh`debootstrap --variant=minbase --include=${BASE_PACKAGES} bookworm ${part} ${mirror}`;
}

/** Downloads the lab's packages, with their dependencies, into repo, using the unfinished base image's apt. */
export function downloadCommand(part: string, repo: string, mirror: string): string {
  const source = `deb ${mirror} bookworm main`;
  // The trap's command is itself a command line: quoted once more as the trap's argument.
  const unmount = sh`umount ${part}/mnt; umount ${part}/proc`;
  const download = ['apt-get', '-q', '-y', 'install', '--download-only', '-o', 'Dir::Cache::archives=/mnt'];
  const install = [...download, ...LAB_PACKAGES];
  return [
    sh`cp /etc/resolv.conf ${part}/etc/resolv.conf`,
    sh`echo ${source} > ${part}/etc/apt/sources.list`,
    sh`mount --bind ${repo} ${part}/mnt`,
    sh`mount -t proc proc ${part}/proc`,
    sh`trap ${unmount} EXIT`,
    sh`chroot ${part} apt-get -q update`,
    sh`chroot ${part} env DEBIAN_FRONTEND=noninteractive ${install}`,
  ].join(' && ');
}

export function indexRepoCommand(repo: string): string {
  return sh`cd ${repo} && rm -rf partial lock && dpkg-scanpackages -m . /dev/null 2>/dev/null | gzip > Packages.gz`;
}

/** Turns the unfinished image part into the base: hosts, the local repository, the lab's key, no identity. */
export function finishBaseCommand(part: string, base: string, key: string): string {
  const localhost = String.raw`127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n`;
  const source = 'deb [trusted=yes] file:/srv/repo ./';
  const authorized = `${part}/root/.ssh/authorized_keys`;
  return [
    sh`printf ${localhost} > ${part}/etc/hosts`,
    sh`echo ${source} > ${part}/etc/apt/sources.list`,
    sh`rm -rf ${part}/var/lib/apt/lists/* ${part}/var/cache/apt/archives/*.deb ${part}/etc/ssh/ssh_host_*`,
    sh`mkdir -p ${part}/srv/repo ${part}/root/.ssh && chmod 700 ${part}/root/.ssh`,
    sh`cp ${key}.pub ${authorized} && chmod 600 ${authorized}`,
    sh`: > ${part}/etc/machine-id`,
    sh`rm -f ${part}/etc/resolv.conf`,
    sh`touch ${part}/.rmqplay-complete`,
    sh`rm -rf ${base} && mv ${part} ${base}`,
  ].join(' && ');
}

/** The bridge with the hosts' gateway address, made only when missing. */
export function bridgeCommand(prefix: string): string {
  const gateway = `${prefix}.1/24`;
  return [
    sh`ip link show ${BRIDGE} >/dev/null 2>&1 || ip link add ${BRIDGE} type bridge`,
    sh`ip addr show dev ${BRIDGE} | grep -q ${' ' + gateway} || ip addr add ${gateway} dev ${BRIDGE}`,
    sh`ip link set ${BRIDGE} up`,
  ].join('; ');
}

/** Mounts a host's disk: the base image under its own writable layer. */
export function overlayCommand(dirs: HostDirs, base: string): string {
  const { upper, work, root } = dirs;
  const options = `lowerdir=${base},upperdir=${upper},workdir=${work}`;
  const mount = sh`mountpoint -q ${root} || mount -t overlay overlay -o ${options} ${root}`;
  return sh`mkdir -p ${upper} ${work} ${root}` + ` && (${mount})`;
}

/** A fresh host's name, its hosts line and its own SSH host keys. */
export function hostFilesCommand(root: string, name: string): string {
  return [
    sh`echo ${name} > ${root}/etc/hostname`,
    sh`printf '127.0.1.1\\t%s\\n' ${name} >> ${root}/etc/hosts`,
    sh`chroot ${root} ssh-keygen -A`,
  ].join(' && ');
}

/** A host's network namespace, linked to the bridge by a veth pair, with its address and route. */
export function networkCommand(h: { name: string; ip: string }, prefix: string): string {
  const { name } = h;
  const veth = vethName(name);
  const peer = `vp-${name}`;
  const address = `${h.ip}/24`;
  const gateway = `${prefix}.1`;
  return [
    sh`ip netns add ${name}`,
    sh`ip link add ${veth} type veth peer name ${peer}`,
    sh`ip link set ${peer} netns ${name}`,
    sh`ip -n ${name} link set ${peer} name eth0`,
    sh`ip -n ${name} addr add ${address} dev eth0`,
    sh`ip -n ${name} link set eth0 up`,
    sh`ip -n ${name} link set lo up`,
    sh`ip -n ${name} route add default via ${gateway}`,
    sh`ip link set ${veth} master ${BRIDGE}`,
    sh`ip link set ${veth} up`,
  ].join(' && ');
}

/** Succeeds when the address answers SSH. */
export function sshProbeCommand(ip: string): string {
  return sh`ssh-keyscan -T 2 ${ip} 2>/dev/null | grep -q ssh-`;
}

/** SIGKILL every process in a host's network namespace. */
export function killNamespaceCommand(name: string): string {
  return sh`ip netns pids ${name} | xargs -r kill -9`;
}

export function linkCommand(name: string, up: boolean): string {
  const state = up ? 'up' : 'down';
  return sh`ip link set ${vethName(name)} ${state}`;
}

/** A host's leftovers, each may be gone already: orphaned processes (their nspawn died), its disk's mount, its
 *  namespace and veth. */
export function cleanHostCommands(name: string, root: string): string[] {
  return [
    sh`ip netns pids ${name} 2>/dev/null | xargs -r kill -9; sleep 0.2`,
    sh`mountpoint -q ${root} && umount -l ${root}`,
    sh`ip netns del ${name} 2>/dev/null; ip link del ${vethName(name)} 2>/dev/null; true`,
  ];
}

export function unmountAllCommand(mounts: string[]): string {
  return sh`for m in ${mounts}; do umount -l "$m"; done; true`;
}

/** Namespaces and veths of lab hosts that the state file no longer names (nothing interpolated). */
const LEFTOVERS_COMMAND = [
  "for n in $(ip netns list | awk '/^node[0-9]+/{print $1}'); do",
  'ip netns pids $n | xargs -r kill -9; ip netns del $n; done;',
  "for v in $(ip -o link show | grep -o 'veth-node[0-9]*' | sort -u); do ip link del $v; done;",
  'true',
].join(' ');

/** The mount points under dir, read from /proc/mounts (which writes space, tab, newline and \ as octal escapes). */
export function mountsUnder(procMounts: string, dir: string): string[] {
  const prefix = dir.replace(/\/+$/, '') + '/';
  const unescape = (field: string) =>
    field.replace(/\\([0-7]{3})/g, (_, octal) => String.fromCharCode(parseInt(octal, 8)));
  const points = procMounts.split('\n').map((line) => unescape(line.split(' ')[1] ?? ''));
  return points.filter((p) => p.startsWith(prefix));
}

/** The ssh options that point at the lab's known_hosts; double quotes keep a path with spaces one word for
 *  both rmqplay's and Ansible's parsers. */
export function knownHostsArgs(known: string): string {
  const file = /\s/.test(known) ? `"${known}"` : known;
  return `-o UserKnownHostsFile=${file}`;
}

function passwordsOf(password: string): VaultPasswords {
  const p = new VaultPasswords();
  p.add(undefined, password);
  return p;
}
