// The functions a Jinja expression may call: range, dict and Ansible's lookups (env, file, template, vars,
// first_found, pipe), all run on the controller. What a lookup returns is data, never rendered again
// (a template lookup renders its file once, as the template task does).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { didYouMean } from '../util/similar.js';
import { renderJinjaText } from './jinja.js';
import { isMapping, pyStr, Slice, strict } from './values.js';

type Kwargs = Record<string, unknown>;
type Global = (args: unknown[], kwargs: Kwargs, vars: Record<string, unknown>) => unknown;

/** A path as a lookup sees it: absolute, else under the playbook's files/ or folder, else as given. */
function lookupPath(name: string, vars: Record<string, unknown>, folder: string): string {
  if (isAbsolute(name)) return name;
  const base = typeof vars.playbook_dir === 'string' ? vars.playbook_dir : '.';
  const roleBase = typeof vars.role_path === 'string' ? [join(vars.role_path, folder, name)] : [];
  const candidates = [...roleBase, join(base, folder, name), join(base, name), name];
  return candidates.find((c) => existsSync(c)) ?? candidates[candidates.length - 1];
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`lookup cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** first_found: the first existing file of a list, or of {files, paths}. */
function firstFound(terms: unknown[], kwargs: Kwargs, vars: Record<string, unknown>): string {
  const spec = terms.length === 1 && isMapping(terms[0]) ? terms[0] : { ...kwargs, files: terms.flat() };
  const files = [spec.files ?? []].flat().map(pyStr);
  const paths = [spec.paths ?? []].flat().map(pyStr);
  const candidates = paths.length ? paths.flatMap((p) => files.map((f) => join(p, f))) : files;
  for (const c of candidates) {
    const path = lookupPath(c, vars, 'files');
    if (existsSync(path)) return path;
  }
  if (truthy(spec.skip)) return '';
  throw new Error(`first_found: none of ${candidates.join(', ')} exists`);
}

function truthy(v: unknown): boolean {
  return v === true || v === 'yes' || v === 'true';
}

const LOOKUPS: Record<string, (terms: unknown[], kwargs: Kwargs, vars: Record<string, unknown>) => unknown[]> = {
  env: (terms, kwargs) => terms.map((t) => process.env[pyStr(t)] ?? kwargs.default ?? ''),
  file: (terms, kwargs, vars) =>
    terms.map((t) => {
      const text = readText(lookupPath(pyStr(t), vars, 'files'));
      return kwargs.rstrip === false ? text : text.trimEnd();
    }),
  template: (terms, _kwargs, vars) =>
    terms.map((t) => renderJinjaText(readText(lookupPath(pyStr(t), vars, 'templates')), vars)),
  vars: (terms, kwargs, vars) =>
    terms.map((t) => {
      const name = pyStr(t);
      if (Object.prototype.hasOwnProperty.call(vars, name)) return vars[name];
      if ('default' in kwargs) return kwargs.default;
      throw new Error(`lookup('vars'): "${name}" is not defined`);
    }),
  first_found: (terms, kwargs, vars) => [firstFound(terms, kwargs, vars)],
  // The command runs on the controller through sh, as Ansible's pipe lookup does.
  pipe: (terms) => terms.map((t) => execFileSync('/bin/sh', ['-c', pyStr(t)], { encoding: 'utf8' }).replace(/\n$/, '')),
  items: (terms) => terms.flat(),
  list: (terms) => terms,
};

function runLookup(args: unknown[], kwargs: Kwargs, vars: Record<string, unknown>): unknown[] {
  const [name, ...terms] = args;
  const key = pyStr(name).replace(/^ansible\.builtin\./, '');
  if (!Object.prototype.hasOwnProperty.call(LOOKUPS, key))
    throw new Error(`unknown lookup "${key}"${didYouMean(key, Object.keys(LOOKUPS))}`);
  return LOOKUPS[key](terms, kwargs, vars);
}

/** lookup() joins several results with commas, as Ansible does (wantlist=True keeps the list). */
function lookup(args: unknown[], kwargs: Kwargs, vars: Record<string, unknown>): unknown {
  const results = runLookup(args, kwargs, vars);
  if (kwargs.wantlist === true) return results;
  return results.length === 1 ? results[0] : results.map(pyStr).join(',');
}

function query(args: unknown[], kwargs: Kwargs, vars: Record<string, unknown>): unknown[] {
  return runLookup(args, kwargs, vars);
}

function range(args: unknown[]): number[] {
  const numbers = args.map((a) => Number(strict(a)));
  const [start, stop, step] = numbers.length === 1 ? [0, numbers[0], 1] : [numbers[0], numbers[1], numbers[2] ?? 1];
  if (step === 0) throw new Error('range() step must not be zero');
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

/** Names an expression may call; data never holds functions, so these are the only calls. */
/** x[a:b:c], as literals.ts rewrites it: each part an integer or none. */
function slice(args: unknown[]): Slice {
  const part = (v: unknown) => {
    if (v === null || v === undefined) return null;
    const n = Number(strict(v));
    if (!Number.isInteger(n)) throw new Error(`slice indices must be integers or none, not ${String(v)}`);
    return n;
  };
  return new Slice(part(args[0]), part(args[1]), part(args[2]));
}

export const GLOBALS: Record<string, Global> = Object.assign(Object.create(null), {
  __rmqplay_slice: slice,
  range,
  lookup,
  query,
  q: query,
  dict: (_args: unknown[], kwargs: Kwargs) => ({ ...kwargs }),
});

/** Variables the template layer provides: no check is needed for them. */
export const PROVIDED = new Set(['ansible_managed']);
