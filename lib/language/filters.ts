// Ansible's common filters and tests, and the Python methods on strings, lists and mappings that real
// playbooks call. Inputs and results are data: nothing here renders a string again or runs code.
import { hostsLine, nodeNameOf } from '../util/nodenames.js';
import { nodeCrypto } from '../util/crypto.js';
import { basename, dirname } from 'node:path';
import { didYouMean } from '../util/similar.js';
import { loadYaml } from './yaml.js';
import { pyYamlDump } from './pyyaml.js';
import { isMapping, ownGet, pyEquals, pyJson, pyStr, strict, truthy, tuple, Undefined } from './values.js';

const { createHash } = nodeCrypto;

type Kwargs = Record<string, unknown>;
export type Filter = (input: unknown, args: unknown[], kwargs: Kwargs, vars: Record<string, unknown>) => unknown;
export type Test = (input: unknown, args: unknown[], kwargs: Kwargs) => boolean;

/** `ansible.builtin.to_json` is `to_json`. */
export function filterName(name: string): string {
  return name.replace(/^ansible\.(builtin|netcommon|utils)\./, '');
}

const optionalNumber = (v: unknown) => (v === undefined ? undefined : Number(v));

function list(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [...v];
  if (isMapping(v)) return Object.keys(v);
  throw new Error(`expected a list, got ${pyStr(v)}`);
}

function length(v: unknown): number {
  if (Array.isArray(v) || typeof v === 'string') return v.length;
  if (isMapping(v)) return Object.keys(v).length;
  throw new Error(`${pyStr(v)} has no length`);
}

/** Ansible's bool filter: yes/on/1/true (any case) are true. */
export function toBool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v === 1;
  return /^(yes|on|1|true|y|t)$/i.test(String(v ?? '').trim());
}

function toInt(v: unknown, args: unknown[]): number {
  const fallback = Number(args[0] ?? 0);
  const base = Number(args[1] ?? 10);
  const n = typeof v === 'number' ? Math.trunc(v) : parseInt(String(v).trim(), base);
  return Number.isNaN(n) ? fallback : n;
}

/** Python regular expressions in JavaScript: named groups and \A \Z. */
function pyRegex(pattern: unknown, flags = ''): RegExp {
  const source = String(pattern)
    .replace(/\(\?P<(\w+)>/g, '(?<$1>')
    .replace(/\(\?P=(\w+)\)/g, '\\k<$1>')
    .replace(/\\A/g, '^')
    .replace(/\\Z/g, '$');
  return new RegExp(source, flags);
}

function reFlags(kwargs: Kwargs, global: boolean): string {
  const ignore = truthy(kwargs.ignorecase) ? 'i' : '';
  const multi = truthy(kwargs.multiline) ? 'm' : '';
  return `${global ? 'g' : ''}${ignore}${multi}`;
}

/** Python's replacement syntax (\1, \g<name>) in JavaScript's ($1, $<name>). */
function pyReplacement(r: unknown): string {
  return String(r ?? '')
    .replace(/\$/g, '$$$$')
    .replace(/\\g<(\w+)>/g, (_m, g: string) => (/^\d+$/.test(g) ? `$${g}` : `$<${g}>`))
    .replace(/\\(\d+)/g, '$$$1');
}

function regexSearch(v: unknown, args: unknown[], kwargs: Kwargs): unknown {
  const m = pyRegex(args[0], reFlags(kwargs, false)).exec(String(v));
  if (!m) return null;
  const groups = args.slice(1).map(String);
  if (groups.length === 0) return m[0];
  return groups.map((g) => {
    const ref = /^\\(\d+)$/.exec(g)?.[1];
    const named = /^\\g<(\w+)>$/.exec(g)?.[1];
    return ref !== undefined ? m[Number(ref)] : named !== undefined ? m.groups?.[named] : undefined;
  });
}

/** Loose version compare (1.10 > 1.9; 3.10.8-1 parts by number where both are numbers). */
export function compareVersions(a: unknown, b: unknown): number {
  const pa = String(a).split(/[.\-+~]/);
  const pb = String(b).split(/[.\-+~]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const numeric = /^\d+$/.test(x) && /^\d+$/.test(y);
    const d = numeric ? Number(x) - Number(y) : x < y ? -1 : x > y ? 1 : 0;
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

const VERSION_OPS: Record<string, (d: number) => boolean> = {
  '<': (d) => d < 0,
  lt: (d) => d < 0,
  '<=': (d) => d <= 0,
  le: (d) => d <= 0,
  '>': (d) => d > 0,
  gt: (d) => d > 0,
  '>=': (d) => d >= 0,
  ge: (d) => d >= 0,
  '==': (d) => d === 0,
  '=': (d) => d === 0,
  eq: (d) => d === 0,
  '!=': (d) => d !== 0,
  '<>': (d) => d !== 0,
  ne: (d) => d !== 0,
};

function version(v: unknown, args: unknown[], kwargs: Kwargs): boolean {
  const op = String(args[1] ?? kwargs.operator ?? '==');
  const check = VERSION_OPS[op];
  if (!check) throw new Error(`unknown version operator "${op}"${didYouMean(op, Object.keys(VERSION_OPS))}`);
  return check(compareVersions(v, args[0] ?? kwargs.version));
}

function unique(items: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const x of items) if (!out.some((y) => pyEquals(x, y))) out.push(x);
  return out;
}

function sortKey(v: unknown, attribute: unknown): unknown {
  return attribute === undefined ? v : attribute_(v, attribute);
}

/** item.attr (dotted paths too), or Undefined. */
function attribute_(item: unknown, attribute: unknown): unknown {
  return String(attribute)
    .split('.')
    .reduce((o, k) => ownGet(o, k), item);
}

function sorted(v: unknown, args: unknown[], kwargs: Kwargs): unknown[] {
  const reverse = truthy(args[0] ?? kwargs.reverse);
  const attribute = args[2] ?? kwargs.attribute;
  const key = (x: unknown) => strict(sortKey(x, attribute)) as string | number;
  const out = [...list(v)].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return reverse ? out.reverse() : out;
}

function combine(v: unknown, args: unknown[], kwargs: Kwargs): unknown {
  const recursive = truthy(kwargs.recursive);
  const merge = (a: unknown, b: unknown): unknown => {
    if (!isMapping(a) || !isMapping(b)) return b;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(a)) Object.defineProperty(out, k, { value: a[k], enumerable: true, writable: true });
    for (const k of Object.keys(b)) {
      const value = recursive && Object.prototype.hasOwnProperty.call(a, k) ? merge(a[k], b[k]) : b[k];
      Object.defineProperty(out, k, { value, enumerable: true, writable: true });
    }
    return out;
  };
  return args.flat().reduce(merge, v);
}

function flatten(v: unknown, levels?: number): unknown[] {
  const out: unknown[] = [];
  for (const x of list(v)) {
    const deeper = Array.isArray(x) && (levels === undefined || levels > 0);
    if (deeper) out.push(...flatten(x, levels === undefined ? undefined : levels - 1));
    else if (x !== null) out.push(x);
  }
  return out;
}

function dict2items(v: unknown, kwargs: Kwargs): unknown[] {
  if (!isMapping(v)) throw new Error(`dict2items expects a mapping, got ${pyStr(v)}`);
  const keyName = String(kwargs.key_name ?? 'key');
  const valueName = String(kwargs.value_name ?? 'value');
  return Object.keys(v).map((k) => ({ [keyName]: k, [valueName]: v[k] }));
}

function items2dict(v: unknown, kwargs: Kwargs): Record<string, unknown> {
  const keyName = String(kwargs.key_name ?? 'key');
  const valueName = String(kwargs.value_name ?? 'value');
  const out: Record<string, unknown> = {};
  for (const item of list(v)) {
    const key = pyStr(strict(ownGet(item, keyName)));
    Object.defineProperty(out, key, { value: strict(ownGet(item, valueName)), enumerable: true, writable: true });
  }
  return out;
}

/** select/reject: items for which a test (or truth) holds. */
function selectBy(v: unknown, args: unknown[], keep: boolean, attribute?: unknown): unknown[] {
  const [testName, ...testArgs] = args;
  return list(v).filter((item) => {
    const value = attribute === undefined ? item : attribute_(item, attribute);
    const passed = testName === undefined ? truthy(strict(value)) : runTest(String(testName), value, testArgs);
    return passed === keep;
  });
}

function runTest(name: string, value: unknown, args: unknown[]): boolean {
  const test = Object.prototype.hasOwnProperty.call(TESTS, name) ? TESTS[name] : undefined;
  if (!test) throw new Error(`unknown test "${name}"${didYouMean(name, Object.keys(TESTS))}`);
  return test(LENIENT_TESTS.has(name) ? value : strict(value), args, {});
}

function mapItems(v: unknown, args: unknown[], kwargs: Kwargs, vars: Record<string, unknown>): unknown[] {
  if (kwargs.attribute !== undefined) {
    return list(v).map((item) => {
      const value = attribute_(item, kwargs.attribute);
      return value instanceof Undefined && 'default' in kwargs ? kwargs.default : strict(value);
    });
  }
  const [name, ...rest] = args;
  const filter = Object.prototype.hasOwnProperty.call(FILTERS, String(name)) ? FILTERS[String(name)] : undefined;
  if (!filter) throw new Error(`unknown filter "${String(name)}"${didYouMean(String(name), Object.keys(FILTERS))}`);
  return list(v).map((item) => filter(item, rest, {}, vars));
}

function hashOf(v: unknown, algorithm: unknown): string {
  return createHash(String(algorithm ?? 'sha1'))
    .update(pyStr(v))
    .digest('hex');
}

function comment(v: unknown, args: unknown[], kwargs: Kwargs): string {
  const style = String(args[0] ?? kwargs.style ?? 'plain');
  const marks: Record<string, [string, string, string]> = {
    plain: ['#', '# ', '#'],
    c: ['//', '// ', '//'],
    cblock: ['/*', ' * ', ' */'],
    erlang: ['%', '% ', '%'],
    xml: ['<!--', ' - ', '-->'],
  };
  const [first, middle, last] = marks[style] ?? marks.plain;
  const body = pyStr(v)
    .split('\n')
    .map((line) => `${middle}${line}`.trimEnd());
  return [first, ...body, last].join('\n');
}

function extreme(v: unknown, kwargs: Kwargs, sign: number): unknown {
  const items = list(v);
  const key = (x: unknown) => strict(sortKey(x, kwargs.attribute)) as number;
  if (items.length === 0) return new Undefined('min/max of an empty list');
  return items.reduce((best, x) =>
    Math.sign(key(x) > key(best) ? 1 : key(x) < key(best) ? -1 : 0) === sign ? x : best,
  );
}

const hostVarsArg = (v: unknown) =>
  (v && typeof v === 'object' && !(v instanceof Undefined) ? v : {}) as Record<string, unknown>;

/** The filters, by Ansible's names. */
export const FILTERS: Record<string, Filter> = Object.assign(Object.create(null), {
  // rmqplay's own: a RabbitMQ node's /etc/hosts line and node name (util/nodenames.ts), from its inventory name and
  // its hostvars: {{ host | rabbitmq_hosts_line(hostvars[host]) }}.
  rabbitmq_hosts_line: (v: unknown, args: unknown[]) => hostsLine(pyStr(v), hostVarsArg(args[0])),
  rabbitmq_node: (v: unknown, args: unknown[]) => nodeNameOf(pyStr(v), hostVarsArg(args[0])),
  default: (v: unknown, args: unknown[]) =>
    v instanceof Undefined || (truthy(args[1]) && !truthy(v)) ? (args[0] ?? '') : v,
  mandatory: (v: unknown, args: unknown[]) => {
    if (v instanceof Undefined) throw new Error(args[0] !== undefined ? String(args[0]) : `mandatory: ${v.hint}`);
    return v;
  },
  bool: (v: unknown) => toBool(v),
  int: (v: unknown, args: unknown[]) => toInt(v, args),
  float: (v: unknown, args: unknown[]) => {
    const n = parseFloat(String(v));
    return Number.isNaN(n) ? Number(args[0] ?? 0) : n;
  },
  string: (v: unknown) => pyStr(v),
  length: (v: unknown) => length(v),
  count: (v: unknown) => length(v),
  lower: (v: unknown) => pyStr(v).toLowerCase(),
  upper: (v: unknown) => pyStr(v).toUpperCase(),
  capitalize: (v: unknown) => pyStr(v).charAt(0).toUpperCase() + pyStr(v).slice(1).toLowerCase(),
  title: (v: unknown) => pyStr(v).replace(/\w\S*/g, (w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()),
  trim: (v: unknown) => pyStr(v).trim(),
  replace: (v: unknown, args: unknown[]) =>
    pyStr(v)
      .split(pyStr(args[0]))
      .join(pyStr(args[1] ?? '')),
  regex_replace: (v: unknown, args: unknown[], kwargs: Kwargs) =>
    pyStr(v).replace(pyRegex(args[0], reFlags(kwargs, true)), pyReplacement(args[1])),
  regex_search: regexSearch,
  regex_findall: (v: unknown, args: unknown[], kwargs: Kwargs) =>
    [...pyStr(v).matchAll(pyRegex(args[0], reFlags(kwargs, true)))].map((m) =>
      m.length > 2 ? m.slice(1) : m[m.length - 1],
    ),
  regex_escape: (v: unknown) => pyStr(v).replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'),
  join: (v: unknown, args: unknown[]) =>
    list(v)
      .map(pyStr)
      .join(pyStr(args[0] ?? '')),
  split: (v: unknown, args: unknown[]) => splitPy(pyStr(v), args[0], args[1]),
  first: (v: unknown) => list(v)[0] ?? new Undefined('first of an empty list'),
  last: (v: unknown) => list(v).at(-1) ?? new Undefined('last of an empty list'),
  unique: (v: unknown) => unique(list(v)),
  sort: sorted,
  reverse: (v: unknown) => (typeof v === 'string' ? [...v].reverse().join('') : [...list(v)].reverse()),
  union: (v: unknown, args: unknown[]) => unique([...list(v), ...list(args[0])]),
  intersect: (v: unknown, args: unknown[]) => unique(list(v).filter((x) => list(args[0]).some((y) => pyEquals(x, y)))),
  difference: (v: unknown, args: unknown[]) =>
    unique(list(v).filter((x) => !list(args[0]).some((y) => pyEquals(x, y)))),
  symmetric_difference: (v: unknown, args: unknown[]) => {
    const a = list(v);
    const b = list(args[0]);
    return unique([
      ...a.filter((x) => !b.some((y) => pyEquals(x, y))),
      ...b.filter((x) => !a.some((y) => pyEquals(x, y))),
    ]);
  },
  min: (v: unknown, _a: unknown[], kwargs: Kwargs) => extreme(v, kwargs, -1),
  max: (v: unknown, _a: unknown[], kwargs: Kwargs) => extreme(v, kwargs, 1),
  sum: (v: unknown, args: unknown[], kwargs: Kwargs) =>
    list(v).reduce<number>(
      (s, x) => s + Number(strict(sortKey(x, kwargs.attribute))),
      Number(args[0] ?? kwargs.start ?? 0),
    ),
  abs: (v: unknown) => Math.abs(Number(v)),
  round: (v: unknown, args: unknown[]) => {
    const p = 10 ** Number(args[0] ?? 0);
    return Math.round(Number(v) * p) / p;
  },
  map: mapItems,
  select: (v: unknown, args: unknown[]) => selectBy(v, args, true),
  reject: (v: unknown, args: unknown[]) => selectBy(v, args, false),
  selectattr: (v: unknown, args: unknown[]) => selectBy(v, args.slice(1), true, args[0]),
  rejectattr: (v: unknown, args: unknown[]) => selectBy(v, args.slice(1), false, args[0]),
  list: (v: unknown) => [...list(v)],
  dict2items: (v: unknown, _a: unknown[], kwargs: Kwargs) => dict2items(v, kwargs),
  items2dict: (v: unknown, _a: unknown[], kwargs: Kwargs) => items2dict(v, kwargs),
  combine,
  to_json: (v: unknown, _a: unknown[], kwargs: Kwargs) =>
    pyJson(v, kwargs.indent === undefined ? undefined : Number(kwargs.indent), truthy(kwargs.sort_keys)),
  to_nice_json: (v: unknown, _a: unknown[], kwargs: Kwargs) => pyJson(v, Number(kwargs.indent ?? 4), true),
  from_json: (v: unknown) => JSON.parse(pyStr(v)),
  to_yaml: (v: unknown, _a: unknown[], kwargs: Kwargs) =>
    pyYamlDump(v, { flowLeaves: kwargs.default_flow_style !== false, indent: optionalNumber(kwargs.indent) }),
  to_nice_yaml: (v: unknown, args: unknown[], kwargs: Kwargs) =>
    pyYamlDump(v, { flowLeaves: false, indent: optionalNumber(args[0] ?? kwargs.indent) ?? 4 }),
  from_yaml: (v: unknown) => loadYaml(pyStr(v), '(from_yaml)'),
  b64encode: (v: unknown) => Buffer.from(pyStr(v), 'utf8').toString('base64'),
  b64decode: (v: unknown) => Buffer.from(pyStr(v), 'base64').toString('utf8'),
  basename: (v: unknown) => basename(pyStr(v)),
  dirname: (v: unknown) => dirname(pyStr(v)),
  quote: (v: unknown) => shellQuote(pyStr(v)),
  ternary: (v: unknown, args: unknown[]) => (v === null && args.length > 2 ? args[2] : truthy(v) ? args[0] : args[1]),
  version: version,
  version_compare: version,
  hash: (v: unknown, args: unknown[]) => hashOf(v, args[0]),
  checksum: (v: unknown) => hashOf(v, 'sha1'),
  md5: (v: unknown) => hashOf(v, 'md5'),
  sha1: (v: unknown) => hashOf(v, 'sha1'),
  comment,
  zip: (v: unknown, args: unknown[]) => {
    const lists = [list(v), ...args.map(list)];
    const n = Math.min(...lists.map((l) => l.length));
    return Array.from({ length: n }, (_x, i) => tuple(lists.map((l) => l[i])));
  },
  flatten: (v: unknown, args: unknown[], kwargs: Kwargs) => {
    const levels = args[0] ?? kwargs.levels;
    return flatten(v, levels === undefined ? undefined : Number(levels));
  },
  type_debug: (v: unknown) => typeName(v),
  dict: (v: unknown) => Object.fromEntries(list(v).map((p) => list(p).slice(0, 2) as [string, unknown])),
  wordcount: (v: unknown) => pyStr(v).split(/\s+/).filter(Boolean).length,
  indent: (v: unknown, args: unknown[]) => {
    const pad = ' '.repeat(Number(args[0] ?? 4));
    return pyStr(v).replace(/\n(?=.)/g, `\n${pad}`);
  },
  center: (v: unknown) => pyStr(v),
  safe: (v: unknown) => v,
  e: (v: unknown) => v,
  escape: (v: unknown) => v,
});
FILTERS.d = FILTERS.default;

/** Filters and tests that accept an undefined input. */
export const LENIENT_FILTERS = new Set(['default', 'd', 'mandatory']);
export const LENIENT_TESTS = new Set(['defined', 'undefined']);

function typeName(v: unknown): string {
  if (v === null) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  return Array.isArray(v) ? 'list' : 'dict';
}

/** A registered result's flag (a loop's results count when any of them has it). */
function resultFlag(v: unknown, flag: string): boolean {
  if (!isMapping(v)) throw new Error(`expected a registered result, got ${pyStr(v)}`);
  const own = Object.prototype.hasOwnProperty.call(v, flag) ? v[flag] : undefined;
  if (truthy(own)) return true;
  const results = v.results;
  return Array.isArray(results) && results.some((r) => isMapping(r) && truthy(r[flag]));
}

function regexTest(v: unknown, args: unknown[], kwargs: Kwargs, anchored: boolean): boolean {
  const flags = reFlags(kwargs, false);
  const pattern = anchored ? `^(?:${String(args[0])})` : String(args[0]);
  return pyRegex(pattern, flags).test(pyStr(v));
}

/** The tests, by Ansible's names. */
export const TESTS: Record<string, Test> = Object.assign(Object.create(null), {
  defined: (v: unknown) => !(v instanceof Undefined),
  undefined: (v: unknown) => v instanceof Undefined,
  none: (v: unknown) => v === null,
  string: (v: unknown) => typeof v === 'string',
  number: (v: unknown) => typeof v === 'number',
  integer: (v: unknown) => Number.isInteger(v),
  float: (v: unknown) => typeof v === 'number' && !Number.isInteger(v),
  boolean: (v: unknown) => typeof v === 'boolean',
  mapping: (v: unknown) => isMapping(v),
  sequence: (v: unknown) => Array.isArray(v) || typeof v === 'string',
  iterable: (v: unknown) => Array.isArray(v) || typeof v === 'string' || isMapping(v),
  in: (v: unknown, args: unknown[]) => {
    const container = args[0];
    if (Array.isArray(container)) return container.some((x) => pyEquals(x, v));
    if (typeof container === 'string') return container.includes(pyStr(v));
    return isMapping(container) && Object.prototype.hasOwnProperty.call(container, pyStr(v));
  },
  contains: (v: unknown, args: unknown[]) => list(v).some((x) => pyEquals(x, args[0])),
  match: (v: unknown, args: unknown[], kwargs: Kwargs) => regexTest(v, args, kwargs, true),
  search: (v: unknown, args: unknown[], kwargs: Kwargs) => regexTest(v, args, kwargs, false),
  regex: (v: unknown, args: unknown[], kwargs: Kwargs) =>
    regexTest(v, args, kwargs, String(kwargs.match_type ?? 'search') === 'match'),
  version: version,
  version_compare: version,
  succeeded: (v: unknown) => !resultFlag(v, 'failed'),
  success: (v: unknown) => !resultFlag(v, 'failed'),
  successful: (v: unknown) => !resultFlag(v, 'failed'),
  failed: (v: unknown) => resultFlag(v, 'failed'),
  failure: (v: unknown) => resultFlag(v, 'failed'),
  changed: (v: unknown) => resultFlag(v, 'changed'),
  change: (v: unknown) => resultFlag(v, 'changed'),
  skipped: (v: unknown) => resultFlag(v, 'skipped'),
  skip: (v: unknown) => resultFlag(v, 'skipped'),
  equalto: (v: unknown, args: unknown[]) => pyEquals(v, args[0]),
  eq: (v: unknown, args: unknown[]) => pyEquals(v, args[0]),
  sameas: (v: unknown, args: unknown[]) => v === args[0],
  ne: (v: unknown, args: unknown[]) => !pyEquals(v, args[0]),
  lt: (v: unknown, args: unknown[]) => Number(v) < Number(args[0]),
  gt: (v: unknown, args: unknown[]) => Number(v) > Number(args[0]),
  le: (v: unknown, args: unknown[]) => Number(v) <= Number(args[0]),
  ge: (v: unknown, args: unknown[]) => Number(v) >= Number(args[0]),
  even: (v: unknown) => Number(v) % 2 === 0,
  odd: (v: unknown) => Math.abs(Number(v) % 2) === 1,
  divisibleby: (v: unknown, args: unknown[]) => Number(v) % Number(args[0]) === 0,
  lower: (v: unknown) => typeof v === 'string' && v === v.toLowerCase(),
  upper: (v: unknown) => typeof v === 'string' && v === v.toUpperCase(),
  truthy: (v: unknown) => truthy(v),
  falsy: (v: unknown) => !truthy(v),
  subset: (v: unknown, args: unknown[]) => list(v).every((x) => list(args[0]).some((y) => pyEquals(x, y))),
  superset: (v: unknown, args: unknown[]) => list(args[0]).every((x) => list(v).some((y) => pyEquals(x, y))),
  abs: (v: unknown) => typeof v === 'string' && v.startsWith('/'),
  true: (v: unknown) => v === true,
  false: (v: unknown) => v === false,
});

/** Python's shlex.quote, which Ansible's quote filter is: safe words stay bare. */
function shellQuote(s: string): string {
  if (s === '') return "''";
  if (/^[\w@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

/** Python's str.split: on runs of whitespace without a separator, at most `max` splits. */
function splitPy(s: string, sep: unknown, max: unknown): string[] {
  const limit = max === undefined || max === null ? -1 : Number(max);
  const byWhitespace = sep === undefined || sep === null;
  const parts = byWhitespace ? s.trim().split(/\s+/).filter(Boolean) : s.split(String(sep));
  if (limit < 0 || parts.length <= limit + 1) return parts;
  const joiner = byWhitespace ? ' ' : String(sep);
  return [...parts.slice(0, limit), parts.slice(limit).join(joiner)];
}

function stripChars(s: string, chars: unknown, left: boolean, right: boolean): string {
  if (chars === undefined || chars === null) return left && right ? s.trim() : left ? s.trimStart() : s.trimEnd();
  const set = String(chars);
  let start = 0;
  let end = s.length;
  while (left && start < end && set.includes(s[start])) start++;
  while (right && end > start && set.includes(s[end - 1])) end--;
  return s.slice(start, end);
}

type Method = (self: never, args: unknown[]) => unknown;

const STRING_METHODS: Record<string, (s: string, args: unknown[]) => unknown> = {
  split: (s, a) => splitPy(s, a[0], a[1]),
  rsplit: (s, a) => splitPy(s, a[0], undefined),
  splitlines: (s) => s.split(/\r?\n/).filter((_l, i, all) => i < all.length - 1 || all[i] !== ''),
  find: (s, a) => s.indexOf(pyStr(a[0])),
  rfind: (s, a) => s.lastIndexOf(pyStr(a[0])),
  index: (s, a) => {
    const i = s.indexOf(pyStr(a[0]));
    if (i < 0) throw new Error(`substring "${pyStr(a[0])}" not found`);
    return i;
  },
  count: (s, a) => s.split(pyStr(a[0])).length - 1,
  startswith: (s, a) => [a[0]].flat().some((p) => s.startsWith(pyStr(p))),
  endswith: (s, a) => [a[0]].flat().some((p) => s.endsWith(pyStr(p))),
  strip: (s, a) => stripChars(s, a[0], true, true),
  lstrip: (s, a) => stripChars(s, a[0], true, false),
  rstrip: (s, a) => stripChars(s, a[0], false, true),
  lower: (s) => s.toLowerCase(),
  upper: (s) => s.toUpperCase(),
  capitalize: (s) => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase(),
  title: (s) => FILTERS.title(s, [], {}, {}),
  replace: (s, a) => s.split(pyStr(a[0])).join(pyStr(a[1] ?? '')),
  join: (s, a) => list(a[0]).map(pyStr).join(s),
  format: (s, a) => {
    let i = 0;
    return s.replace(/\{(\d*)\}/g, (_m, n: string) => pyStr(a[n === '' ? i++ : Number(n)]));
  },
  isdigit: (s) => /^\d+$/.test(s),
  isalpha: (s) => /^[A-Za-z]+$/.test(s),
  isalnum: (s) => /^[A-Za-z0-9]+$/.test(s),
  isspace: (s) => /^\s+$/.test(s),
  islower: (s) => s === s.toLowerCase() && s !== s.toUpperCase(),
  isupper: (s) => s === s.toUpperCase() && s !== s.toLowerCase(),
  zfill: (s, a) => s.padStart(Number(a[0]), '0'),
};

const LIST_METHODS: Record<string, (l: unknown[], args: unknown[]) => unknown> = {
  index: (l, a) => {
    const i = l.findIndex((x) => pyEquals(x, a[0]));
    if (i < 0) throw new Error(`${pyStr(a[0])} is not in the list`);
    return i;
  },
  count: (l, a) => l.filter((x) => pyEquals(x, a[0])).length,
  copy: (l) => [...l],
};

const DICT_METHODS: Record<string, (d: Record<string, unknown>, args: unknown[]) => unknown> = {
  keys: (d) => Object.keys(d),
  values: (d) => Object.keys(d).map((k) => d[k]),
  items: (d) => Object.keys(d).map((k) => tuple([k, d[k]])),
  get: (d, a) => (Object.prototype.hasOwnProperty.call(d, pyStr(a[0])) ? d[pyStr(a[0])] : (a[1] ?? null)),
  copy: (d) => ({ ...d }),
};

function methodsOf(self: unknown): Record<string, Method> {
  if (typeof self === 'string') return STRING_METHODS as Record<string, Method>;
  if (Array.isArray(self)) return LIST_METHODS as Record<string, Method>;
  if (isMapping(self)) return DICT_METHODS as Record<string, Method>;
  return {};
}

/** x.method(args): the read-only Python methods of strings, lists and mappings. */
export function callMethod(self: unknown, name: string, args: unknown[]): unknown {
  const methods = methodsOf(self);
  if (!Object.prototype.hasOwnProperty.call(methods, name))
    throw new Error(`${typeName(self)} has no method "${name}"${didYouMean(name, Object.keys(methods))}`);
  return methods[name](self as never, args);
}
