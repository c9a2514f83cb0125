// Before any connection: the free variables of Jinja text (names read that no loop or set binds), and
// unknown filters, tests and statements, found by walking nunjucks' parse tree.
import { checkFilter, checkTest, JNode, macroParams, TemplateFinder, testOf, withInclude } from './jinja.js';
import { filterName } from './filters.js';
import { GLOBALS, PROVIDED } from './lookups.js';

const NOT_VARIABLES = new Set(['True', 'False', 'None', 'true', 'false', 'none']);
const UNSUPPORTED = new Set(['Caller', 'Import', 'FromImport', 'Extends', 'Block']);
/** What these read may be undefined: `x | default(1)`, `x is defined`. */
const OPTIONAL_FILTERS = new Set(['default', 'd']);
const OPTIONAL_TESTS = new Set(['defined', 'undefined']);

/** Every name a set statement or a macro assigns anywhere in the template (bound for the whole text: no
 *  false alarms). */
function setTargets(n: JNode | null | undefined, out: Set<string>): void {
  if (!n || typeof n !== 'object') return;
  if (n.typename === 'Set') for (const t of n.targets ?? []) out.add(String(t.value));
  if (n.typename === 'Macro') out.add(String(n.name?.value));
  for (const c of childNodes(n)) setTargets(c, out);
}

/** A node's child nodes, through the field names nunjucks declares. */
function childNodes(n: JNode): JNode[] {
  const fields = (n as unknown as { fields?: string[] }).fields ?? [];
  const out: JNode[] = [];
  const record = n as unknown as Record<string, unknown>;
  for (const f of fields) {
    const v = record[f];
    if (Array.isArray(v)) out.push(...v.filter(isNode));
    else if (isNode(v)) out.push(v);
  }
  return out;
}

function isNode(v: unknown): v is JNode {
  return v !== null && typeof v === 'object' && typeof (v as { typename?: unknown }).typename === 'string';
}

/** Runs a check; its error says where in the text (nunjucks counts lines and columns from 0). */
function atNode(n: JNode, check: () => void): void {
  try {
    check();
  } catch (e) {
    throw new Error(`${(e as Error).message} at line ${n.lineno + 1}, column ${n.colno + 1}`);
  }
}

/** The root variable names a parse tree reads, and those of the templates it includes (`finder`: where
 *  they are; without it an include is an error). */
export function freeVars(tree: JNode, finder?: TemplateFinder): string[] {
  const out = new Set<string>();
  const bound = new Set<string>();
  setTargets(tree, bound);
  const visit = (n: JNode | null | undefined, scope: Set<string>): void => {
    if (!n) return;
    switch (n.typename) {
      case 'Symbol': {
        const name = String(n.value);
        if (!scope.has(name) && !NOT_VARIABLES.has(name) && !PROVIDED.has(name)) out.add(name);
        return;
      }
      case 'Literal':
      case 'TemplateData':
        return;
      case 'LookupVal':
        visit(n.target, scope);
        if (n.val?.typename !== 'Literal') visit(n.val, scope);
        return;
      case 'Is': {
        const test = testOf(n.right!);
        atNode(n, () => checkTest(test.name));
        if (!OPTIONAL_TESTS.has(test.name)) visit(n.left, scope);
        test.args.forEach((a) => visit(a, scope));
        return;
      }
      case 'Filter': {
        const name = filterName(String(n.name?.value));
        atNode(n, () => checkFilter(name));
        const [input, ...args] = n.args?.children ?? [];
        if (!OPTIONAL_FILTERS.has(name)) visit(input, scope);
        args.forEach((a) => visit(a, scope));
        return;
      }
      case 'FunCall': {
        const callee = n.name!;
        const isGlobal = callee.typename === 'Symbol' && Object.hasOwn(GLOBALS, String(callee.value));
        if (callee.typename === 'LookupVal') visit(callee.target, scope);
        else if (!isGlobal) visit(callee, scope);
        (n.args?.children ?? []).forEach((a) => visit(a, scope));
        return;
      }
      case 'KeywordArgs':
        (n.children ?? []).forEach((pair) => visit(pair.value as JNode, scope));
        return;
      case 'For': {
        visit(n.arr, scope);
        const inner = new Set(scope);
        const targets = n.name?.typename === 'Array' ? (n.name.children ?? []) : [n.name!];
        for (const t of targets) inner.add(String(t.value));
        inner.add('loop');
        visit(n.body, inner);
        visit(n.else_, scope);
        return;
      }
      case 'Set':
        visit(n.value as JNode | undefined, scope);
        visit(n.body, scope);
        return;
      case 'Macro': {
        const { names, defaults } = macroParams(n);
        const inner = new Set([...scope, ...names]);
        for (const d of defaults.values()) visit(d, inner);
        visit(n.body, inner);
        return;
      }
      case 'Include':
        withInclude(n, finder, (included) => {
          const inner = new Set(scope);
          setTargets(included, inner);
          visit(included, inner);
        });
        return;
      default:
        if (UNSUPPORTED.has(n.typename))
          throw new Error(`"${n.typename.toLowerCase()}" is not supported in rmqplay templates (line ${n.lineno + 1})`);
        childNodes(n).forEach((c) => visit(c, scope));
    }
  };
  visit(tree, bound);
  return [...out];
}
