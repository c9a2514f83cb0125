// Conditions (when, changed_when, failed_when, until, assert's that) are Jinja expressions, the same
// language as {{ }} in playbook strings: `a == 1 and b is defined`, `x in list`, `list | length > 2`,
// `r.stdout.startswith('ok')`. Evaluated on nunjucks' parse tree by jinja.ts: no eval, no prototypes.
import { evaluate, parseExpression, Scope } from './jinja.js';
import { freeVars } from './jinja-vars.js';
import { strict, truthy } from './values.js';

const TRUE_WORDS = /^(true|yes|on|y|1)$/i;
const FALSE_WORDS = /^(false|no|off|n|0|)$/i;

/** A condition's result as a real boolean, as Ansible gives it: a string result such as "yes" or
 *  "False" (a variable holding one) counts as the boolean it spells. */
export function evalExpr(src: string | boolean, vars: Record<string, unknown>): boolean {
  if (typeof src === 'boolean') return src;
  const value = strict(evaluate(parseExpression(String(src)), new Scope(vars)));
  if (typeof value === 'string') {
    const word = value.trim();
    if (TRUE_WORDS.test(word)) return true;
    if (FALSE_WORDS.test(word)) return false;
  }
  return truthy(value);
}

/** Root variable names an expression reads, for the strict check before connecting.
 *  Names under "is defined" / "is not defined" and "| default(...)" are not required. */
export function exprVars(src: string | boolean): string[] {
  if (typeof src === 'boolean') return [];
  return freeVars(parseExpression(String(src)));
}
