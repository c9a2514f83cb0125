// Handlebars templating for template files and {{ }} in playbook strings.
// noEscape: values are written as they are (a password with & stays as written).
// A string that is exactly one {{ x }} yields x's value itself, so lists stay lists.
import Handlebars from 'handlebars';

const hb = Handlebars.create();

hb.registerHelper('default', (v: unknown, d: unknown) => (v === undefined || v === null || v === '' ? d : v));
hb.registerHelper('join', (list: unknown, sep: unknown) =>
  Array.isArray(list) ? list.join(typeof sep === 'string' ? sep : ',') : '',
);
hb.registerHelper('json', (v: unknown) => JSON.stringify(v));
hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
hb.registerHelper('ne', (a: unknown, b: unknown) => a !== b);
hb.registerHelper('lookup_var', (obj: Record<string, unknown>, key: string, field?: unknown) => {
  const v = obj?.[key] as Record<string, unknown> | undefined;
  return typeof field === 'string' ? v?.[field] : v;
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
const HELPERS = new Set([
  'erl_string',
  'erl_pairs',
  '__capture',
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
  'if',
  'unless',
  'each',
  'with',
  'lookup',
  'log',
]);

/** Jinja-style x['y'] and x["y"] become Handlebars' x.[y]. */
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
    t = hb.compile(normalize(text), {
      noEscape: true,
      strict: true,
      knownHelpers: Object.fromEntries([...HELPERS].map((h) => [h, true])),
    });
    cache.set(text, t);
  }
  return t;
}

/** Throws a plain Error with Handlebars' message when the syntax is wrong. */
export function checkSyntax(text: string): void {
  hb.parse(normalize(text));
}

/** Exactly one {{ ... }} and nothing else: the value itself, not its text. */
const SINGLE = /^\{\{(?!#|\/|!|>|\^)\s*((?:(?!\}\}).)+?)\s*\}\}$/s;
let captured: unknown;
hb.registerHelper('__capture', (v: unknown) => {
  captured = v;
  return '';
});

/** Renders a playbook string. Variables whose values hold templates themselves are rendered
 *  in turn (as Ansible does), up to a small depth to stop loops. */
export function renderString(text: string, vars: Record<string, unknown>, depth = 0): unknown {
  if (!text.includes('{{')) return text;
  if (depth > 8) throw new Error(`variables refer to each other in a loop: ${text}`);
  const single = SINGLE.exec(normalize(text));
  if (single) {
    const inner = single[1];
    const isCall = /^[\w.-]+\s+\S/.test(inner) && !/^[\w.]+$/.test(inner);
    captured = undefined;
    compiled(`{{__capture ${isCall ? `(${inner})` : inner}}}`)(vars);
    const v = captured;
    if (v === undefined) throw new Error(`"${inner}" is not defined`);
    return typeof v === 'string' || (v && typeof v === 'object') ? renderDeep(v, vars, depth + 1) : v;
  }
  const out = compiled(text)(vars, { allowProtoPropertiesByDefault: false });
  return out.includes('{{') && out !== text ? renderString(out, vars, depth + 1) : out;
}

export function renderTemplate(text: string, vars: Record<string, unknown>): string {
  return compiled(text)(vars);
}

/** Deep render: strings through renderString, objects and arrays item by item. */
export function renderDeep(value: unknown, vars: Record<string, unknown>, depth = 0): unknown {
  if (typeof value === 'string') return renderString(value, vars, depth);
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, vars, depth));
  if (value && typeof value === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) o[k] = renderDeep(v, vars, depth);
    return o;
  }
  return value;
}

/** The root variable names a template reads (for the strict check before any connection). */
export function templateVars(text: string): string[] {
  if (!text.includes('{{')) return [];
  const ast = hb.parse(normalize(text));
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

/** Variables with their own templates rendered, for template files (as Ansible's lazy vars). */
export function resolveVars(vars: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...vars };
  for (const [k, v] of Object.entries(vars)) {
    if (k === 'hostvars' || k === 'groups') continue;
    if (JSON.stringify(v ?? null).includes('{{')) out[k] = renderDeep(v, vars);
  }
  return out;
}
