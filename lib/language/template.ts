// Templating: playbook strings and template files are Jinja (jinja.ts, on nunjucks' parser); `.hbs`
// template files are Handlebars with noEscape (values are written as they are: a password with & stays
// as written). A string that is exactly one {{ x }} yields x's value itself, so lists stay lists.
import type HandlebarsLib from 'handlebars';
import { createRequire } from 'node:module';
import { parseJinja, renderJinjaText, renderJinjaValue, TemplateFinder } from './jinja.js';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { freeVars } from './jinja-vars.js';
import { setOwn } from '../util/objects.js';
import { isUnsafe, UNSAFE_KEY } from './yaml.js';
import { collectSecrets, isSecretName } from '../util/secrets.js';
import { hostsLine, nodeNameOf } from '../util/nodenames.js';

// Handlebars is loaded on the first .hbs template (start-up time, issue 11); it is CommonJS, so required.
let hbInstance: typeof HandlebarsLib | undefined;
function handlebars(): typeof HandlebarsLib {
  if (hbInstance) return hbInstance;
  const hb = (createRequire(import.meta.url)('handlebars') as typeof HandlebarsLib).create();
  // Called with one argument, the last one is Handlebars' options object: never hand it back.
  hb.registerHelper('default', (...args: unknown[]) => {
    if (args.length !== 3) throw new Error('default takes a value and a default: {{default x "fallback"}}');
    const [v, d] = args;
    return v === undefined || v === null || v === '' ? d : v;
  });
  // Handlebars' own log helper writes to stdout (it would break --json and skip masking).
  hb.registerHelper('log', () => {
    throw new Error('the log helper is not available: use the debug task');
  });
  hb.registerHelper('join', (list: unknown, sep: unknown) =>
    Array.isArray(list) ? list.join(typeof sep === 'string' ? sep : ',') : '',
  );
  hb.registerHelper('json', (v: unknown) => JSON.stringify(v));
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hb.registerHelper('ne', (a: unknown, b: unknown) => a !== b);
  hb.registerHelper('lookup_var', (obj: unknown, key: unknown, field?: unknown) => {
    const v = ownValue(obj, key);
    return typeof field === 'string' ? ownValue(v, field) : v;
  });
  // Erlang terms for advanced.config: a quoted string, and a list of {"key", "value"} pairs.
  const erlString = (v: unknown) =>
    `"${String(v ?? '')
      .replace(/\\/g, '\\\\')
      .replace(/"/g, '\\"')}"`;
  hb.registerHelper('erl_string', (v: unknown) => erlString(v));
  hb.registerHelper('erl_pairs', (o: unknown) =>
    Object.entries((o as Record<string, unknown>) ?? {})
      .map(([k, v]) => `{${erlString(k)}, ${erlString(v)}}`)
      .join(', '),
  );
  hb.registerHelper('concat', (...args: unknown[]) =>
    args.slice(0, -1).flatMap((a) => (Array.isArray(a) ? a : a === undefined || a === null ? [] : [a])),
  );
  hb.registerHelper('first', (v: unknown) => (Array.isArray(v) ? v[0] : undefined));
  hb.registerHelper('length', (v: unknown) =>
    Array.isArray(v) || typeof v === 'string' ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0,
  );
  hb.registerHelper('short', (v: unknown) => String(v ?? '').split('.')[0]);
  // RabbitMQ node names and /etc/hosts lines (util/nodenames.ts): {{rabbit_node @root.hostvars this}}.
  const hostVarsOf = (hv: unknown, host: unknown) => (ownValue(hv, host) ?? {}) as Record<string, unknown>;
  hb.registerHelper('rabbit_node', (hv: unknown, host: unknown) => nodeNameOf(String(host), hostVarsOf(hv, host)));
  hb.registerHelper('rabbit_hosts_line', (hv: unknown, host: unknown) => hostsLine(String(host), hostVarsOf(hv, host)));
  hbInstance = hb;
  return hb;
}

const HELPERS = new Set([
  'erl_string',
  'erl_pairs',
  'concat',
  'first',
  'length',
  'default',
  'join',
  'json',
  'eq',
  'ne',
  'lookup_var',
  'short',
  'rabbit_node',
  'rabbit_hosts_line',
  'if',
  'unless',
  'each',
  'with',
  'lookup',
]);

/** A property of a plain object or array, own properties only: no helper reaches a prototype. */
function ownValue(obj: unknown, key: unknown): unknown {
  if (!obj || typeof obj !== 'object' || (typeof key !== 'string' && typeof key !== 'number')) return undefined;
  return Object.prototype.hasOwnProperty.call(obj, key) ? (obj as Record<string, unknown>)[key] : undefined;
}

/** Jinja-style x['y'] and x["y"] become Handlebars' x.[y] (in .hbs files). */
function normalize(text: string): string {
  if (!text.includes('{{')) return text;
  return text.replace(
    /\{\{([^}]*)\}\}/g,
    (m, inner: string) =>
      '{{' + inner.replace(/\[\s*(['"])([^'"\]]+)\1\s*\]/g, '.[$2]').replace(/\[(\d+)\]/g, '.[$1]') + '}}',
  );
}

const cache = new Map<string, HandlebarsTemplateDelegate>();
function compiled(text: string): HandlebarsTemplateDelegate {
  let t = cache.get(text);
  if (!t) {
    t = handlebars().compile(normalize(text), {
      noEscape: true,
      strict: true,
      knownHelpers: Object.fromEntries([...HELPERS].map((h) => [h, true])),
    });
    cache.set(text, t);
  }
  return t;
}

/** Template files: `.hbs` is Handlebars (the shipped RabbitMQ templates), anything else Jinja2 as in
 *  Ansible roles. Without a file name (the older two-argument calls) the text is Handlebars. */
function isHandlebars(file: string | undefined): boolean {
  return file === undefined || file.endsWith('.hbs');
}

/** Throws a plain Error that says what is wrong and where, when the syntax of a template file is wrong
 *  (for Jinja also an unknown filter, test or statement). */
export function checkSyntax(text: string, file?: string, find?: TemplateFinder): void {
  // A template task checks its file again on each host, after rendering its arguments: once is enough, unless
  // it includes others (they are found by the task's role and file).
  const key = `${file ?? ''}\0${text}`;
  if (syntaxOk.has(key)) return;
  if (isHandlebars(file)) handlebars().parse(normalize(text));
  else freeVars(parseJinja(text), includeFinder(file, find));
  if (isHandlebars(file) || !INCLUDES.test(text)) syntaxOk.add(key);
}
const syntaxOk = new Set<string>();
const INCLUDES = /\{%[-+]?\s*(include|import|from|extends)\b/;

/** Where a template file's `{% include 'name' %}` is looked for: where `find` looks (the template module's
 *  search path: the role's templates/, beside the task file, the playbook's templates/...), then beside
 *  the including file. */
export function includeFinder(file: string | undefined, find?: TemplateFinder): TemplateFinder | undefined {
  if (file === undefined) return find;
  return (name) => {
    let problem: Error | undefined;
    if (find) {
      try {
        return find(name);
      } catch (e) {
        problem = e as Error;
      }
    }
    const beside = join(dirname(file), name);
    if (existsSync(beside)) return beside;
    throw problem ?? new Error(`template "${name}" not found beside ${file}`);
  };
}

/** Renders a playbook string once, as Jinja. What it yields is data: it is never rendered again, whatever
 *  it holds (a host's output that prints "{{ x }}" stays that text). Variables written in playbooks that
 *  hold templates themselves are rendered when read, through lazyVars. Exactly one {{ x }} yields x's
 *  value itself (lists stay lists). */
export function renderString(text: string, vars: Record<string, unknown>): unknown {
  if (!holdsTemplate(text)) return text;
  return renderJinjaValue(text, vars);
}

/** A template file's text: Jinja2 (with ansible_managed), or Handlebars for .hbs files. */
export function renderTemplate(
  text: string,
  vars: Record<string, unknown>,
  file?: string,
  find?: TemplateFinder,
): string {
  if (isHandlebars(file)) return compiled(text)(vars, RUNTIME);
  const withManaged = Object.prototype.hasOwnProperty.call(vars, 'ansible_managed')
    ? vars
    : { ...vars, ansible_managed: ANSIBLE_MANAGED };
  return renderJinjaText(text, withManaged, includeFinder(file, find));
}

/** Ansible's default ansible_managed string. */
const ANSIBLE_MANAGED = 'Ansible managed';

const RUNTIME = { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false };

/** Deep render: strings through renderString, objects and arrays item by item (keys stay plain). */
export function renderDeep(value: unknown, vars: Record<string, unknown>): unknown {
  // !unsafe text is never rendered: it becomes the plain text it holds.
  if (isUnsafe(value)) return value[UNSAFE_KEY];
  if (typeof value === 'string') return renderString(value, vars);
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, vars));
  if (value && typeof value === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setOwn(o, k, renderDeep(v, vars));
    return o;
  }
  return value;
}

/** Whether a value (deeply) holds a template. */
export function holdsTemplate(value: unknown): boolean {
  if (isUnsafe(value)) return true;
  if (typeof value === 'string') return value.includes('{{') || value.includes('{%');
  if (Array.isArray(value)) return value.some(holdsTemplate);
  if (value && typeof value === 'object') return Object.values(value).some(holdsTemplate);
  return false;
}

/** Variables as templates see them (Ansible's lazy variables): a value written in a playbook,
 *  inventory or vars file that holds a template is rendered when first read, against the same
 *  variables; the keys in `data` (registered results, facts, JSON extra vars, loop items) are
 *  returned as they are, never rendered. */
export function lazyVars(merged: Record<string, unknown>, data: Set<string>): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(merged)) {
    if (data.has(k) || !holdsTemplate(v)) setOwn(view, k, v);
    else makeLazy(view, k, v);
  }
  return view;
}

/** Makes `view[name]` the lazy value of `raw`, a template rendered against `view` when first read. */
export function makeLazy(view: Record<string, unknown>, name: string, raw: unknown): void {
  Object.defineProperty(view, name, { get: lazyValue(name, raw, view), enumerable: true, configurable: true });
}

function lazyValue(name: string, raw: unknown, view: Record<string, unknown>): () => unknown {
  let state: 'raw' | 'busy' | 'done' = 'raw';
  let value: unknown;
  return () => {
    if (state === 'done') return value;
    if (state === 'busy') throw new Error(`variables refer to each other in a loop: ${name}`);
    state = 'busy';
    try {
      value = renderDeep(raw, view);
      // A secret-named variable that is a template (a password taken from a vault variable).
      collectSecrets(value, isSecretName(name));
      state = 'done';
    } finally {
      if (state === 'busy') state = 'raw';
    }
    return value;
  };
}

/** The root variable names a template reads (for the strict check before any connection): a playbook
 *  string or a template file (`.hbs` is Handlebars, other files and strings are Jinja). Throws on bad
 *  syntax, and on an unknown filter or test (naming the nearest). */
export function templateVars(text: string, file?: string, find?: TemplateFinder): string[] {
  if (file === undefined) return holdsTemplate(text) ? freeVars(parseJinja(text, true)) : [];
  if (!file.endsWith('.hbs')) return freeVars(parseJinja(text), includeFinder(file, find));
  return handlebarsVars(text);
}

function handlebarsVars(text: string): string[] {
  if (!text.includes('{{')) return [];
  const ast = handlebars().parse(normalize(text));
  const out = new Set<string>();
  const blockParams: string[] = [];
  const visit = (node: any, inEach = false): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      node.forEach((n) => visit(n, inEach));
      return;
    }
    if (node.type === 'PathExpression') {
      if (node.data || node.this || node.depth > 0 || inEach) return;
      const head = node.parts[0];
      if (head && !HELPERS.has(head) && !blockParams.includes(head)) out.add(head);
      return;
    }
    if (node.type === 'BlockStatement') {
      const name = node.path?.original;
      node.params?.forEach((p: any) => visit(p, inEach));
      visit(node.hash, inEach);
      const changesContext = name === 'each' || name === 'with';
      const bp: string[] = node.program?.blockParams ?? [];
      blockParams.push(...bp);
      visit(node.program?.body, inEach || changesContext);
      visit(node.inverse?.body, inEach);
      blockParams.splice(blockParams.length - bp.length, bp.length);
      return;
    }
    if (node.type === 'MustacheStatement' || node.type === 'SubExpression') {
      const isHelperCall = node.params?.length > 0 || node.hash;
      if (!isHelperCall) visit(node.path, inEach);
      node.params?.forEach((p: any) => visit(p, inEach));
      visit(
        node.hash?.pairs?.map((p: any) => p.value),
        inEach,
      );
      return;
    }
    if (node.type === 'Program') {
      visit(node.body, inEach);
      return;
    }
  };
  visit(ast);
  return [...out];
}

/** Every variable rendered, for template files: a copy whose lazy values are all read once. */
export function resolveVars(vars: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(vars)) setOwn(out, k, vars[k]);
  return out;
}
