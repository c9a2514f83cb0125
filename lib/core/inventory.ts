// Ansible-compatible inventories: INI and YAML files, folders of them, and host_vars/ and
// group_vars/ beside them. Hosts get their variables merged in Ansible's documented order.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { PlaybookError, Where } from '../util/errors.js';
import { loadYamlFile, posOf } from '../language/yaml.js';

export type Vars = Record<string, unknown>;

export interface Group {
  name: string;
  hosts: Set<string>;
  children: Set<string>;
  vars: Vars;
  fileVars: Vars;
}
export interface InventoryHost {
  name: string;
  vars: Vars;
  fileVars: Vars;
}

export class Inventory {
  hosts = new Map<string, InventoryHost>();
  groups = new Map<string, Group>();
  sources: string[] = [];
  /** Ansible's implicit localhost, when the inventory has none and a play names it: in no group, not in all. */
  implicit = new Set<string>();

  constructor() {
    this.group('all');
    this.group('ungrouped');
  }

  group(name: string): Group {
    let g = this.groups.get(name);
    if (!g) {
      g = { name, hosts: new Set(), children: new Set(), vars: {}, fileVars: {} };
      this.groups.set(name, g);
    }
    return g;
  }

  host(name: string): InventoryHost {
    let h = this.hosts.get(name);
    if (!h) {
      h = { name, vars: {}, fileVars: {} };
      this.hosts.set(name, h);
    }
    return h;
  }

  /** All hosts of a group, through its children, in definition order. */
  groupHosts(name: string, seen = new Set<string>()): string[] {
    if (name === 'all') return this.explicit();
    const g = this.groups.get(name);
    if (!g || seen.has(name)) return [];
    seen.add(name);
    const out = new Set<string>(g.hosts);
    for (const c of g.children) for (const h of this.groupHosts(c, seen)) out.add(h);
    if (name === 'ungrouped') for (const h of this.ungrouped()) out.add(h);
    return [...this.hosts.keys()].filter((h) => out.has(h));
  }

  private ungrouped(): string[] {
    const grouped = new Set<string>();
    for (const g of this.groups.values())
      if (g.name !== 'all' && g.name !== 'ungrouped') for (const h of g.hosts) grouped.add(h);
    return this.explicit().filter((h) => !grouped.has(h));
  }

  /** The inventory's own hosts: all but the implicit localhost. */
  explicit(): string[] {
    return [...this.hosts.keys()].filter((h) => !this.implicit.has(h));
  }

  /** Groups a host belongs to, directly or through children, without 'all'. */
  groupNames(host: string): string[] {
    return [...this.groups.keys()].filter((g) => g !== 'all' && this.groupHosts(g).includes(host)).sort();
  }

  /** Depth of a group below 'all' (its longest parent chain), Ansible's merge order. */
  depth(name: string, seen = new Set<string>()): number {
    if (name === 'all' || seen.has(name)) return 0;
    seen.add(name);
    let d = 1;
    for (const g of this.groups.values())
      if (g.children.has(name)) d = Math.max(d, this.depth(g.name, new Set(seen)) + 1);
    return d;
  }

  /** A host's variables, merged: group vars (all first, parents before children, then by name),
   *  group_vars/ files likewise, inline host vars, host_vars/ files. */
  hostVars(host: string): Vars {
    const h = this.hosts.get(host);
    if (!h) return {};
    const groups = ['all', ...this.groupNames(host)].sort(
      (a, b) => this.depth(a) - this.depth(b) || (a === b ? 0 : a < b ? -1 : 1),
    );
    const out: Vars = {};
    for (const g of groups) Object.assign(out, this.groups.get(g)!.vars);
    for (const g of groups) Object.assign(out, this.groups.get(g)!.fileVars);
    Object.assign(out, h.vars, h.fileVars);
    return out;
  }
}

/** `-i X`: an existing path as given, else inventory/X.yml, .yaml, .ini or the folder inventory/X/. */
export function resolveInventoryPath(arg: string, cwd = process.cwd()): string {
  if (existsSync(resolve(cwd, arg))) return resolve(cwd, arg);
  if (isHostList(arg)) return arg;
  const candidates = ['.yml', '.yaml', '.ini', '']
    .map((ext) => resolve(cwd, 'inventory', arg + ext))
    .filter((p) => existsSync(p));
  if (candidates.length === 0) {
    const looked = `${arg}, inventory/${arg}.yml, .yaml, .ini and inventory/${arg}/`;
    const todo = 'Run "rmqplay lab up" for the lab inventory, or pass a path.';
    throw new PlaybookError({ file: arg }, `no inventory named "${arg}": looked for ${looked}. ${todo}`);
  }
  if (candidates.length > 1)
    throw new PlaybookError(
      { file: arg },
      `inventory "${arg}" is ambiguous: ${candidates.join(', ')} all exist; pass one path with -i`,
    );
  return candidates[0];
}

/** Ansible's implicit localhost: a play whose pattern names localhost, which the inventory does not have, runs
 *  on this machine with the local connection. As in Ansible, that host is in no group (not in all, so no
 *  `hosts: all` and no glob reaches it) and takes the variables of the group all. */
export function addImplicitLocalhost(inv: Inventory, patterns: string[]): void {
  if (inv.hosts.has('localhost')) return;
  const named = patterns.some((p) => p.split(/[:,]/).some((term) => term.trim().replace(/^[!&]/, '') === 'localhost'));
  if (!named) return;
  inv.host('localhost').vars = { ansible_connection: 'local' };
  inv.implicit.add('localhost');
}

export function loadInventories(args: string[], cwd = process.cwd()): Inventory {
  const inv = new Inventory();
  for (const a of args) {
    const path = resolveInventoryPath(a, cwd);
    if (path === a && isHostList(a)) loadHostList(inv, a);
    else loadInventoryPath(inv, path);
  }
  checkNoCycles(inv);
  return inv;
}

/** `-i host1,host2:2222,` as Ansible's host_list: a comma in something that is not a path. */
const isHostList = (arg: string) => arg.includes(',') && !arg.includes('/');

function loadHostList(inv: Inventory, arg: string): void {
  inv.sources.push(arg);
  for (const spec of arg
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    addHosts(inv, spec, { file: `-i ${arg}` }, undefined, {});
  }
}

/** A group that contains itself through its children (Ansible: "a recursive dependency loop"). */
function checkNoCycles(inv: Inventory): void {
  const visit = (name: string, path: string[]): void => {
    if (path.includes(name)) {
      const loop = [...path.slice(path.indexOf(name)), name].join(' → ');
      const file = inv.sources.join(', ');
      throw new PlaybookError({ file }, `group "${name}" contains itself through its children: ${loop}`);
    }
    for (const c of inv.groups.get(name)?.children ?? []) visit(c, [...path, name]);
  };
  for (const g of inv.groups.keys()) visit(g, []);
}

/** One host entry (a name, a range, name:port, [v6]:port) into a group, with its variables. */
function addHosts(inv: Inventory, spec: string, where: Where, group: string | undefined, vars: Vars): string[] {
  const { name, port } = parseAddress(spec, where);
  const names = expandHostRange(name, where);
  for (const n of names) {
    const h = inv.host(n);
    if (group && group !== 'ungrouped' && group !== 'all') inv.group(group).hosts.add(n);
    if (port !== undefined) h.vars.ansible_port = port;
    Object.assign(h.vars, vars);
  }
  return names;
}

/** host, host:port, [v6 address]:port, or a bare v6 address (several colons); ranges may hold colons. */
export function parseAddress(spec: string, where: Where): { name: string; port?: number } {
  const v6 = /^\[([0-9a-f.]*:[0-9a-f.]*:[0-9a-f:.]*)\](?::(.*))?$/i.exec(spec);
  let name = spec;
  let port: string | undefined;
  if (v6) [name, port] = [v6[1], v6[2]];
  else {
    // Colons outside [...] ranges: one is a port; several are a v6 address.
    const outside = [...spec.replace(/\[[^\]]*\]/g, (r) => '_'.repeat(r.length))].flatMap((c, i) =>
      c === ':' ? [i] : [],
    );
    if (outside.length === 1) [name, port] = [spec.slice(0, outside[0]), spec.slice(outside[0] + 1)];
  }
  if (port === undefined) return { name };
  const n = Number(port);
  if (!/^\d+$/.test(port) || n < 1 || n > 65535) {
    throw new PlaybookError(where, `the port of "${spec}" must be a number from 1 to 65535, got "${port}"`);
  }
  return { name, port: n };
}

function loadInventoryPath(inv: Inventory, path: string): void {
  inv.sources.push(path);
  if (statSync(path).isDirectory()) {
    for (const f of readdirSync(path).sort()) {
      const p = join(path, f);
      if (f === 'host_vars' || f === 'group_vars' || f.startsWith('.')) continue;
      if (statSync(p).isFile() && /\.(ya?ml|ini)$|^[^.]+$/.test(f)) parseInventoryFile(inv, p);
    }
    loadVarsDirs(inv, path);
  } else {
    parseInventoryFile(inv, path);
    loadVarsDirs(inv, dirname(path));
  }
}

function parseInventoryFile(inv: Inventory, file: string): void {
  const text = readFileSync(file, 'utf8');
  const ext = extname(file);
  if (
    ext === '.yml' ||
    ext === '.yaml' ||
    ext === '.json' ||
    (ext === '' &&
      /^\s*(all|[\w-]+)\s*:\s*$/m.test(text.split('\n').find((l) => l.trim() && !l.trim().startsWith('#')) ?? ''))
  ) {
    parseYamlInventory(inv, file);
  } else parseIniInventory(inv, file, text);
}

function parseYamlInventory(inv: Inventory, file: string): void {
  const data = loadYamlFile(file);
  if (data === null) return;
  if (typeof data !== 'object' || Array.isArray(data))
    throw new PlaybookError(
      posOf(data) ?? { file, line: 1 },
      'a YAML inventory is a mapping of group names (usually "all:")',
    );
  const walk = (name: string, body: unknown, parent?: string): void => {
    const g = inv.group(name);
    if (parent && parent !== name) inv.group(parent).children.add(name);
    if (body === null || body === undefined) return;
    if (typeof body !== 'object' || Array.isArray(body))
      throw new PlaybookError(
        posOf(body) ?? { file },
        `group "${name}" must be a mapping with hosts, vars or children`,
      );
    for (const [k, v] of Object.entries(body as Vars)) {
      if (k === 'hosts') {
        if (v === null) continue;
        if (typeof v !== 'object' || Array.isArray(v))
          throw new PlaybookError(
            posOf(body, k) ?? { file },
            `"hosts" of group "${name}" must be a mapping of host names to their variables`,
          );
        for (const [hn, hv] of Object.entries(v as Vars)) {
          const hostWhere = posOf(v, hn) ?? { file };
          const vars = hv && typeof hv === 'object' ? (hv as Vars) : {};
          addHosts(inv, hn, hostWhere, name, vars);
        }
      } else if (k === 'vars') {
        if (v && typeof v === 'object') Object.assign(g.vars, v);
      } else if (k === 'children') {
        if (v === null) continue;
        for (const [cn, cb] of Object.entries(v as Vars)) walk(cn, cb, name);
      } else {
        throw new PlaybookError(
          posOf(body, k) ?? { file },
          `unknown key "${k}" in group "${name}": a group has hosts, vars and children`,
        );
      }
    }
  };
  for (const [name, body] of Object.entries(data as Vars)) walk(name, body, name === 'all' ? undefined : 'all');
}

/** Ansible's INI inventory: [group], [group:vars], [group:children], inline host vars. */
function parseIniInventory(inv: Inventory, file: string, text: string): void {
  let section = 'ungrouped';
  let kind: 'hosts' | 'vars' | 'children' = 'hosts';
  text.split(/\r?\n/).forEach((raw, idx) => {
    const line = raw.trim();
    const where = { file, line: idx + 1, column: 1 };
    if (!line || line.startsWith('#') || line.startsWith(';')) return;
    const sec = /^\[([^\]:]+)(?::(\w+))?\]$/.exec(line);
    if (!sec && line.startsWith('[') && !/^\[[^\]]*\](:\d+)?(\s|$)/.test(line)) {
      throw new PlaybookError(
        where,
        `unclosed or invalid section header "${line}": write [group], [group:vars] or [group:children]`,
      );
    }
    if (sec) {
      section = sec[1];
      kind = (sec[2] ?? 'hosts') as typeof kind;
      if (!['hosts', 'vars', 'children'].includes(kind))
        throw new PlaybookError(
          where,
          `unknown section type ":${sec[2]}": use [group], [group:vars] or [group:children]`,
        );
      inv.group(section);
      return;
    }
    if (kind === 'vars') {
      const m = /^([^=\s]+)\s*=\s*(.*)$/.exec(line);
      if (!m) throw new PlaybookError(where, `expected key=value in [${section}:vars]`);
      inv.group(section).vars[m[1]] = unquote(m[2]);
    } else if (kind === 'children') {
      inv.group(line);
      if (line !== section) inv.group(section).children.add(line);
    } else {
      const words = splitWords(line);
      const vars: Vars = {};
      for (const w of words.slice(1)) {
        const eq = w.indexOf('=');
        if (eq < 1) throw new PlaybookError(where, `expected key=value after host "${words[0]}", got "${w}"`);
        vars[w.slice(0, eq)] = literal(w.slice(eq + 1));
      }
      addHosts(inv, words[0], where, section, vars);
    }
  });
  for (const g of inv.groups.values())
    if (g.name !== 'all' && g.name !== 'ungrouped' && !isChildOfAnother(inv, g.name))
      inv.group('all').children.add(g.name);
}

function isChildOfAnother(inv: Inventory, name: string): boolean {
  for (const g of inv.groups.values()) if (g.name !== 'all' && g.children.has(name)) return true;
  return false;
}

function splitWords(line: string): string[] {
  const out: string[] = [];
  const re = /(?:[^\s"']+|"[^"]*"|'[^']*')+/g;
  let m;
  while ((m = re.exec(line))) {
    if (m[0].startsWith('#')) break;
    out.push(m[0]);
  }
  return out;
}

function unquote(v: string): string {
  const s = v.trim();
  if ((s.startsWith('"') && s.endsWith('"')) || (s.startsWith("'") && s.endsWith("'"))) return s.slice(1, -1);
  return s;
}

/** Inline host vars are Python literals in Ansible: numbers, True/False, quoted strings. */
function literal(v: string): unknown {
  if (/^-?\d+$/.test(v)) return Number(v);
  if (/^-?\d+\.\d+$/.test(v)) return Number(v);
  if (v === 'True') return true;
  if (v === 'False') return false;
  if (v === 'None') return null;
  return unquote(v);
}

/** node[1:3] → node1 node2 node3; web[01:03] keeps the leading zeros; mq[a:c] letters; web[01:10:5] a step. */
export function expandHostRange(name: string, where?: Where): string[] {
  const m = /^(.*?)\[([a-z0-9]+):([a-z0-9]+)(?::(\d+))?\](.*)$/i.exec(name);
  if (!m) return [name];
  const [, pre, a, b, stepText, post] = m;
  const step = stepText === undefined ? 1 : Number(stepText);
  const letters = /^[a-z]$/i.test(a) && /^[a-z]$/i.test(b);
  const numbers = /^\d+$/.test(a) && /^\d+$/.test(b);
  if ((!letters && !numbers) || step < 1) {
    const bad = `host range "${name}" must be [start:end] or [start:end:step] of numbers or single letters`;
    throw new PlaybookError(where ?? { file: name }, bad);
  }
  const [from, to] = letters ? [a.charCodeAt(0), b.charCodeAt(0)] : [Number(a), Number(b)];
  const out: string[] = [];
  for (let i = from; i <= to; i += step) {
    const n = letters ? String.fromCharCode(i) : a.startsWith('0') ? String(i).padStart(a.length, '0') : String(i);
    for (const rest of expandHostRange(post, where)) out.push(pre + n + rest);
  }
  return out;
}

/** group_vars/NAME(.yml|.yaml|.json|) or group_vars/NAME/ (files merged in name order). */
function loadVarsDirs(inv: Inventory, dir: string): void {
  for (const kind of ['group_vars', 'host_vars'] as const) {
    const base = join(dir, kind);
    if (!existsSync(base)) continue;
    for (const entry of readdirSync(base).sort()) {
      const p = join(base, entry);
      const name = entry.replace(/\.(ya?ml|json)$/, '');
      const files = statSync(p).isDirectory()
        ? readdirSync(p)
            .sort()
            .filter((f) => /\.(ya?ml|json)$/.test(f) || !f.includes('.'))
            .map((f) => join(p, f))
        : /\.(ya?ml|json)$/.test(entry) || !entry.includes('.')
          ? [p]
          : [];
      for (const f of files) {
        const data = loadYamlFile(f);
        if (data === null) continue;
        if (typeof data !== 'object' || Array.isArray(data))
          throw new PlaybookError(
            posOf(data) ?? { file: f, line: 1 },
            `${kind} file must be a mapping of variable names to values`,
          );
        if (kind === 'group_vars') Object.assign(inv.group(name).fileVars, data);
        else if (inv.hosts.has(name)) Object.assign(inv.hosts.get(name)!.fileVars, data);
      }
    }
  }
}
