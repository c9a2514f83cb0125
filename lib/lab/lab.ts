// The lab: Debian 12 hosts booted with systemd in systemd-nspawn, each in its own network
// namespace on a private bridge, reached over real SSH (DESIGN.md section 5).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { $ } from 'zx';
import { LabError } from '../util/errors.js';
import { dumpYaml } from '../language/yaml.js';

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

  private async sh(cmd: string, what: string): Promise<string> {
    appendFileSync(this.paths.log, `\n$ ${cmd}\n`);
    const p = await $({ nothrow: true, quiet: true })`bash -c ${cmd}`;
    appendFileSync(this.paths.log, p.stdout + p.stderr);
    if (p.exitCode !== 0)
      throw new LabError(
        `lab: ${what} failed (exit ${p.exitCode}): ${p.stderr.trim().split('\n').slice(-3).join(' | ')}\n  full log: ${this.paths.log}`,
      );
    return p.stdout;
  }
  private async try(cmd: string): Promise<boolean> {
    appendFileSync(this.paths.log, `\n$ ${cmd} (may fail)\n`);
    const p = await $({ nothrow: true, quiet: true })`bash -c ${cmd}`;
    appendFileSync(this.paths.log, p.stdout + p.stderr);
    return p.exitCode === 0;
  }

  preflight(): void {
    if (process.platform !== 'linux') throw new LabError('lab: needs Linux (systemd-nspawn and network namespaces)');
    if (process.getuid?.() !== 0)
      throw new LabError(
        'lab: needs root (it mounts overlays, makes network namespaces and boots containers): run it with sudo',
      );
    const missing = Object.keys(TOOLS).filter(
      (t) => !['/usr/bin', '/usr/sbin', '/bin', '/sbin'].some((d) => existsSync(join(d, t))),
    );
    if (missing.length)
      throw new LabError(
        `lab: missing ${missing.join(', ')}. Install them with:\n  apt-get install -y ${[...new Set(missing.map((m) => TOOLS[m]))].join(' ')}`,
      );
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
    const out = await this.sh(
      `cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null || true`,
      'reading apt sources',
    );
    const m =
      /^URIs:\s*(\S+\/debian)\/?\s*$/m.exec(out) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s+\S+/m.exec(out);
    if (!m)
      throw new LabError(
        'lab: cannot find a Debian mirror in /etc/apt/sources.list*: add one (deb http://<mirror>/debian bookworm main)',
      );
    return m[1];
  }

  async ensureKey(): Promise<void> {
    if (!existsSync(this.paths.key))
      await this.sh(`ssh-keygen -q -t ed25519 -N '' -C rmqplay-lab -f ${this.paths.key}`, 'making the lab SSH key');
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
    await this.sh(`rm -rf ${part} ${repo} && mkdir -p ${repo}`, 'cleaning');
    await this.sh(
      `debootstrap --variant=minbase --include=openssh-server,systemd,systemd-sysv,dbus,iproute2,python3,sudo,ca-certificates bookworm ${part} ${mirror}`,
      'debootstrap',
    );
    this.c.log('lab: downloading rabbitmq-server and its dependencies into a local apt repository…');
    await this.sh(
      [
        `cp /etc/resolv.conf ${part}/etc/resolv.conf`,
        `echo 'deb ${mirror} bookworm main' > ${part}/etc/apt/sources.list`,
        `mount --bind ${repo} ${part}/mnt`,
        `mount -t proc proc ${part}/proc`,
        `trap 'umount ${part}/mnt; umount ${part}/proc' EXIT`,
        `chroot ${part} apt-get -q update`,
        `chroot ${part} env DEBIAN_FRONTEND=noninteractive apt-get -q -y install --download-only -o Dir::Cache::archives=/mnt ${LAB_PACKAGES.join(' ')}`,
      ].join(' && '),
      'downloading packages',
    );
    await this.sh(
      `cd ${repo} && rm -rf partial lock && dpkg-scanpackages -m . /dev/null 2>/dev/null | gzip > Packages.gz`,
      'indexing the local repository',
    );
    this.c.log('lab: finishing the base image…');
    await this.sh(
      [
        `printf '127.0.0.1\\tlocalhost\\n::1\\tlocalhost ip6-localhost ip6-loopback\\n' > ${part}/etc/hosts`,
        `echo 'deb [trusted=yes] file:/srv/repo ./' > ${part}/etc/apt/sources.list`,
        `rm -rf ${part}/var/lib/apt/lists/* ${part}/var/cache/apt/archives/*.deb ${part}/etc/ssh/ssh_host_*`,
        `mkdir -p ${part}/srv/repo ${part}/root/.ssh && chmod 700 ${part}/root/.ssh`,
        `cp ${key}.pub ${part}/root/.ssh/authorized_keys && chmod 600 ${part}/root/.ssh/authorized_keys`,
        `: > ${part}/etc/machine-id`,
        `rm -f ${part}/etc/resolv.conf`,
        `touch ${part}/.rmqplay-complete`,
        `rm -rf ${base} && mv ${part} ${base}`,
      ].join(' && '),
      'finishing the base image',
    );
  }

  private async anyHostBooted(): Promise<boolean> {
    return Object.values(this.state().hosts).some((h) => h.pid && alive(h.pid));
  }

  async checkSubnet(subnet: string): Promise<void> {
    const routes = await this.sh('ip -4 route show', 'reading routes');
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
    await this.ensureBridge(prefix);
    const wanted = Math.max(this.c.nodes, Object.keys(st.hosts).length);
    for (let k = 1; k <= wanted; k++) {
      const name = `node${k}`;
      st.hosts[name] ??= { name, ip: `${prefix}.${10 + k}` };
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
    this.c.log(
      `lab: ${Object.keys(st.hosts).length} hosts up: ${Object.values(st.hosts)
        .map((h) => `${h.name} ${h.ip}`)
        .join(', ')}\nlab: inventory written to ${this.inventoryPath}`,
    );
    return st;
  }

  private async ensureBridge(prefix: string): Promise<void> {
    await this.sh(
      `ip link show ${BRIDGE} >/dev/null 2>&1 || ip link add ${BRIDGE} type bridge; ip addr show dev ${BRIDGE} | grep -q ' ${prefix}.1/24' || ip addr add ${prefix}.1/24 dev ${BRIDGE}; ip link set ${BRIDGE} up`,
      'making the bridge',
    );
  }

  private hostDir(h: HostRec) {
    const d = join(this.paths.hosts, h.name);
    return { d, upper: join(d, 'upper'), work: join(d, 'work'), root: join(d, 'root') };
  }

  private async prepareHost(h: HostRec, prefix: string): Promise<void> {
    const { upper, work, root } = this.hostDir(h);
    const fresh = !existsSync(join(upper, 'etc', 'hostname'));
    await this.sh(
      `mkdir -p ${upper} ${work} ${root} && (mountpoint -q ${root} || mount -t overlay overlay -o lowerdir=${this.paths.base},upperdir=${upper},workdir=${work} ${root})`,
      `mounting ${h.name}'s disk`,
    );
    if (fresh) {
      await this.sh(
        [
          `echo ${h.name} > ${root}/etc/hostname`,
          `printf '127.0.1.1\\t${h.name}\\n' >> ${root}/etc/hosts`,
          `chroot ${root} ssh-keygen -A`,
        ].join(' && '),
        `preparing ${h.name}`,
      );
    }
    const veth = `veth-${h.name}`,
      peer = `vp-${h.name}`;
    await this.sh(
      [
        `ip netns add ${h.name}`,
        `ip link add ${veth} type veth peer name ${peer}`,
        `ip link set ${peer} netns ${h.name}`,
        `ip -n ${h.name} link set ${peer} name eth0`,
        `ip -n ${h.name} addr add ${h.ip}/24 dev eth0`,
        `ip -n ${h.name} link set eth0 up`,
        `ip -n ${h.name} link set lo up`,
        `ip -n ${h.name} route add default via ${prefix}.1`,
        `ip link set ${veth} master ${BRIDGE}`,
        `ip link set ${veth} up`,
      ].join(' && '),
      `making ${h.name}'s network`,
    );
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
    while (Date.now() - start < 90_000) {
      if (h.pid && !alive(h.pid))
        throw new LabError(`lab: ${h.name} stopped while booting; see ${join(this.hostDir(h).d, 'console.log')}`);
      if (await this.try(`ssh-keyscan -T 2 ${h.ip} 2>/dev/null | grep -q ssh-`)) return;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new LabError(
      `lab: ${h.name} (${h.ip}) did not answer SSH within 90 s; see ${join(this.hostDir(h).d, 'console.log')}`,
    );
  }

  private async writeKnownHosts(st: LabState): Promise<void> {
    const lines: string[] = [];
    for (const h of Object.values(st.hosts))
      lines.push((await this.sh(`ssh-keyscan -T 5 ${h.ip} 2>/dev/null`, `reading ${h.name}'s host keys`)).trim());
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
        ansible_ssh_common_args: `-o UserKnownHostsFile=${resolve(this.paths.known)}`,
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
    const vault = join(this.c.cwd, 'inventory', 'group_vars', 'rabbitmq', 'vault.yml');
    if (!existsSync(vault)) {
      mkdirSync(join(vault, '..'), { recursive: true });
      const rnd = (n: number) => randomBytes(n).toString('base64url');
      writeFileSync(
        vault,
        `# Random secrets for the lab, written by "rmqplay lab up"; git-ignored.\n${dumpYaml({
          rabbitmq_erlang_cookie: randomBytes(20).toString('hex').toUpperCase(),
          rabbitmq_admin_password: rnd(18),
          rabbitmq_verify_password: rnd(18),
        })}`,
        { mode: 0o600 },
      );
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
    // Processes of a host whose nspawn died are orphans in its namespace: end them.
    await this.try(`ip netns pids ${h.name} 2>/dev/null | xargs -r kill -9; sleep 0.2`);
    await this.try(`mountpoint -q ${root} && umount -l ${root}`);
    await this.try(`ip netns del ${h.name} 2>/dev/null; ip link del veth-${h.name} 2>/dev/null; true`);
    h.pid = undefined;
    if (wipe) rmSync(d, { recursive: true, force: true });
  }

  async down(): Promise<void> {
    this.preflight();
    const st = this.state();
    await Promise.all(Object.values(st.hosts).map((h) => this.cleanHost(h, true)));
    // Leftovers of earlier runs that the state file no longer names.
    await this.try(
      `for n in $(ip netns list | awk '/^node[0-9]+/{print $1}'); do ip netns pids $n | xargs -r kill -9; ip netns del $n; done; for v in $(ip -o link show | grep -o 'veth-node[0-9]*' | sort -u); do ip link del $v; done; true`,
    );
    await this.try(
      `for m in $(awk '$2 ~ "^${this.paths.hosts}/" {print $2}' /proc/mounts); do umount -l $m; done; true`,
    );
    await this.try(`ip link del ${BRIDGE} 2>/dev/null; true`);
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
      const ssh =
        running &&
        (await $({ nothrow: true, quiet: true })`bash -c ${`ssh-keyscan -T 2 ${h.ip} 2>/dev/null | grep -q ssh-`}`)
          .exitCode === 0;
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
    await this.sh(
      `ip netns pids ${name} | xargs -r kill -9; sleep 0.3; ip netns pids ${name} | xargs -r kill -9; true`,
      `killing ${name}`,
    );
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
    await this.try(`ip netns pids ${name} | xargs -r kill -9`);
    h.pid = this.boot(h);
    this.save(st);
    await this.waitSsh(h);
    this.c.log(`lab: ${name} started`);
  }

  async link(name: string, up: boolean): Promise<void> {
    this.preflight();
    this.host(name);
    await this.sh(`ip link set veth-${name} ${up ? 'up' : 'down'}`, `${up ? 'healing' : 'cutting'} ${name}'s link`);
  }
}

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
