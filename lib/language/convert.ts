// Values converted to the type their JSON schema declares, as Ansible's argument spec converts module
// arguments (module_utils/common/validation.py, check_type_*): "yes", "on", "1", "true", "y", "t" (any case)
// are true and "no", "off", "0", "false", "n", "f" false for a boolean, as are the numbers 1 and 0; "80" is
// 80 for an integer (and 80.0 too); "1.5" is 1.5 for a number; a number or a boolean is its text for a
// string ("True", as Python writes it). A value that already has a declared type is left alone, so a mode
// declared as string or integer stays "0644" or 420. Templates are left alone: they are converted once
// rendered. Conversion changes objects and arrays in place, so positions recorded for them stay valid.
import { setOwn } from '../util/objects.js';
import { isUnsafe, UNSAFE_KEY } from './yaml.js';

type Schema = Record<string, unknown>;

const NOT_CONVERTED = Symbol('not converted');
type Converted = unknown | typeof NOT_CONVERTED;

const BOOLEANS_TRUE = ['y', 'yes', 'on', '1', 'true', 't'];
const BOOLEANS_FALSE = ['n', 'no', 'off', '0', 'false', 'f'];
const DECIMAL = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

function isTemplate(value: unknown): boolean {
  return typeof value === 'string' && (value.includes('{{') || value.includes('{%'));
}

function toBoolean(value: unknown): Converted {
  if (typeof value === 'number') return value === 1 ? true : value === 0 ? false : NOT_CONVERTED;
  if (typeof value !== 'string') return NOT_CONVERTED;
  const word = value.trim().toLowerCase();
  if (BOOLEANS_TRUE.includes(word)) return true;
  if (BOOLEANS_FALSE.includes(word)) return false;
  return NOT_CONVERTED;
}

function toNumber(value: unknown): Converted {
  if (typeof value !== 'string' || !DECIMAL.test(value.trim())) return NOT_CONVERTED;
  return Number(value.trim());
}

function toInteger(value: unknown): Converted {
  const n = typeof value === 'number' ? value : toNumber(value);
  return Number.isInteger(n) ? n : NOT_CONVERTED;
}

function toText(value: unknown): Converted {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return NOT_CONVERTED;
}

const CONVERTERS: Record<string, (value: unknown) => Converted> = {
  boolean: toBoolean,
  integer: toInteger,
  number: toNumber,
  string: toText,
};

function hasType(value: unknown, type: string): boolean {
  if (type === 'integer') return Number.isInteger(value);
  if (type === 'array') return Array.isArray(value);
  if (type === 'object') return isRecord(value);
  if (type === 'null') return value === null;
  return typeof value === type;
}

/** The schema itself and the branches of its anyOf/oneOf. */
function branches(schema: Schema): Schema[] {
  return [schema, ...[schema.anyOf, schema.oneOf].flat().filter(isRecord)];
}

/** The types a schema declares, in order: `type`, the types of its alternatives, or of its enum values. */
function declaredTypes(schema: Schema): string[] {
  let types = typesOf.get(schema);
  if (!types) {
    types = branches(schema).flatMap((b) => [b.type ?? []].flat().map(String));
    if (!types.length && Array.isArray(schema.enum))
      types = schema.enum.map((v) => (v === null ? 'null' : Number.isInteger(v) ? 'integer' : typeof v));
    typesOf.set(schema, types);
  }
  return types;
}

// What declaredTypes and containerSchema found, per schema object: the schemas do not change, and each task
// on each host converts its rendered arguments through them.
const typesOf = new WeakMap<Schema, string[]>();
const containers = new WeakMap<Schema, { array?: Schema; object?: Schema }>();

function convertScalar(value: unknown, types: string[]): unknown {
  if (!types.length || types.some((t) => hasType(value, t))) return value;
  for (const type of types) {
    const converted = CONVERTERS[type]?.(value) ?? NOT_CONVERTED;
    if (converted !== NOT_CONVERTED) return converted;
  }
  return value;
}

/** The schema that describes the contents of an array or object value (the first alternative that fits). */
function containerSchema(value: unknown, schema: Schema): Schema | undefined {
  const type = Array.isArray(value) ? 'array' : 'object';
  let found = containers.get(schema);
  if (!found) containers.set(schema, (found = {}));
  if (!(type in found)) {
    const describes = (b: Schema) => b.properties ?? b.items ?? b.additionalProperties;
    found[type] = branches(schema).find(
      (b) => describes(b) && (b.type === undefined || [b.type].flat().includes(type)),
    );
  }
  return found[type];
}

/** A value converted to its schema's declared type, deeply (objects and arrays are changed in place). */
export function convertBySchema(value: unknown, schema: unknown): unknown {
  if (!isRecord(schema) || isTemplate(value)) return value;
  const types = declaredTypes(schema);
  if (isUnsafe(value)) {
    // Unsafe text is a string: converted only where a string is not allowed.
    if (!types.length || types.includes('string')) return value;
    const converted = convertScalar(value[UNSAFE_KEY], types);
    return typeof converted === 'string' ? value : converted;
  }
  const out = convertScalar(value, types);
  const inner = out && typeof out === 'object' ? containerSchema(out, schema) : undefined;
  if (!inner) return out;
  if (Array.isArray(out)) {
    for (let i = 0; i < out.length; i++) out[i] = convertBySchema(out[i], inner.items);
    return out;
  }
  const record = out as Record<string, unknown>;
  const properties = isRecord(inner.properties) ? inner.properties : {};
  for (const [key, item] of Object.entries(record)) {
    const sub = Object.hasOwn(properties, key) ? properties[key] : inner.additionalProperties;
    const converted = convertBySchema(item, sub);
    if (converted !== item) setOwn(record, key, converted);
  }
  return out;
}

/** A copy of a value with every unsafe text as its plain string, for validation (the same paths). */
export function plainView(value: unknown): unknown {
  if (isUnsafe(value)) return value[UNSAFE_KEY];
  if (Array.isArray(value)) return value.some(holdsUnsafe) ? value.map(plainView) : value;
  if (!isRecord(value) || !holdsUnsafe(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainView(v)]));
}

function holdsUnsafe(value: unknown): boolean {
  if (isUnsafe(value)) return true;
  if (Array.isArray(value)) return value.some(holdsUnsafe);
  return isRecord(value) && Object.values(value).some(holdsUnsafe);
}
