// Jinja as Ansible writes it: nunjucks' lexer and parser read the syntax, and this file evaluates the tree
// itself. nunjucks' own compiler turns templates into JavaScript and reaches prototypes through any
// attribute (`range.constructor`); here a lookup reads own properties of data only, undefined is strict
// (an error naming the variable), and the semantics are Python's (== compares lists and dicts by value).
// Only nunjucks' parser (and its lexer) is loaded, not its environment, compiler and loaders; jinja-parser.ts
// reads tests (`is`) with Jinja's grammar.
import { readFileSync } from 'node:fs';
import { didYouMean } from '../util/similar.js';
import { FILTERS, filterName, LENIENT_FILTERS, TESTS, LENIENT_TESTS, callMethod } from './filters.js';
import { parseTemplate } from './jinja-parser.js';
import { prepareLiterals } from './literals.js';
import { GLOBALS } from './lookups.js';
import { pyStr, truthy, pyEquals, Undefined, strict, ownGet } from './values.js';

/** A node of nunjucks' parse tree (the fields this evaluator reads). */
export interface JNode {
  typename: string;
  lineno: number;
  colno: number;
  value?: unknown;
  children?: JNode[];
  left?: JNode;
  right?: JNode;
  target?: JNode;
  val?: JNode;
  cond?: JNode;
  body?: JNode;
  else_?: JNode | null;
  arr?: JNode;
  name?: JNode;
  args?: JNode;
  targets?: JNode[];
  expr?: JNode;
  ops?: JNode[];
  type?: string;
  key?: JNode;
  template?: JNode;
}

/** Python's literals, under either spelling: never variables. */
const LITERALS: Record<string, unknown> = { True: true, False: false, None: null, true: true, false: false };

const trees = new Map<string, JNode>();

/** The parse tree of a template (Ansible's trim_blocks on); syntax errors say where and what.
 *  `playbook`: a playbook string, whose {{ }} string literals keep backslashes as written (Ansible). */
export function parseJinja(text: string, playbook = false): JNode {
  const key = `${playbook ? 'p' : 't'}${text}`;
  let tree = trees.get(key);
  if (tree) return tree;
  try {
    tree = leftToRight(parseTemplate(prepareLiterals(trimAfterCommentsAndRaw(text), playbook), { trimBlocks: true }));
  } catch (e) {
    throw syntaxError(e as Error & { lineno?: number; colno?: number }, text);
  }
  if (trees.size > 5000) trees.clear();
  trees.set(key, tree);
  return tree;
}

/** Operators that share one precedence level in Jinja (Python); nunjucks gives each its own level. */
const LEVELS = [new Set(['Add', 'Sub']), new Set(['Mul', 'Div', 'FloorDiv', 'Mod'])];

/** The tree with operators of one level read left to right, as Jinja does: nunjucks reads `a * b // c` as
 *  a * (b // c) and `a - b + c` as a - (b + c). Parentheses stay as written (a Group node). */
function leftToRight(n: JNode): JNode {
  const fields = n as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(fields)) {
    if (Array.isArray(v)) fields[k] = v.map((c) => (isNode(c) ? leftToRight(c) : c));
    else if (isNode(v)) fields[k] = leftToRight(v);
  }
  return rotate(n);
}
function isNode(v: unknown): v is JNode {
  return typeof v === 'object' && v !== null && typeof (v as { typename?: unknown }).typename === 'string';
}
/** N(a, M(b, c)) with N and M of one level becomes M(N(a, b), c), down the right side. */
function rotate(n: JNode): JNode {
  const level = LEVELS.find((l) => l.has(n.typename));
  const r = n.right;
  if (!level || !r || !level.has(r.typename)) return n;
  n.right = r.left;
  r.left = rotate(n);
  return r;
}

/** The tree of one bare expression (a condition: `a == 1 and b is defined`). */
export function parseExpression(src: string): JNode {
  const bare = /^\s*\{\{([\s\S]*)\}\}\s*$/.exec(src)?.[1] ?? src;
  const tree = parseJinja(`{{ ${bare} }}`);
  const single = singleExpression(tree);
  if (!single) throw new Error(`not one expression: ${src}`);
  return single;
}

/** Jinja's trim_blocks also drops the newline after a comment and after {% endraw %}; nunjucks' does not.
 *  The newline moves inside a comment, so line numbers stay right. */
function trimAfterCommentsAndRaw(text: string): string {
  if (!text.includes('#}') && !text.includes('endraw')) return text;
  return text.replace(/(\{#[\s\S]*?)#\}\n/g, '$1\n#}').replace(/(\{%-?\s*endraw\s*-?%\})\n/g, '$1{#\n#}');
}

function syntaxError(e: Error & { lineno?: number; colno?: number }, text: string): Error {
  const what = e.message
    .replace(/^\(unknown path\)\s*(\[Line \d+, Column \d+\])?\s*/, '')
    .replace(/^parse\w*: /, '')
    .trim();
  const lines = text.split('\n').length;
  const at = e.lineno !== undefined ? ` at line ${e.lineno}, column ${e.colno ?? 0}` : ` at the end (line ${lines})`;
  const unclosed = /\{\{(?![\s\S]*\}\})|\{%(?![\s\S]*%\})/.test(text) ? ' (a "{{" or "{%" is not closed)' : '';
  return new Error(`Jinja syntax error${at}: ${what}${unclosed}`);
}

/** The expression of a template that is exactly one `{{ ... }}`, if it is one. */
export function singleExpression(tree: JNode): JNode | undefined {
  const outputs = tree.children ?? [];
  if (outputs.length !== 1 || outputs[0].typename !== 'Output') return undefined;
  const parts = outputs[0].children ?? [];
  if (parts.length !== 1 || parts[0].typename === 'TemplateData') return undefined;
  return parts[0];
}

/** The file a template's `{% include 'name' %}` names (the template module's search path); throws if none. */
export type TemplateFinder = (name: string) => string;

/** Variables in scope: loop and set targets over the template's variables (own properties only). */
export class Scope {
  private readonly local = new Map<string, unknown>();
  constructor(
    private readonly root: Record<string, unknown>,
    private readonly parent?: Scope,
    readonly finder?: TemplateFinder,
  ) {}
  child(): Scope {
    return new Scope(this.root, this, this.finder);
  }
  set(name: string, value: unknown): void {
    this.local.set(name, value);
  }
  get(name: string): unknown {
    if (this.local.has(name)) return this.local.get(name);
    if (this.parent) return this.parent.get(name);
    if (Object.prototype.hasOwnProperty.call(this.root, name)) return this.root[name];
    return new Undefined(`"${name}" is undefined`);
  }
  get vars(): Record<string, unknown> {
    return this.root;
  }
}

const BINARY: Record<string, (a: unknown, b: unknown) => unknown> = {
  Add: (a, b) => (Array.isArray(a) && Array.isArray(b) ? [...a, ...b] : arith(a, b, (x, y) => x + y)),
  Sub: (a, b) => arith(a, b, (x, y) => x - y),
  Mul: (a, b) => (typeof a === 'string' ? a.repeat(Number(b)) : arith(a, b, (x, y) => x * y)),
  Div: (a, b) => arith(a, b, (x, y) => x / y),
  FloorDiv: (a, b) => arith(a, b, (x, y) => Math.floor(x / y)),
  Mod: (a, b) => (typeof a === 'string' ? percentFormat(a, b) : arith(a, b, (x, y) => x - y * Math.floor(x / y))),
  Pow: (a, b) => arith(a, b, (x, y) => x ** y),
  Concat: (a, b) => pyStr(a) + pyStr(b),
  In: (a, b) => contains(b, a),
};

function arith(a: unknown, b: unknown, op: (x: number, y: number) => number): unknown {
  if (typeof a === 'string' && typeof b === 'string') return a + b;
  if (typeof a !== 'number' && typeof a !== 'boolean') throw new Error(`cannot do arithmetic on ${pyStr(a)}`);
  if (typeof b !== 'number' && typeof b !== 'boolean') throw new Error(`cannot do arithmetic on ${pyStr(b)}`);
  return op(Number(a), Number(b));
}

/** Python's "%s" % value and "%s %s" % (a, b), the forms playbooks use. */
function percentFormat(fmt: string, args: unknown): string {
  const list = Array.isArray(args) ? [...args] : [args];
  return fmt.replace(/%([sdif%])/g, (_m, k: string) => (k === '%' ? '%' : pyStr(list.shift())));
}

export function contains(container: unknown, item: unknown): boolean {
  if (Array.isArray(container)) return container.some((x) => pyEquals(x, item));
  if (typeof container === 'string') return container.includes(pyStr(item));
  if (container && typeof container === 'object') return Object.prototype.hasOwnProperty.call(container, pyStr(item));
  throw new Error(`"in" needs a list, string or mapping, not ${pyStr(container)}`);
}

const COMPARE: Record<string, (a: unknown, b: unknown) => boolean> = {
  '==': (a, b) => pyEquals(a, b),
  '===': (a, b) => pyEquals(a, b),
  '!=': (a, b) => !pyEquals(a, b),
  '!==': (a, b) => !pyEquals(a, b),
  '<': (a, b) => ordered(a, b) < 0,
  '<=': (a, b) => ordered(a, b) <= 0,
  '>': (a, b) => ordered(a, b) > 0,
  '>=': (a, b) => ordered(a, b) >= 0,
};

function ordered(a: unknown, b: unknown): number {
  const bothNumbers = typeof a === 'number' && typeof b === 'number';
  const bothStrings = typeof a === 'string' && typeof b === 'string';
  if (!bothNumbers && !bothStrings) throw new Error(`cannot compare ${pyStr(a)} with ${pyStr(b)}`);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A dotted name (`ansible.builtin.version`) written as attribute lookups. */
function dottedName(n: JNode): string | undefined {
  if (n.typename === 'Symbol') return String(n.value);
  if (n.typename !== 'LookupVal' || n.val?.typename !== 'Literal') return undefined;
  const head = n.target ? dottedName(n.target) : undefined;
  return head === undefined ? undefined : `${head}.${String(n.val.value)}`;
}

/** A test's name and argument nodes from the right side of `is`. */
export function testOf(n: JNode): { name: string; args: JNode[] } {
  // `is none`: nunjucks reads none as the literal
  if (n.typename === 'Literal' && n.value === null) return { name: 'none', args: [] };
  const call = n.typename === 'FunCall';
  const name = dottedName(call ? n.name! : n);
  if (name === undefined) throw new Error('expected a test name after "is"');
  return { name: filterName(name), args: call ? (n.args?.children ?? []) : [] };
}

export function checkTest(name: string): void {
  if (!Object.prototype.hasOwnProperty.call(TESTS, name))
    throw new Error(`unknown test "${name}"${didYouMean(name, Object.keys(TESTS))}`);
}

export function checkFilter(name: string): void {
  if (!Object.prototype.hasOwnProperty.call(FILTERS, name))
    throw new Error(`unknown filter "${name}"${didYouMean(name, Object.keys(FILTERS))}`);
}

/** Positional and keyword arguments of a call. */
function argsOf(nodes: JNode[], scope: Scope): { args: unknown[]; kwargs: Record<string, unknown> } {
  const args: unknown[] = [];
  const kwargs: Record<string, unknown> = Object.create(null);
  for (const a of nodes) {
    if (a.typename !== 'KeywordArgs') {
      args.push(strict(evaluate(a, scope)));
      continue;
    }
    for (const pair of a.children ?? []) kwargs[String(pair.key?.value)] = strict(evaluate(pair.value as JNode, scope));
  }
  return { args, kwargs };
}

/** Evaluates an expression node: a value, or Undefined (which only default, defined and friends accept). */
export function evaluate(n: JNode, scope: Scope): unknown {
  switch (n.typename) {
    case 'Literal':
      return n.value;
    case 'Symbol': {
      const name = String(n.value);
      return Object.prototype.hasOwnProperty.call(LITERALS, name) ? LITERALS[name] : scope.get(name);
    }
    case 'Group': {
      // (a) is a, (a, b) a tuple
      const items = n.children ?? [];
      return items.length === 1 ? evaluate(items[0], scope) : items.map((c) => strict(evaluate(c, scope)));
    }
    case 'Array':
      return (n.children ?? []).map((c) => strict(evaluate(c, scope)));
    case 'Dict': {
      const out: Record<string, unknown> = {};
      for (const pair of n.children ?? []) {
        const key = pyStr(strict(evaluate(pair.key!, scope)));
        Object.defineProperty(out, key, { value: strict(evaluate(pair.value as JNode, scope)), enumerable: true });
      }
      return out;
    }
    case 'LookupVal':
      return ownGet(evaluate(n.target!, scope), strict(evaluate(n.val!, scope)));
    case 'InlineIf':
      if (truthy(strict(evaluate(n.cond!, scope)))) return evaluate(n.body!, scope);
      return n.else_ ? evaluate(n.else_, scope) : '';
    case 'Or': {
      const left = strict(evaluate(n.left!, scope));
      return truthy(left) ? left : strict(evaluate(n.right!, scope));
    }
    case 'And': {
      const left = strict(evaluate(n.left!, scope));
      return truthy(left) ? strict(evaluate(n.right!, scope)) : left;
    }
    case 'Not':
      return !truthy(strict(evaluate(n.target!, scope)));
    case 'Neg':
      return -Number(strict(evaluate(n.target!, scope)));
    case 'Pos':
      return Number(strict(evaluate(n.target!, scope)));
    case 'Compare':
      return compare(n, scope);
    case 'Is':
      return applyTest(n, scope);
    case 'Filter':
      return applyFilter(n, scope);
    case 'FunCall':
      return call(n, scope);
    default: {
      const op = BINARY[n.typename];
      if (!op) throw new Error(`"${n.typename}" is not supported here`);
      return op(strict(evaluate(n.left!, scope)), strict(evaluate(n.right!, scope)));
    }
  }
}

function compare(n: JNode, scope: Scope): boolean {
  let left = strict(evaluate(n.expr!, scope));
  for (const operand of n.ops ?? []) {
    const right = strict(evaluate(operand.expr!, scope));
    if (!COMPARE[operand.type!](left, right)) return false;
    left = right;
  }
  return true;
}

function applyTest(n: JNode, scope: Scope): boolean {
  const { name, args } = testOf(n.right!);
  checkTest(name);
  const value = evaluate(n.left!, scope);
  const input = LENIENT_TESTS.has(name) ? value : strict(value);
  const a = argsOf(args, scope);
  return Boolean(TESTS[name](input, a.args, a.kwargs));
}

function applyFilter(n: JNode, scope: Scope): unknown {
  const name = filterName(String(n.name?.value));
  checkFilter(name);
  const [inputNode, ...rest] = n.args?.children ?? [];
  const value = evaluate(inputNode, scope);
  const input = LENIENT_FILTERS.has(name) ? value : strict(value);
  const a = argsOf(rest, scope);
  return FILTERS[name](input, a.args, a.kwargs, scope.vars);
}

function call(n: JNode, scope: Scope): unknown {
  const argNodes = n.args?.children ?? [];
  const callee = n.name!;
  if (callee.typename === 'LookupVal') {
    const self = strict(evaluate(callee.target!, scope));
    const method = pyStr(strict(evaluate(callee.val!, scope)));
    const a = argsOf(argNodes, scope);
    return callMethod(self, method, a.args);
  }
  const local = callee.typename === 'Symbol' ? scope.get(String(callee.value)) : undefined;
  if (local instanceof JinjaMacro) {
    const a = argsOf(argNodes, scope);
    return local.call(a.args, a.kwargs);
  }
  const fn = callee.typename === 'Symbol' ? GLOBALS[String(callee.value)] : undefined;
  const known = callee.typename === 'Symbol' && Object.prototype.hasOwnProperty.call(GLOBALS, String(callee.value));
  if (!known || typeof fn !== 'function') {
    const what = callee.typename === 'Symbol' ? `"${String(callee.value)}"` : 'this';
    throw new Error(
      `${what} is not a function${didYouMean(
        String(callee.value),
        Object.keys(GLOBALS).filter((k) => !k.startsWith('__')),
      )}`,
    );
  }
  const a = argsOf(argNodes, scope);
  return fn(a.args, a.kwargs, scope.vars);
}

/** Renders a statement list (a template's body) into text. */
export function renderNodes(n: JNode | null | undefined, scope: Scope): string {
  if (!n) return '';
  switch (n.typename) {
    case 'Root':
    case 'NodeList':
    case 'Output':
      return (n.children ?? []).map((c) => renderNodes(c, scope)).join('');
    case 'TemplateData':
      return String(n.value);
    case 'If':
    case 'IfAsync':
      return truthy(strict(evaluate(n.cond!, scope))) ? renderNodes(n.body, scope) : renderNodes(n.else_, scope);
    case 'For':
    case 'AsyncEach':
    case 'AsyncAll':
      return renderFor(n, scope);
    case 'Set':
      assign(n, scope);
      return '';
    case 'Capture':
      return renderNodes(n.body, scope);
    case 'Macro':
      scope.set(String(n.name?.value), new JinjaMacro(n, scope));
      return '';
    case 'Include':
      return withInclude(n, scope.finder, (tree) => renderNodes(tree, scope.child()));
    default:
      if (STATEMENTS_UNSUPPORTED.has(n.typename))
        throw new Error(`"${n.typename.toLowerCase()}" is not supported in rmqplay templates (line ${n.lineno + 1})`);
      return outputText(strict(evaluate(n, scope)));
  }
}

/** What {{ x }} writes into text: str(x), except that None writes nothing (Ansible's finalize). */
function outputText(v: unknown): string {
  return v === null || v === undefined ? '' : pyStr(v);
}

const STATEMENTS_UNSUPPORTED = new Set(['Caller', 'Import', 'FromImport', 'Extends', 'Block']);

/** A `{% macro name(a, b=1) %}`: called as a function, it renders its body with its arguments set,
 *  in the scope it was defined in. */
class JinjaMacro {
  constructor(
    private readonly node: JNode,
    private readonly scope: Scope,
  ) {}
  call(args: unknown[], kwargs: Record<string, unknown>): string {
    const name = String(this.node.name?.value);
    const { names, defaults } = macroParams(this.node);
    if (args.length > names.length)
      throw new Error(`macro "${name}" takes ${names.length} argument(s), ${args.length} given`);
    for (const k of Object.keys(kwargs))
      if (!names.includes(k)) throw new Error(`macro "${name}" has no argument "${k}"`);
    const inner = this.scope.child();
    names.forEach((p, i) => {
      if (i < args.length) inner.set(p, args[i]);
      else if (Object.hasOwn(kwargs, p)) inner.set(p, kwargs[p]);
      else if (defaults.has(p)) inner.set(p, strict(evaluate(defaults.get(p)!, inner)));
      else inner.set(p, new Undefined(`"${p}" is undefined (an argument of macro "${name}" not given)`));
    });
    return renderNodes(this.node.body, inner);
  }
}

/** A macro's argument names, and the default values' expressions. */
export function macroParams(n: JNode): { names: string[]; defaults: Map<string, JNode> } {
  const names: string[] = [];
  const defaults = new Map<string, JNode>();
  for (const a of n.args?.children ?? []) {
    if (a.typename !== 'KeywordArgs') {
      names.push(String(a.value));
      continue;
    }
    for (const pair of a.children ?? []) {
      names.push(String(pair.key?.value));
      defaults.set(String(pair.key?.value), pair.value as JNode);
    }
  }
  return { names, defaults };
}

const including: string[] = [];

/** Runs `use` on the parse tree of the template an `{% include %}` names (a quoted name, found by the
 *  finder); errors say which included file. Jinja drops one newline at the end of an included file. */
export function withInclude<T>(n: JNode, finder: TemplateFinder | undefined, use: (tree: JNode) => T): T {
  const name = n.template?.typename === 'Literal' ? n.template.value : undefined;
  if (typeof name !== 'string')
    throw new Error(`{% include %} takes a template's name as a quoted string (line ${n.lineno + 1})`);
  if (!finder) throw new Error(`{% include '${name}' %} is only for template files (line ${n.lineno + 1})`);
  const file = finder(name);
  if (including.includes(file)) throw new Error(`${name} includes itself (line ${n.lineno + 1})`);
  including.push(file);
  try {
    return use(parseJinja(readFileSync(file, 'utf8').replace(/\n$/, '')));
  } catch (e) {
    throw new Error(`in included template ${name} (${file}): ${(e as Error).message}`);
  } finally {
    including.pop();
  }
}

function assign(n: JNode, scope: Scope): void {
  const value = n.value ? strict(evaluate(n.value as JNode, scope)) : renderNodes(n.body, scope);
  for (const t of n.targets ?? []) scope.set(String(t.value), value);
}

function renderFor(n: JNode, scope: Scope): string {
  const source = strict(evaluate(n.arr!, scope));
  const items = iterable(source);
  if (items.length === 0) return renderNodes(n.else_, scope);
  const names = n.name!.typename === 'Array' ? (n.name!.children ?? []).map((c) => String(c.value)) : undefined;
  let out = '';
  items.forEach((item, i) => {
    const inner = scope.child();
    if (names) names.forEach((name, k) => inner.set(name, Array.isArray(item) ? item[k] : ownGet(item, k)));
    else inner.set(String(n.name!.value), item);
    inner.set('loop', loopInfo(items, i));
    out += renderNodes(n.body, inner);
  });
  return out;
}

function loopInfo(items: unknown[], i: number): Record<string, unknown> {
  const length = items.length;
  return {
    index: i + 1,
    index0: i,
    revindex: length - i,
    revindex0: length - i - 1,
    first: i === 0,
    last: i === length - 1,
    length,
    previtem: i > 0 ? items[i - 1] : undefined,
    nextitem: i < length - 1 ? items[i + 1] : undefined,
  };
}

/** What a for loop walks: a list's items, a string's characters, a mapping's keys (as Python). */
export function iterable(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [...v];
  if (v && typeof v === 'object') return Object.keys(v);
  throw new Error(`${pyStr(v)} cannot be looped over`);
}

/** A template's text: every `{{ }}` as Python's str() of its value. `finder`: where includes are. */
export function renderJinjaText(text: string, vars: Record<string, unknown>, finder?: TemplateFinder): string {
  // Jinja drops the source's last newline (keep_trailing_newline is off), then Ansible's templar adds
  // newlines back until the output ends with as many as the source does.
  const out = renderNodes(parseJinja(text.replace(/\n$/, '')), new Scope(vars, undefined, finder));
  const missing = trailingNewlines(text) - trailingNewlines(out);
  return missing > 0 ? out + '\n'.repeat(missing) : out;
}

function trailingNewlines(s: string): number {
  return s.length - s.replace(/\n+$/, '').length;
}

/** A playbook string: exactly one `{{ x }}` yields x's value itself, anything else its text. */
export function renderJinjaValue(text: string, vars: Record<string, unknown>): unknown {
  const tree = parseJinja(text, true);
  const single = singleExpression(tree);
  if (single) return strict(evaluate(single, new Scope(vars)));
  return renderNodes(tree, new Scope(vars));
}
