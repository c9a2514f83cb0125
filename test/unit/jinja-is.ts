// Jinja's tests as Jinja parses them (issue 9): a test's one argument written without parentheses
// (`when: item is in allowed`, `x is not divisibleby 3`), and `is` read at the filter level, tighter than
// arithmetic and comparisons. The expected values are what ansible-playbook 2.14 (Jinja 3.1) printed for
// each with `debug: msg="{{ ... }}"`; where ansible-playbook is installed, the test asks it again.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderString } from '../../dist/lib/language/template.js';
import { evalExpr, exprVars } from '../../dist/lib/language/expr.js';

const vars = { item: 'b', allowed: ['a', 'b'], s: 'hello', d: { k: 1 } };
const ERROR = 'error';

/** An expression and what Ansible makes of `{{ expression }}` (ERROR: a templating error). */
const CASES: [string, unknown][] = [
  ['item is in allowed', true],
  ['item is not in allowed', false],
  ["'x' is in allowed", false],
  ["'ell' is in s", true],
  ["'k' is in d", true],
  ['not item is in allowed', false],
  ['item is in(allowed)', true],
  ['item is not in(allowed)', false],
  ['item is in allowed and true', true],
  ['item is in allowed or false', true],
  ['item is in allowed | list', ERROR],
  ["item is in ['b']", true],
  ['item is in allowed == true', true],
  ['item is in allowed ~ "x"', 'Truex'],
  ["'a' if item is in allowed else 'z'", 'a'],
  ['item is in d.keys()', false],
  ["'b' is in allowed[1]", true],
  ['item is string and item is in allowed', true],
  ['item is in allowed is true', true],
  ['item is defined is true', ERROR],
  ['item is not', ERROR],
  ['x is defined', false],
  ['item is none', false],
  ['1 + 1 is number', 2],
  ["item is eq 'and'", false],
  ['3 is divisibleby 3', true],
  ['4 is not divisibleby 3', true],
  ['true is true', true],
  ['d.k is sameas 1', true],
  ["allowed | select('in', ['b']) | list", ['b']],
];

function ours(expr: string): unknown {
  try {
    return renderString(`{{ ${expr} }}`, vars);
  } catch {
    return ERROR;
  }
}

/** Ansible's templar gives a computed number as its text ("2"); rmqplay keeps the number. */
function same(mine: unknown, theirs: unknown): boolean {
  if (typeof mine === 'number' && typeof theirs === 'string') return String(mine) === theirs;
  return JSON.stringify(mine) === JSON.stringify(theirs);
}

t.test('tests with one argument without parentheses, and their precedence, as Jinja reads them', async (t) => {
  for (const [expr, want] of CASES) t.same(ours(expr), want, expr);
  t.equal(evalExpr('item is in allowed', vars), true, 'when: item is in allowed');
  t.equal(evalExpr('item is not in allowed', vars), false, 'when: item is not in allowed');
  t.same(exprVars('item is in allowed'), ['item', 'allowed'], 'both sides are read (checked before connecting)');
  t.same(exprVars('x is defined and y is in z'), ['y', 'z'], 'defined still guards its name');
  t.throws(() => renderString('{{ item is defined is true }}', vars), /You cannot chain multiple tests with is/);
  t.throws(() => renderString('{{ item is not }}', vars), /expected a test name after "is"/);
});

t.test('the same values as ansible-playbook', async (t) => {
  const version = spawnSync('ansible-playbook', ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) {
    t.skip('ansible-playbook is not installed (apt-get install ansible-core): no comparison');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-jinja-is-'));
  const tasks = CASES.map(([expr]) => ({ debug: { msg: `{{ ${expr} }}` }, ignore_errors: true }));
  const play = [{ hosts: 'localhost', gather_facts: false, vars, tasks }];
  writeFileSync(join(dir, 'play.yml'), JSON.stringify(play));
  const r = spawnSync('ansible-playbook', ['-i', 'localhost,', '-c', 'local', join(dir, 'play.yml')], {
    encoding: 'utf8',
    env: { ...process.env, ANSIBLE_STDOUT_CALLBACK: 'json', ANSIBLE_NOCOLOR: '1' },
  });
  t.equal(r.status, 0, r.stderr);
  const results = (
    JSON.parse(r.stdout) as { plays: { tasks: { hosts: Record<string, { failed?: boolean; msg?: unknown }> }[] }[] }
  ).plays[0].tasks.map((task) => task.hosts.localhost);
  t.equal(results.length, CASES.length, 'one result per expression');
  CASES.forEach(([expr], i) => {
    const theirs = results[i].failed ? ERROR : results[i].msg;
    t.ok(same(ours(expr), theirs), `${expr}: rmqplay ${JSON.stringify(ours(expr))}, Ansible ${JSON.stringify(theirs)}`);
  });
});
