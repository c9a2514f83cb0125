// Facts (Ansible's setup): one script, one round trip, and a pure parser of its output.
// The result carries ansible_facts, which the runner keeps as the host's facts (data, never rendered).
import { TaskType } from '../task.js';

/** The facts rmqplay gathers, by their name under ansible_facts (and as ansible_NAME). */
export const FACT_NAMES = [
  'os_family',
  'distribution',
  'distribution_release',
  'distribution_version',
  'distribution_major_version',
  'hostname',
  'fqdn',
  'nodename',
  'domain',
  'default_ipv4',
  'all_ipv4_addresses',
  'interfaces',
  'architecture',
  'machine',
  'kernel',
  'memtotal_mb',
  'processor_vcpus',
  'processor_cores',
  'processor_count',
  'service_mgr',
  'pkg_mgr',
  'user_id',
  'env',
  'date_time',
  'mounts',
  'system',
  'lsb',
];

/** Interface names as Ansible turns them into variables (ansible_eth0, ansible_ens3, ansible_lo...). */
const IFACE_VAR = /^ansible_(lo|(eth|ens|enp|eno|enx|wl|br|bond|docker|veth|virbr|vlan|tun|tap|team)[0-9a-z_]*)$/;

/** Whether a variable name is a fact: ansible_facts, ansible_NAME of a fact, or an interface. */
export function isFactName(name: string): boolean {
  if (name === 'ansible_facts') return true;
  if (!name.startsWith('ansible_')) return false;
  return FACT_NAMES.includes(name.slice('ansible_'.length)) || IFACE_VAR.test(name);
}

const MARK = '@@rmqplay-facts@@';

/** Everything in one POSIX shell script: sections start with a marker line naming them. */
export function factsScript(): string {
  const section = (name: string, cmd: string) => `echo '${MARK} ${name}'; ${cmd}`;
  return [
    'LC_ALL=C; export LC_ALL',
    section('hostname', 'hostname 2>/dev/null || uname -n'),
    section('fqdn', 'hostname -f 2>/dev/null || hostname 2>/dev/null || uname -n'),
    section('uname', 'uname -n; uname -m; uname -r; uname -s'),
    section('user', 'id -un; id -u'),
    section('os-release', 'cat /etc/os-release 2>/dev/null'),
    section('debian_version', 'cat /etc/debian_version 2>/dev/null'),
    section('meminfo', 'grep MemTotal /proc/meminfo 2>/dev/null'),
    section('cpuinfo', "grep -E '^(processor|physical id|cpu cores)' /proc/cpuinfo 2>/dev/null"),
    section('route', 'ip -4 route show default 2>/dev/null'),
    section('addr', 'ip -o -4 addr show 2>/dev/null'),
    section('link', 'ip -o link show 2>/dev/null'),
    section('init', 'cat /proc/1/comm 2>/dev/null; [ -d /run/systemd/system ] && echo systemd-running'),
    section('pkg', 'for p in apt-get dnf yum zypper apk pacman; do command -v $p >/dev/null 2>&1 && echo $p; done'),
    section('env', 'env -0 | base64 | tr -d "\\n"; echo'),
    section('date', "date '+%Y|%m|%d|%H|%M|%S|%s|%Z|%z|%A|%u|%B|%b|%a|%j|%V|%W'; date -u '+%Y-%m-%dT%H:%M:%SZ'"),
    section('mounts', 'cat /proc/mounts 2>/dev/null'),
    section('df', 'df -P -k 2>/dev/null'),
    `echo '${MARK} end'`,
  ].join('\n');
}

type Facts = Record<string, unknown>;

/** The sections of the script's output, by name. */
function sections(out: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  let cur: string[] | undefined;
  for (const line of out.split('\n')) {
    if (line.startsWith(MARK)) {
      cur = [];
      m.set(line.slice(MARK.length).trim(), cur);
    } else if (cur && line !== '') cur.push(line);
  }
  return m;
}

function keyValues(lines: string[], sep: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(sep);
    if (i > 0)
      out[l.slice(0, i).trim()] = l
        .slice(i + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
  }
  return out;
}

const FAMILIES: Record<string, string> = {
  debian: 'Debian',
  ubuntu: 'Debian',
  raspbian: 'Debian',
  linuxmint: 'Debian',
  rhel: 'RedHat',
  centos: 'RedHat',
  fedora: 'RedHat',
  rocky: 'RedHat',
  almalinux: 'RedHat',
  ol: 'RedHat',
  amzn: 'RedHat',
  sles: 'Suse',
  opensuse: 'Suse',
  'opensuse-leap': 'Suse',
  arch: 'Archlinux',
  alpine: 'Alpine',
  gentoo: 'Gentoo',
};

/** Ansible's distribution names for the common os-release IDs. */
const DISTRIBUTIONS: Record<string, string> = {
  debian: 'Debian',
  ubuntu: 'Ubuntu',
  rhel: 'RedHat',
  centos: 'CentOS',
  fedora: 'Fedora',
  rocky: 'Rocky',
  almalinux: 'AlmaLinux',
  ol: 'OracleLinux',
  amzn: 'Amazon',
  alpine: 'Alpine',
  arch: 'Archlinux',
};

function distributionFacts(osr: Record<string, string>, debianVersion: string | undefined): Facts {
  const id = (osr.ID ?? 'linux').toLowerCase();
  const like = (osr.ID_LIKE ?? '').toLowerCase().split(/\s+/);
  const family = FAMILIES[id] ?? like.map((l) => FAMILIES[l]).find(Boolean) ?? osr.NAME ?? 'Linux';
  // Debian's point release is in /etc/debian_version (12.5), os-release has only the major (12).
  const numeric = id === 'debian' && debianVersion && /^\d/.test(debianVersion) ? debianVersion : undefined;
  const version = numeric ?? osr.VERSION_ID ?? '';
  return {
    distribution: DISTRIBUTIONS[id] ?? osr.NAME ?? 'Linux',
    distribution_release: osr.VERSION_CODENAME ?? '',
    distribution_version: version,
    distribution_major_version: version.split('.')[0],
    os_family: family,
  };
}

function prefixMask(prefix: number): string {
  const bits = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (bits >>> s) & 255).join('.');
}

function ipv4Info(cidr: string, brd?: string): Record<string, string> {
  const [address, p] = cidr.split('/');
  const prefix = Number(p ?? 32);
  const mask = prefixMask(prefix).split('.').map(Number);
  const network = address
    .split('.')
    .map((o, i) => Number(o) & mask[i])
    .join('.');
  return { address, netmask: mask.join('.'), network, prefix: String(prefix), broadcast: brd ?? '' };
}

interface Iface {
  device: string;
  active: boolean;
  mtu: number;
  macaddress?: string;
  type: string;
  ipv4?: Record<string, string>;
  ipv4_secondaries?: Record<string, string>[];
}

/** `ip -o link` and `ip -o -4 addr` lines: interfaces by name, with their first address. */
function interfaces(link: string[], addr: string[]): Map<string, Iface> {
  const out = new Map<string, Iface>();
  for (const l of link) {
    const m = /^\d+:\s+([^:@\s]+)(?:@\S+)?:\s+<([^>]*)>.*?\bmtu (\d+)/.exec(l);
    if (!m) continue;
    const mac = /link\/(\w+) ([0-9a-f:]{17})/.exec(l);
    const type = mac?.[1] === 'ether' ? 'ether' : mac?.[1] === 'loopback' ? 'loopback' : (mac?.[1] ?? 'unknown');
    const iface: Iface = { device: m[1], active: m[2].split(',').includes('UP'), mtu: Number(m[3]), type };
    if (mac && mac[1] !== 'loopback') iface.macaddress = mac[2];
    out.set(m[1], iface);
  }
  for (const l of addr) {
    const m = /^\d+:\s+(\S+)\s+inet (\S+)(?: brd (\S+))?/.exec(l);
    if (!m) continue;
    const name = m[1].split('@')[0];
    const iface = out.get(name) ?? { device: name, active: true, mtu: 0, type: 'unknown' };
    const info = ipv4Info(m[2], m[3]);
    if (!iface.ipv4) iface.ipv4 = info;
    else (iface.ipv4_secondaries ??= []).push(info);
    out.set(name, iface);
  }
  return out;
}

function networkFacts(s: Map<string, string[]>): Facts {
  const ifaces = interfaces(s.get('link') ?? [], s.get('addr') ?? []);
  const route = /default via (\S+) dev (\S+)/.exec((s.get('route') ?? [])[0] ?? '');
  const facts: Facts = {};
  let default_ipv4: Record<string, unknown> = {};
  if (route) {
    const dev = ifaces.get(route[2]);
    const { ipv4, macaddress, mtu, type } = dev ?? {};
    default_ipv4 = { ...ipv4, gateway: route[1], interface: route[2], alias: route[2], macaddress, mtu, type };
  }
  facts.default_ipv4 = default_ipv4;
  const all = [...ifaces.values()].flatMap((i) => [i.ipv4, ...(i.ipv4_secondaries ?? [])]);
  facts.all_ipv4_addresses = all
    .filter((a): a is Record<string, string> => !!a && !a.address.startsWith('127.'))
    .map((a) => a.address);
  facts.interfaces = [...ifaces.keys()];
  // Ansible's variable for an interface: dashes and dots become underscores.
  for (const [name, i] of ifaces) facts[name.replace(/[-.:]/g, '_')] = i;
  return facts;
}

function cpuFacts(lines: string[]): Facts {
  const processors = lines.filter((l) => l.startsWith('processor')).length;
  const sockets = new Set(lines.filter((l) => l.startsWith('physical id')).map((l) => l.split(':')[1].trim()));
  const cores = lines.find((l) => l.startsWith('cpu cores'));
  return {
    processor_vcpus: processors,
    processor_count: sockets.size || processors,
    processor_cores: cores ? Number(cores.split(':')[1]) : 1,
  };
}

function dateFacts(lines: string[]): Record<string, string> {
  const f = (lines[0] ?? '').split('|');
  const [year, month, day, hour, minute, second, epoch, tz, tz_offset] = f;
  const [weekday, weekday_number, monthName, monthShort, weekdayShort, yearday, isoWeek, weeknumber] = f.slice(9);
  return {
    year,
    month,
    day,
    hour,
    minute,
    second,
    epoch,
    tz,
    tz_offset,
    weekday,
    weekday_number,
    monthname: monthName,
    monthname_short: monthShort,
    weekday_short: weekdayShort,
    yearday,
    iso_week: isoWeek,
    weeknumber,
    date: `${year}-${month}-${day}`,
    time: `${hour}:${minute}:${second}`,
    iso8601: lines[1] ?? '',
  };
}

/** Mounts of real devices (as Ansible lists them), with sizes from df. */
function mountFacts(mounts: string[], df: string[]): Facts[] {
  const sizes = new Map<string, { total: number; avail: number }>();
  for (const l of df.slice(1)) {
    const p = l.split(/\s+/);
    if (p.length >= 6) sizes.set(p.slice(5).join(' '), { total: Number(p[1]) * 1024, avail: Number(p[3]) * 1024 });
  }
  const unescape = (s: string) => s.replace(/\\(\d{3})/g, (_m, o) => String.fromCharCode(parseInt(o, 8)));
  const out: Facts[] = [];
  for (const l of mounts) {
    const [device, mount, fstype, options] = l.split(' ').map(unescape);
    if (!device || (!device.startsWith('/') && !device.includes(':/'))) continue;
    const size = sizes.get(mount);
    out.push({ mount, device, fstype, options, size_total: size?.total ?? 0, size_available: size?.avail ?? 0 });
  }
  return out;
}

function serviceMgr(init: string[]): string {
  if (init.includes('systemd-running') || init[0] === 'systemd') return 'systemd';
  return init[0] === 'init' ? 'sysvinit' : (init[0] ?? 'unknown');
}

function envFacts(b64: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of Buffer.from(b64 ?? '', 'base64')
    .toString('utf8')
    .split('\0')) {
    const i = entry.indexOf('=');
    if (i > 0) env[entry.slice(0, i)] = entry.slice(i + 1);
  }
  return env;
}

/** The facts in the script's output: pure, so that it is tested on fixed input. */
export function parseFacts(out: string): Facts {
  const s = sections(out);
  const one = (name: string) => (s.get(name) ?? [])[0] ?? '';
  const [nodename, machine, kernel, system] = s.get('uname') ?? [];
  const fqdn = one('fqdn') || nodename;
  const hostname = (one('hostname') || nodename || '').split('.')[0];
  const memKb = Number(/(\d+)/.exec(one('meminfo'))?.[1] ?? 0);
  const pkg = one('pkg');
  const facts: Facts = {
    ...distributionFacts(keyValues(s.get('os-release') ?? [], '='), one('debian_version') || undefined),
    hostname,
    fqdn,
    nodename: nodename ?? '',
    domain: fqdn.includes('.') ? fqdn.slice(fqdn.indexOf('.') + 1) : '',
    architecture: machine ?? '',
    machine: machine ?? '',
    kernel: kernel ?? '',
    system: system ?? '',
    memtotal_mb: Math.floor(memKb / 1024),
    ...cpuFacts(s.get('cpuinfo') ?? []),
    ...networkFacts(s),
    service_mgr: serviceMgr(s.get('init') ?? []),
    pkg_mgr: pkg === 'apt-get' ? 'apt' : pkg || 'unknown',
    user_id: one('user'),
    env: envFacts(one('env')),
    date_time: dateFacts(s.get('date') ?? []),
    mounts: mountFacts(s.get('mounts') ?? [], s.get('df') ?? []),
  };
  return facts;
}

/** The variables facts give: ansible_facts.NAME and ansible_NAME. */
export function factVars(facts: Facts): Record<string, unknown> {
  const out: Record<string, unknown> = { ansible_facts: facts };
  for (const [k, v] of Object.entries(facts)) out[`ansible_${k}`] = v;
  return out;
}

interface SetupArgs {
  gather_subset?: string | string[];
  gather_timeout?: number;
  filter?: string | string[];
}

export const setup: TaskType<SetupArgs, Facts> = {
  name: 'setup',
  schema: {
    type: 'object',
    properties: {
      gather_subset: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
      gather_timeout: { type: 'integer' },
      filter: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    },
    additionalProperties: false,
  },
  // A read: it runs in check mode too, and never changes anything.
  async check(ctx) {
    const r = await ctx.host.run(factsScript(), { become: ctx.become });
    return parseFacts(r.stdout);
  },
  plan: () => [],
  result: (_a, facts) => ({ ansible_facts: facts }),
  async apply() {},
};
