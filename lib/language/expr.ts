// A small, safe expression language for when, changed_when, failed_when and until.
// Jinja-like: a == b, !=, <, <=, >, >=, and, or, not, in, not in, is defined, is not defined,
// is succeeded/failed/changed, a.b, a['b'], a[0], literals, lists, parentheses, and the
// filters | length, | int, | bool, | string. No eval: a tokenizer, a parser and a tree walker.

type Node =
  | { t: 'lit'; v: unknown }
  | { t: 'var'; name: string }
  | { t: 'get'; obj: Node; key: Node }
  | { t: 'list'; items: Node[] }
  | { t: 'un'; op: string; a: Node }
  | { t: 'bin'; op: string; a: Node; b: Node }
  | { t: 'is'; a: Node; test: string; neg: boolean }
  | { t: 'filter'; a: Node; name: string };

const TOKEN =
  /\s*(?:(\d+\.\d+|\d+)|('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(==|!=|<=|>=|<|>|\(|\)|\[|\]|\.|,|\|)|([A-Za-z_][\w]*))/y;

function tokenize(src: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(src);
    if (!m) throw new Error(`cannot read expression at "${src.slice(pos).trim()}"`);
    out.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
    pos = TOKEN.lastIndex;
  }
  return out;
}

export function parseExpr(src: string): Node {
  const toks = tokenize(src.replace(/^\s*\{\{|\}\}\s*$/g, ''));
  let i = 0;
  const peek = () => toks[i];
  const eat = (t?: string) => {
    const tok = toks[i++];
    if (t !== undefined && tok !== t) throw new Error(`expected "${t}" but found "${tok ?? 'end'}" in: ${src}`);
    return tok;
  };
  const or = (): Node => {
    let a = and();
    while (peek() === 'or') {
      eat();
      a = { t: 'bin', op: 'or', a, b: and() };
    }
    return a;
  };
  const and = (): Node => {
    let a = not();
    while (peek() === 'and') {
      eat();
      a = { t: 'bin', op: 'and', a, b: not() };
    }
    return a;
  };
  const not = (): Node => (peek() === 'not' ? (eat(), { t: 'un', op: 'not', a: not() }) : cmp());
  const cmp = (): Node => {
    let a = filtered();
    for (;;) {
      const p = peek();
      if (['==', '!=', '<', '<=', '>', '>='].includes(p)) {
        eat();
        a = { t: 'bin', op: p, a, b: filtered() };
      } else if (p === 'in') {
        eat();
        a = { t: 'bin', op: 'in', a, b: filtered() };
      } else if (p === 'not' && toks[i + 1] === 'in') {
        eat();
        eat();
        a = { t: 'un', op: 'not', a: { t: 'bin', op: 'in', a, b: filtered() } };
      } else if (p === 'is') {
        eat();
        const neg = peek() === 'not' ? (eat(), true) : false;
        a = { t: 'is', a, test: eat(), neg };
      } else return a;
    }
  };
  const filtered = (): Node => {
    let a = postfix();
    while (peek() === '|') {
      eat();
      a = { t: 'filter', a, name: eat() };
    }
    return a;
  };
  const postfix = (): Node => {
    let a = atom();
    for (;;) {
      if (peek() === '.') {
        eat();
        a = { t: 'get', obj: a, key: { t: 'lit', v: eat() } };
      } else if (peek() === '[') {
        eat();
        const key = or();
        eat(']');
        a = { t: 'get', obj: a, key };
      } else return a;
    }
  };
  const atom = (): Node => {
    const tok = eat();
    if (tok === undefined) throw new Error(`expression ends too early: ${src}`);
    if (tok === '(') {
      const e = or();
      eat(')');
      return e;
    }
    if (tok === '[') {
      const items: Node[] = [];
      while (peek() !== ']') {
        items.push(or());
        if (peek() === ',') eat();
      }
      eat(']');
      return { t: 'list', items };
    }
    if (/^\d/.test(tok)) return { t: 'lit', v: Number(tok) };
    if (tok[0] === '"' || tok[0] === "'") return { t: 'lit', v: tok.slice(1, -1).replace(/\\(.)/g, '$1') };
    if (tok === 'true' || tok === 'True') return { t: 'lit', v: true };
    if (tok === 'false' || tok === 'False') return { t: 'lit', v: false };
    if (tok === 'none' || tok === 'None' || tok === 'null') return { t: 'lit', v: null };
    if (/^[A-Za-z_]/.test(tok)) return { t: 'var', name: tok };
    throw new Error(`unexpected "${tok}" in: ${src}`);
  };
  const n = or();
  if (i < toks.length) throw new Error(`unexpected "${toks[i]}" in: ${src}`);
  return n;
}

const UNDEF = Symbol('undefined');

export function evalExpr(src: string | boolean, vars: Record<string, unknown>): boolean {
  if (typeof src === 'boolean') return src;
  return truthy(evaluate(parseExpr(src), vars));
}

function truthy(v: unknown): boolean {
  if (v === UNDEF) throw new Error('undefined variable');
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === 'object') return Object.keys(v).length > 0;
  return Boolean(v);
}

function evaluate(n: Node, vars: Record<string, unknown>): unknown {
  switch (n.t) {
    case 'lit':
      return n.v;
    case 'var':
      return Object.prototype.hasOwnProperty.call(vars, n.name) ? vars[n.name] : UNDEF;
    case 'list':
      return n.items.map((x) => evaluate(x, vars));
    case 'get': {
      const o = evaluate(n.obj, vars);
      const k = evaluate(n.key, vars);
      if (o === UNDEF || o === null || typeof o !== 'object') return UNDEF;
      const key = String(k);
      return Object.prototype.hasOwnProperty.call(o, key) ? (o as Record<string, unknown>)[key] : UNDEF;
    }
    case 'un':
      return !truthy(evaluate(n.a, vars));
    case 'is': {
      const v = evaluate(n.a, vars);
      let r: boolean;
      const res = v as Record<string, unknown>;
      switch (n.test) {
        case 'defined':
          r = v !== UNDEF;
          break;
        case 'undefined':
          r = v === UNDEF;
          break;
        case 'none':
          r = v === null;
          break;
        case 'succeeded':
        case 'success':
          r = !res?.failed;
          break;
        case 'failed':
        case 'failure':
          r = Boolean(res?.failed);
          break;
        case 'changed':
          r = Boolean(res?.changed);
          break;
        case 'skipped':
          r = Boolean(res?.skipped);
          break;
        default:
          throw new Error(`unknown test "is ${n.test}"`);
      }
      return n.neg ? !r : r;
    }
    case 'filter': {
      const v = evaluate(n.a, vars);
      if (v === UNDEF) return UNDEF;
      switch (n.name) {
        case 'length':
          return Array.isArray(v) || typeof v === 'string'
            ? v.length
            : v && typeof v === 'object'
              ? Object.keys(v).length
              : 0;
        case 'int':
          return parseInt(String(v), 10) || 0;
        case 'bool':
          return v === true || /^(true|yes|1|on)$/i.test(String(v));
        case 'string':
          return String(v);
        case 'trim':
          return String(v).trim();
        default:
          throw new Error(`unknown filter "| ${n.name}"`);
      }
    }
    case 'bin': {
      if (n.op === 'and') return truthy(evaluate(n.a, vars)) && truthy(evaluate(n.b, vars));
      if (n.op === 'or') return truthy(evaluate(n.a, vars)) || truthy(evaluate(n.b, vars));
      const a = evaluate(n.a, vars);
      const b = evaluate(n.b, vars);
      if (a === UNDEF || b === UNDEF) throw new Error('undefined variable');
      switch (n.op) {
        case '==':
          return JSON.stringify(a) === JSON.stringify(b);
        case '!=':
          return JSON.stringify(a) !== JSON.stringify(b);
        case '<':
          return (a as number) < (b as number);
        case '<=':
          return (a as number) <= (b as number);
        case '>':
          return (a as number) > (b as number);
        case '>=':
          return (a as number) >= (b as number);
        case 'in':
          return Array.isArray(b)
            ? b.some((x) => JSON.stringify(x) === JSON.stringify(a))
            : typeof b === 'string'
              ? b.includes(String(a))
              : b && typeof b === 'object'
                ? Object.prototype.hasOwnProperty.call(b, String(a))
                : false;
      }
    }
  }
  throw new Error('bad expression');
}

/** Root variable names an expression reads, for the strict check before connecting.
 *  Names under "is defined" / "is not defined" are not required. */
export function exprVars(src: string | boolean): string[] {
  if (typeof src === 'boolean') return [];
  const out = new Set<string>();
  const walk = (n: Node, optional: boolean): void => {
    switch (n.t) {
      case 'var':
        if (!optional) out.add(n.name);
        break;
      case 'get':
        walk(n.obj, optional);
        walk(n.key, optional);
        break;
      case 'list':
        n.items.forEach((x) => walk(x, optional));
        break;
      case 'un':
        walk(n.a, optional);
        break;
      case 'bin':
        walk(n.a, optional);
        walk(n.b, optional);
        break;
      case 'is':
        walk(n.a, optional || n.test === 'defined' || n.test === 'undefined');
        break;
      case 'filter':
        walk(n.a, optional);
        break;
    }
  };
  walk(parseExpr(src), false);
  return [...out];
}
