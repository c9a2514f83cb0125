// YAML in as Ansible reads it (PyYAML's SafeLoader, YAML 1.1), with source positions kept: every
// mapping and sequence loaded from a file remembers its file:line:column, and each mapping the
// position of each of its keys.
//
// YAML 1.1 scalars exactly as PyYAML's resolver reads them: `0644` is octal (420), `0x1F` hex,
// `1_000` and `190:20:30` (sexagesimal) are integers; yes/Yes/YES, no, true, false, on, off (those
// three spellings each, never y/n) are booleans; `~`, null, Null, NULL and an empty value are null;
// `<<` merges. A timestamp (`2001-12-14`) stays the text written, as Ansible prints a date.
//
// `!unsafe` (Ansible's "never render this") loads as an UnsafeText object `{ __ansible_unsafe: 'text' }`:
// the form Ansible itself uses for unsafe text in JSON. It survives object spreading, copies and
// JSON. Rendering must return its text as data (a plain string, never rendered again); see isUnsafe.
// On a sequence or mapping, `!unsafe` marks every string inside it.
//
// PyYAML ignores indentation inside flow collections and quoted scalars ({ on one line, its contents
// indented, } at the left margin); js-yaml rejects that as "deficient indentation". Such a line is
// indented until js-yaml accepts it (only leading spaces on a continuation line, which neither parser
// keeps), and the columns reported are those of the file as written.
import * as jsyaml from 'js-yaml';
import { readFileSync } from 'node:fs';
import { PlaybookError, Where } from '../util/errors.js';
import { setOwn } from '../util/objects.js';
import { addSecret, collectAllStrings } from '../util/secrets.js';
import { decryptForRun, isVaulted } from '../util/vault.js';

interface Pos {
  file: string;
  line: number;
  column: number;
}
interface PosNode {
  pos: Pos;
  keys?: Map<string, { pos: Pos; value: PosNode }>;
  items?: PosNode[];
}

const positions = new WeakMap<object, PosNode>();

/** Ansible's key for unsafe text in JSON; a value `{ [UNSAFE_KEY]: text }` is never rendered. */
export const UNSAFE_KEY = '__ansible_unsafe';
export interface UnsafeText {
  [UNSAFE_KEY]: string;
}

/** Whether a value is `!unsafe` text: exactly one own key, UNSAFE_KEY, holding a string. */
export function isUnsafe(value: unknown): value is UnsafeText {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === UNSAFE_KEY && typeof (value as UnsafeText)[UNSAFE_KEY] === 'string';
}

export function unsafeText(text: string): UnsafeText {
  return { [UNSAFE_KEY]: text };
}

/** Marks every string inside a value unsafe (Ansible's wrap_var). */
function markUnsafe(value: unknown): unknown {
  if (typeof value === 'string') return unsafeText(value);
  if (Array.isArray(value)) return value.map(markUnsafe);
  if (value && typeof value === 'object' && !isUnsafe(value)) {
    const out = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, k, markUnsafe(v));
    return out;
  }
  return value;
}

// PyYAML's implicit resolvers (yaml/resolver.py), unchanged.
const BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const INT =
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const FLOAT = new RegExp(
  '^(?:[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+][0-9]+)?' +
    '|\\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?' +
    '|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*' +
    '|[-+]?\\.(?:inf|Inf|INF)' +
    '|\\.(?:nan|NaN|NAN))$',
);
const NULL = /^(?:~|null|Null|NULL|)$/;
const TIMESTAMP = new RegExp(
  '^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}' +
    '|[0-9]{4}-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \\t]+)[0-9][0-9]?:[0-9]{2}:[0-9]{2}(?:\\.[0-9]*)?' +
    '(?:[ \\t]*(?:Z|[-+][0-9][0-9]?(?::[0-9]{2})?))?)$',
);

/** "1:30:05" → 1*3600 + 30*60 + 5, as PyYAML reads base 60. */
function sexagesimal(text: string): number {
  return text.split(':').reduce((sum, part) => sum * 60 + Number(part), 0);
}

/** PyYAML's construct_yaml_int. */
function yamlInt(source: string): number {
  const text = source.replace(/_/g, '');
  const sign = text.startsWith('-') ? -1 : 1;
  const digits = /^[-+]/.test(text) ? text.slice(1) : text;
  if (digits === '0') return 0;
  if (digits.startsWith('0b')) return sign * parseInt(digits.slice(2), 2);
  if (digits.startsWith('0x')) return sign * parseInt(digits.slice(2), 16);
  if (digits.startsWith('0')) return sign * parseInt(digits, 8);
  if (digits.includes(':')) return sign * sexagesimal(digits);
  return sign * parseInt(digits, 10);
}

/** PyYAML's construct_yaml_float. */
function yamlFloat(source: string): number {
  const text = source.replace(/_/g, '').toLowerCase();
  const sign = text.startsWith('-') ? -1 : 1;
  const digits = /^[-+]/.test(text) ? text.slice(1) : text;
  if (digits === '.inf') return sign * Infinity;
  if (digits === '.nan') return NaN;
  if (digits.includes(':')) return sign * sexagesimal(digits);
  return sign * Number(digits);
}

const yamlBool = (source: string): boolean => /^(?:yes|true|on)$/i.test(source);

const NO = jsyaml.NOT_RESOLVED;
const DIGITS = [...'0123456789'];
const loadOnly = () => false;

const boolTag = jsyaml.defineScalarTag('tag:yaml.org,2002:bool', {
  implicit: true,
  implicitFirstChars: [...'yYnNtTfFoO'],
  resolve: (s) => (BOOL.test(s) ? yamlBool(s) : NO),
  identify: (d) => typeof d === 'boolean',
});
const intTag = jsyaml.defineScalarTag('tag:yaml.org,2002:int', {
  implicit: true,
  implicitFirstChars: ['-', '+', ...DIGITS],
  resolve: (s) => (INT.test(s) ? yamlInt(s) : NO),
  identify: (d) => Number.isInteger(d),
});
const floatTag = jsyaml.defineScalarTag('tag:yaml.org,2002:float', {
  implicit: true,
  implicitFirstChars: ['-', '+', '.', ...DIGITS],
  resolve: (s) => (FLOAT.test(s) ? yamlFloat(s) : NO),
  identify: (d) => typeof d === 'number' && !Number.isInteger(d),
});
const nullTag = jsyaml.defineScalarTag('tag:yaml.org,2002:null', {
  implicit: true,
  implicitFirstChars: ['~', 'n', 'N', ''],
  resolve: (s) => (NULL.test(s) ? null : NO),
  identify: (d) => d === null,
});
const timestampTag = jsyaml.defineScalarTag('tag:yaml.org,2002:timestamp', {
  implicit: true,
  implicitFirstChars: DIGITS,
  resolve: (s) => (TIMESTAMP.test(s) ? s : NO),
  identify: loadOnly,
});
const unsafeScalar = jsyaml.defineScalarTag('!unsafe', { resolve: (s) => unsafeText(s), identify: loadOnly });
const unsafeSeq = jsyaml.defineSequenceTag<unknown[]>('!unsafe', {
  create: () => [],
  addItem: (list, item) => {
    list.push(markUnsafe(item));
  },
  identify: loadOnly,
});
const unsafeMap = jsyaml.defineMappingTag<Record<string, unknown>>('!unsafe', {
  create: () => ({}),
  addPair: (map, key, value) => {
    setOwn(map, String(key), markUnsafe(value));
    return '';
  },
  has: (map, key) => Object.hasOwn(map, String(key)),
  keys: (map) => Object.keys(map),
  get: (map, key) => map[String(key)],
  identify: loadOnly,
});

// `!vault |` values: decrypted with the run's vault passwords (checked with their position first, in
// checkVault); the plain text is a secret, masked in every output.
const decrypted = new Map<string, string>();
function vaultValue(ciphertext: string): string {
  let plain = decrypted.get(ciphertext);
  if (plain === undefined) {
    plain = decryptForRun(ciphertext);
    decrypted.set(ciphertext, plain);
  }
  addSecret(plain);
  return plain;
}
const vaultTags = ['!vault', '!vault-encrypted'].map((tag) =>
  jsyaml.defineScalarTag(tag, { resolve: (s) => vaultValue(s), identify: loadOnly }),
);

const ANSIBLE_SCHEMA = jsyaml.YAML11_SCHEMA.withTags(
  boolTag,
  intTag,
  floatTag,
  nullTag,
  timestampTag,
  unsafeScalar,
  unsafeSeq,
  unsafeMap,
  ...vaultTags,
);

/** A plain scalar's value as PyYAML resolves it (used for the keys of the position map). */
function plainValue(source: string): unknown {
  for (const tag of [boolTag, intTag, floatTag, nullTag]) {
    const value = tag.resolve(source, false, tag.tagName);
    if (value !== NO) return value;
  }
  return source;
}

/** Maps offsets of the (maybe re-indented) text back to file:line:column as written. */
class Lines {
  private starts = [0];
  constructor(
    text: string,
    readonly file: string,
    private padding: Map<number, number>,
  ) {
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') this.starts.push(i + 1);
  }
  pos(offset: number): Pos {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    const column = offset - this.starts[lo] + 1 - (this.padding.get(lo) ?? 0);
    return { file: this.file, line: lo + 1, column: Math.max(1, column) };
  }
}

const MAX_REINDENTS = 200;

/** Parses to events; lines js-yaml finds under-indented inside flow context are indented (PyYAML
 *  ignores indentation there). Returns the text the events refer to, and its line map. */
function parseLenient(source: string, file: string): { text: string; events: jsyaml.Event[]; lines: Lines } {
  const padding = new Map<number, number>();
  let text = source;
  for (let attempt = 0; ; attempt++) {
    const lines = new Lines(text, file, padding);
    try {
      return { text, events: jsyaml.parseEvents(text, { filename: file }), lines };
    } catch (e) {
      const deficient = e instanceof jsyaml.YAMLException && e.reason === 'deficient indentation';
      if (!deficient || !e.mark || attempt >= MAX_REINDENTS) throw syntaxError(e, lines);
      text = reindent(text, e.mark.line, padding);
    }
  }
}

/** Indents a line to the previous non-blank line's indentation, or one more space if it already is. */
function reindent(text: string, line: number, padding: Map<number, number>): string {
  const lines = text.split('\n');
  const indent = (l: string) => l.length - l.trimStart().length;
  const previous =
    lines
      .slice(0, line)
      .reverse()
      .find((l) => l.trim() !== '') ?? '';
  const added = Math.max(1, indent(previous) - indent(lines[line]));
  lines[line] = ' '.repeat(added) + lines[line];
  padding.set(line, (padding.get(line) ?? 0) + added);
  return lines.join('\n');
}

function syntaxError(e: unknown, lines: Lines): unknown {
  if (!(e instanceof jsyaml.YAMLException)) return e;
  const where: Where = e.mark ? lines.pos(e.mark.position) : { file: lines.file };
  return new PlaybookError(where, `YAML syntax error: ${e.reason ?? e.message}`);
}

export function loadYamlFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new PlaybookError({ file }, `cannot read file: ${(e as Error).message}`);
  }
  if (!isVaulted(text)) return loadYaml(text, file);
  // A whole file encrypted with ansible-vault: every value in it is a secret.
  let plain: string;
  try {
    plain = decryptForRun(text);
  } catch (e) {
    throw new PlaybookError({ file }, (e as Error).message);
  }
  const data = loadYaml(plain, file);
  collectAllStrings(data, 1);
  return data;
}

export function loadYaml(source: string, file: string): unknown {
  const { text, events, lines } = parseLenient(source, file);
  checkVault(text, events, lines);
  let value: unknown;
  try {
    value = jsyaml.constructFromEvents(events, { source: text, filename: file, schema: ANSIBLE_SCHEMA })[0] ?? null;
  } catch (e) {
    throw syntaxError(e, lines);
  }
  let i = 0;
  const E = jsyaml.EVENT_ID;
  const keyOf = (ev: jsyaml.Event, index: number): string => {
    if (ev.type !== E.SCALAR) return String(index);
    const raw = jsyaml.getScalarValue(text, ev);
    const plain = ev.style === jsyaml.SCALAR_STYLE.PLAIN && ev.tagStart === -1;
    return plain ? String(plainValue(raw)) : raw;
  };
  const node = (): PosNode => {
    const ev = events[i++];
    if (ev.type === E.SCALAR) return { pos: lines.pos(ev.valueStart) };
    if (ev.type === E.ALIAS) return { pos: lines.pos(ev.anchorStart) };
    if (ev.type === E.SEQUENCE) {
      const n: PosNode = { pos: lines.pos(ev.start), items: [] };
      while (events[i].type !== E.POP) n.items!.push(node());
      i++;
      return n;
    }
    if (ev.type === E.MAPPING) {
      const n: PosNode = { pos: lines.pos(ev.start), keys: new Map() };
      while (events[i].type !== E.POP) {
        const key = keyOf(events[i], i);
        const k = node();
        n.keys!.set(key, { pos: k.pos, value: node() });
      }
      i++;
      return n;
    }
    throw new Error(`unexpected YAML event ${ev.type}`);
  };
  while (i < events.length && events[i].type !== E.DOCUMENT) i++;
  i++;
  if (i < events.length && events[i].type !== E.POP) attach(value, node());
  return value;
}

/** Each `!vault` value decrypts with the run's passwords; if not, a bad-input error where it is written. */
function checkVault(text: string, events: jsyaml.Event[], lines: Lines): void {
  for (const ev of events) {
    if (!('tagStart' in ev) || ev.tagStart < 0) continue;
    const tag = text.slice(ev.tagStart, ev.tagEnd);
    if (tag !== '!vault' && tag !== '!vault-encrypted') continue;
    if (ev.type !== jsyaml.EVENT_ID.SCALAR) throw new PlaybookError(lines.pos(ev.tagStart), `${tag} tags a text`);
    try {
      vaultValue(jsyaml.getScalarValue(text, ev));
    } catch (e) {
      throw new PlaybookError(lines.pos(ev.tagStart), `${tag}: ${(e as Error).message}`);
    }
  }
}

function attach(value: unknown, n: PosNode): void {
  if (!value || typeof value !== 'object' || positions.has(value)) return;
  positions.set(value, n);
  if (Array.isArray(value) && n.items) value.forEach((v, idx) => n.items![idx] && attach(v, n.items![idx]));
  else if (n.keys) for (const [k, entry] of n.keys) attach((value as Record<string, unknown>)[k], entry.value);
}

/** Where an object (or one of its keys) was written; undefined for values made in code. */
export function posOf(obj: unknown, key?: string | number): Where | undefined {
  if (!obj || typeof obj !== 'object') return undefined;
  const n = positions.get(obj);
  if (!n) return undefined;
  if (key === undefined) return n.pos;
  if (typeof key === 'number') return n.items?.[key]?.pos ?? n.pos;
  return n.keys?.get(key)?.pos ?? n.pos;
}

/** Follows a JSON pointer path from a root object and returns the nearest known position. */
export function posAtPath(root: unknown, path: (string | number)[]): Where | undefined {
  let cur: unknown = root;
  let best = posOf(root);
  for (const seg of path) {
    if (!cur || typeof cur !== 'object') break;
    const p = posOf(cur, Array.isArray(cur) ? Number(seg) : String(seg));
    if (p) best = p;
    cur = (cur as Record<string, unknown>)[seg as string];
  }
  return best;
}

export function dumpYaml(value: unknown): string {
  return jsyaml.dump(value, { lineWidth: 120 });
}
