// YAML in, with source positions kept: every mapping and sequence loaded from a file
// remembers its file:line:column, and each mapping the position of each of its keys.
import * as jsyaml from 'js-yaml';
import { readFileSync } from 'node:fs';
import { PlaybookError, Where } from '../util/errors.js';

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

export function loadYamlFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new PlaybookError({ file }, `cannot read file: ${(e as Error).message}`);
  }
  return loadYaml(text, file);
}

export function loadYaml(text: string, file: string): unknown {
  let value: unknown;
  let events: jsyaml.Event[];
  try {
    events = jsyaml.parseEvents(text, { filename: file });
    value = jsyaml.loadAll(text, { filename: file })[0] ?? null;
  } catch (e) {
    const err = e as jsyaml.YAMLException;
    const where: Where = err.mark ? { file, line: err.mark.line + 1, column: err.mark.column + 1 } : { file };
    throw new PlaybookError(where, `YAML syntax error: ${err.reason ?? err.message}`);
  }
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const toPos = (offset: number): Pos => {
    let lo = 0,
      hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { file, line: lo + 1, column: offset - lineStarts[lo] + 1 };
  };
  let i = 0;
  const E = jsyaml.EVENT_ID;
  const node = (): PosNode => {
    const ev = events[i++];
    if (ev.type === E.SCALAR) return { pos: toPos(ev.valueStart) };
    if (ev.type === E.ALIAS) return { pos: toPos(ev.anchorStart) };
    if (ev.type === E.SEQUENCE) {
      const n: PosNode = { pos: toPos(ev.start), items: [] };
      while (events[i].type !== E.POP) n.items!.push(node());
      i++;
      return n;
    }
    if (ev.type === E.MAPPING) {
      const n: PosNode = { pos: toPos(ev.start), keys: new Map() };
      while (events[i].type !== E.POP) {
        const kev = events[i];
        const key = kev.type === E.SCALAR ? jsyaml.getScalarValue(text, kev) : String(i);
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
