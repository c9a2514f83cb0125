// Conditions (when, changed_when, failed_when, until, assert's that) are Jinja expressions, the same
// language as {{ }} in playbook strings: `a == 1 and b is defined`, `x in list`, `list | length > 2`,
// `r.stdout.startswith('ok')`. Evaluated on nunjucks' parse tree by jinja.ts: no eval, no prototypes.
import { evaluate, parseExpression, Scope } from './jinja.js';
import { freeVars } from './jinja-vars.js';
import { strict, truthy, Undefined } from './values.js';

const TRUE_WORDS = /^(true|yes|on|y|1)$/i;
const FALSE_WORDS = /^(false|no|off|n|0|)$/i;

const WRAPPED = /^\s*\{\{[\s\S]*\}\}\s*$/;

/** A condition's result as a real boolean, with Python's truth as `{% if %}` has it ('no' is a non-empty
 *  string: true). A condition written as "{{ ... }}" is templated first in Ansible and its text read
 *  again: here a result that spells a boolean ("False", "yes") counts as that boolean, and nothing is
 *  read as an expression a second time (a host's output is data). */
export function evalExpr(src: string | boolean, vars: Record<string, unknown>): boolean {
  if (typeof src === 'boolean') return src;
  const text = String(src);
  const value = strict(evaluate(parseExpression(text), new Scope(vars)));
  if (typeof value === 'string' && WRAPPED.test(text)) {
    const word = value.trim();
    if (TRUE_WORDS.test(word)) return true;
    if (FALSE_WORDS.test(word)) return false;
  }
  return truthy(value);
}

/** An expression's value (debug's `var`, which Ansible templates as "{{ var }}"); undefined when a name or
 *  attribute it reads does not exist. */
export function exprValue(src: string, vars: Record<string, unknown>): unknown {
  const value = evaluate(parseExpression(src), new Scope(vars));
  return value instanceof Undefined ? undefined : value;
}

/** Root variable names an expression reads, for the strict check before connecting.
 *  Names under "is defined" / "is not defined" and "| default(...)" are not required. */
export function exprVars(src: string | boolean): string[] {
  if (typeof src === 'boolean') return [];
  return freeVars(parseExpression(String(src)));
}
