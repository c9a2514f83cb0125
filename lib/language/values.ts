// Values as Jinja (Python) sees them: truth, equality, str() and repr(), strict undefined, and
// attribute access that reads own properties of data only (never __proto__, constructor or prototype).

/** A name or attribute that does not exist: only `default`, `is defined` and friends accept it. */
export class Undefined {
  constructor(readonly hint: string) {}
}

/** The value itself, or the error that names what is undefined. */
export function strict(v: unknown): unknown {
  if (v instanceof Undefined) throw new Error(v.hint);
  return v;
}

/** Python's truth: empty strings, lists and mappings, 0 and None are false. */
export function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === 'object') return Object.keys(v).length > 0;
  return Boolean(v);
}

/** Python's ==: lists and mappings by value, 1 == 1.0, True == 1. */
export function pyEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'boolean' || typeof b === 'boolean') return Number(a) === Number(b) && isNumeric(a) && isNumeric(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => pyEquals(x, b[i]));
  if (isMapping(a) && isMapping(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && pyEquals(a[k], b[k]));
  }
  return false;
}

function isNumeric(v: unknown): boolean {
  return typeof v === 'number' || typeof v === 'boolean';
}

export function isMapping(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Python's str(): what a value looks like inside a larger string or a template file. */
export function pyStr(v: unknown): string {
  if (typeof v === 'string') return v;
  return pyRepr(v);
}

const TUPLES = new WeakSet<unknown[]>();
/** A list that Python makes as a tuple (zip, dict.items()): the same list, printed as (a, b). */
export function tuple<T extends unknown[]>(items: T): T {
  TUPLES.add(items);
  return items;
}

/** Python's repr(), for values inside lists and mappings. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
  if (Array.isArray(v) && TUPLES.has(v)) return `(${v.map(pyRepr).join(', ')}${v.length === 1 ? ',' : ''})`;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (isMapping(v))
    return `{${Object.keys(v)
      .map((k) => `${pyRepr(k)}: ${pyRepr(v[k])}`)
      .join(', ')}}`;
  return String(v);
}

/** Python's json.dumps: ", " and ": " separators, or an indent; keys sorted when asked. */
export function pyJson(v: unknown, indent?: number, sortKeys = false, depth = 0): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v !== 'object') return JSON.stringify(v);
  const pad = indent === undefined ? '' : '\n' + ' '.repeat(indent * (depth + 1));
  const end = indent === undefined ? '' : '\n' + ' '.repeat(indent * depth);
  const sep = indent === undefined ? ', ' : ',';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return `[${v.map((x) => pad + pyJson(x, indent, sortKeys, depth + 1)).join(sep)}${end}]`;
  }
  const keys = Object.keys(v);
  if (keys.length === 0) return '{}';
  if (sortKeys) keys.sort();
  const record = v as Record<string, unknown>;
  const items = keys.map((k) => `${pad}${JSON.stringify(k)}: ${pyJson(record[k], indent, sortKeys, depth + 1)}`);
  return `{${items.join(sep)}${end}}`;
}

/** obj[key] or obj.key: own properties of mappings, list and string indexes (negative from the end). */
/** Python's slice, `x[start:stop:step]` (literals.ts rewrites it into a call that makes one). */
export class Slice {
  constructor(
    readonly start: number | null,
    readonly stop: number | null,
    readonly step: number | null,
  ) {}

  of<T>(seq: readonly T[] | string): T[] | string {
    const n = seq.length;
    const step = this.step ?? 1;
    if (step === 0) throw new Error('slice step cannot be zero');
    const at = (v: number | null, dflt: number) =>
      v === null ? dflt : v < 0 ? Math.max(v + n, step < 0 ? -1 : 0) : Math.min(v, step < 0 ? n - 1 : n);
    const start = at(this.start, step > 0 ? 0 : n - 1);
    const stop = at(this.stop, step > 0 ? n : -1);
    const out: (T | string)[] = [];
    for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(seq[i]);
    return typeof seq === 'string' ? out.join('') : (out as T[]);
  }
}

export function ownGet(obj: unknown, key: unknown): unknown {
  if (obj instanceof Undefined) return obj;
  if (key instanceof Slice) {
    if (Array.isArray(obj) || typeof obj === 'string') return key.of(obj);
    return new Undefined(`${preview(obj)} cannot be sliced`);
  }
  const name = typeof key === 'string' ? key : pyRepr(key);
  const isIndex = typeof key === 'number' || /^-?\d+$/.test(name);
  if ((Array.isArray(obj) || typeof obj === 'string') && isIndex) {
    const i = Number(name);
    const at = i < 0 ? obj.length + i : i;
    if (Number.isInteger(at) && at >= 0 && at < obj.length) return obj[at];
    return new Undefined(`index ${name} is out of range for ${preview(obj)}`);
  }
  if (isMapping(obj) && Object.prototype.hasOwnProperty.call(obj, name)) return obj[name];
  return new Undefined(`${preview(obj)} has no attribute "${name}"`);
}

function preview(v: unknown): string {
  const text = pyRepr(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
