// Jinja in playbook strings, conditions and .j2 templates (issue 9). The expressions and their values in
// test/fixtures/jinja/expressions.json were checked against ansible-core 2.14's own templar (all equal).
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lazyVars, renderString, renderTemplate, templateVars } from '../../dist/lib/language/template.js';
import { evalExpr, exprVars } from '../../dist/lib/language/expr.js';
import { rmqplay } from '../helpers.js';

const cases = JSON.parse(readFileSync('test/fixtures/jinja/expressions.json', 'utf8')) as {
  vars: Record<string, unknown>;
  values: [string, unknown][];
  conditions: [string, boolean][];
};

t.test('expressions, filters, tests, methods and lookups give what Ansible gives', async (t) => {
  const vars = lazyVars(cases.vars, new Set());
  for (const [text, want] of cases.values) {
    let got: unknown;
    try {
      got = renderString(text, vars);
    } catch (e) {
      got = `ERROR ${(e as Error).message}`;
    }
    // Ansible's templar returns numbers computed by an expression as text; rmqplay keeps the number.
    t.same(got, want, text);
  }
  for (const [cond, want] of cases.conditions) t.equal(evalExpr(cond, vars), want, `when: ${cond}`);
});

t.test('one {{ x }} is the value itself; text around it makes a string', async (t) => {
  const vars = { ports: [1, 2], n: 5, none: null };
  t.same(renderString('{{ ports }}', vars), [1, 2]);
  t.equal(renderString('{{ n }}', vars), 5);
  t.equal(renderString(' {{ n }}', vars), ' 5');
  t.equal(renderString('{{ none }}', vars), null);
  t.equal(renderString('a{{ none }}b', vars), 'ab', 'None writes nothing, as in Ansible');
  t.equal(renderString('no template', vars), 'no template');
  t.equal(renderString('{{ ports | version_compare("1", ">") if false else "x" }}', vars), 'x');
});

t.test('backslashes in literals as Ansible reads them', async (t) => {
  const vars = { v: 'a1.b' };
  t.equal(renderString("{{ v | regex_replace('\\d', '#') }}", vars), 'a#.b', 'playbook {{ }}: as written');
  t.equal(renderString("{{ 'x\\ny' }}", vars), 'x\\ny', 'playbook {{ }}: \\n stays two characters');
  t.equal(evalExpr("v is match('a\\d\\.')", vars), true, 'conditions: Python escapes, unknown ones kept');
  t.equal(renderTemplate("{{ 'x\\ty' }}", vars, 'f.j2'), 'x\ty', 'templates: Python escapes');
});

t.test('undefined is strict and names the variable; default and defined accept it', async (t) => {
  t.throws(() => renderString('x {{ nope }}', {}), /"nope" is undefined/);
  t.throws(() => renderString('{{ d.nope }}', { d: { a: 1 } }), /has no attribute "nope"/);
  t.throws(() => evalExpr('nope == 1', {}), /"nope" is undefined/);
  t.throws(() => renderString('{{ nope | length }}', {}), /"nope" is undefined/);
  t.equal(renderString('{{ d.nope.deeper | default("x") }}', { d: {} }), 'x');
  t.equal(evalExpr('d.nope is defined', { d: {} }), false);
  t.throws(() => renderString('{{ nope | mandatory("set nope") }}', {}), /set nope/);
  t.equal(evalExpr('{{ flag }}', { flag: 'False' }), false, 'a templated condition that spells False');
  t.equal(evalExpr('flag', { flag: 'no' }), true, "a bare non-empty string is true, as {% if 'no' %}");
});

t.test('errors say what is wrong and where', async (t) => {
  t.throws(() => renderString('{{ x', { x: 1 }), /Jinja syntax error .*expected variable end.*not closed/);
  t.throws(() => renderString('{{ x | lenght }}', { x: [] }), /unknown filter "lenght" \(did you mean "length"\?\)/);
  t.throws(() => templateVars('a\n{{ x | lenght }}'), /unknown filter "lenght".* at line 2, column 8/);
  t.throws(() => exprVars('x is defind'), /unknown test "defind" \(did you mean "defined"\?\)/);
  t.throws(() => templateVars('a\n\n{% endfro %}', 'x.j2'), /line 3, column \d+: unknown block tag: endfro/);
  t.throws(() => templateVars('{% if a %}\nx\n', 'x.j2'), /at the end \(line 3\): expected elif, else, or endif/);
  t.throws(() => templateVars('{% extends "other.j2" %}', 'x.j2'), /"extends" is not supported/);
  t.throws(() => templateVars('{% include "other.j2" %}', 'x.j2'), /template "other.j2" not found beside x.j2/);
  t.throws(() => renderString('{{ "a".nomethod() }}', {}), /str has no method "nomethod"/);
  t.throws(() => renderString("{{ lookup('nope', 'x') }}", {}), /unknown lookup "nope"/);
});

t.test('free variables: what is read, not what loops and set bind, not what default or defined guard', async (t) => {
  const text =
    '{% for h in hosts %}{{ hostvars[h].ip }}{{ loop.index }}{% endfor %}{% set z = 1 %}{{ z }}' +
    '{{ opt | default(1) }}{{ maybe is defined }}{{ range(n) | list }}{{ lookup("env", home) }}{{ d.keys() }}';
  t.same(templateVars(text).sort(), ['d', 'home', 'hosts', 'hostvars', 'n']);
  t.same(exprVars("a == 1 and b is defined and c.d in e and f | default(0) > 1 and 'x'.startswith(g)").sort(), [
    'a',
    'c',
    'e',
    'g',
  ]);
  t.same(templateVars('{{ ansible_managed }} {{ x }}', 'f.j2'), ['x'], 'ansible_managed is provided');
  t.same(templateVars('{{#each list}}{{ this }}{{/each}}', 'f.hbs'), ['list'], '.hbs is still Handlebars');
});

t.test('no prototype is reached and no code runs', async (t) => {
  const vars = lazyVars({ x: {}, s: 'text', l: [1] }, new Set());
  for (const text of [
    '{{ x.constructor }}',
    "{{ ''.__proto__ }}",
    '{{ s.constructor }}',
    "{{ x['__proto__'] }}",
    '{{ l.constructor.constructor }}',
    '{{ constructor }}',
    '{{ __proto__ }}',
    '{{ range.constructor }}',
  ])
    t.throws(() => renderString(text, vars), /undefined|no attribute/, `${text} yields nothing usable`);
  t.throws(() => renderString("{{ range.constructor('return process')() }}", vars), /not a function|undefined/);
  t.throws(() => renderString("{{ s.constructor('return 1')() }}", vars), /no method|undefined|not a function/);
  t.throws(() => renderString('{{ x | constructor }}', vars), /unknown filter "constructor"/);
  t.throws(() => renderString('{{ x is constructor }}', vars), /unknown test "constructor"/);
  t.throws(() => renderString('{{ s.toString() }}', vars), /no method "toString"/);
  t.equal(renderString('{{ d.__proto__.a }}', { d: JSON.parse('{"__proto__": {"a": 7}}') }), 7, 'an own key is data');
  t.equal(({} as Record<string, unknown>).a, undefined, 'nothing polluted');
  t.same(renderString('{{ {"__proto__": 1} }}', vars), JSON.parse('{"__proto__": 1}'), 'a literal key stays a key');
});

t.test('data stays data: a rendered value is never rendered again', async (t) => {
  const vars = lazyVars({ secret: 'pw', echo: '{{ out }}', out: 'I print {{ secret }}' }, new Set(['out']));
  t.equal(renderString('{{ echo }}', vars), 'I print {{ secret }}');
  t.equal(renderString('say {{ out }} {{ out | upper }}', vars), 'say I print {{ secret }} I PRINT {{ SECRET }}');
  t.equal(renderString("{{ lookup('vars', 'out') }}", vars), 'I print {{ secret }}');
  t.equal(renderTemplate('{% set a = out %}{{ a }}', vars, 'f.j2'), 'I print {{ secret }}');
});

t.test('.j2 templates: loops, set, raw, comments, whitespace control, trim_blocks', async (t) => {
  const text = [
    '# {{ ansible_managed }}',
    '{# comment #}',
    '{% for p in ports %}',
    '{{ loop.index }}/{{ loop.length }} {{ p }}{% if loop.first %} first{% endif %}{% if loop.last %} last{% endif %}',
    '',
    '{% endfor %}',
    '{% set n = ports | length %}',
    'n={{ n }}',
    '{% raw %}{{ kept }}{% endraw %}',
    'x {{- " y" }}',
    '',
  ].join('\n');
  const want = '# Ansible managed\n1/2 80 first\n2/2 443 last\nn=2\n{{ kept }}x y\n';
  t.equal(renderTemplate(text, { ports: [80, 443] }, 'app.conf.j2'), want);
  t.equal(renderTemplate('{{#each l}}{{this}};{{/each}}', { l: [1, 2] }, 'a.hbs'), '1;2;', '.hbs stays Handlebars');
});

t.test('a playbook in Jinja runs locally; with ansible-playbook installed, its files are the same', async (t) => {
  const ours = mkdtempSync(join(tmpdir(), 'rmqplay-jinja-'));
  const inv = 'test/fixtures/local/inventory.ini';
  const r = rmqplay(['test/fixtures/jinja/playbook.yml', '-i', inv, '-e', `out=${ours}`]);
  t.equal(r.status, 0, r.stdout.slice(-1500) + r.stderr);
  t.match(readFileSync(join(ours, 'strings'), 'utf8'), /^HELLO DEMO 2 5672,15672\n\["a", "b", "c"\] env\+tier\n/);
  t.ok(existsSync(join(ours, 'when-true')), 'every condition held');
  t.notOk(existsSync(join(ours, 'when-false')), 'the false condition skipped its task');
  const ansible = spawnSync('ansible-playbook', ['--version'], { encoding: 'utf8' });
  if (ansible.status !== 0) {
    t.skip('ansible-playbook is not installed');
    return;
  }
  const theirs = mkdtempSync(join(tmpdir(), 'ansible-jinja-'));
  execFileSync('ansible-playbook', ['-i', inv, 'test/fixtures/jinja/playbook.yml', '-e', `out=${theirs}`], {
    encoding: 'utf8',
    env: { ...process.env, ANSIBLE_NOCOLOR: '1' },
  });
  for (const f of ['app.conf', 'strings', 'when-true'])
    t.equal(readFileSync(join(ours, f), 'utf8'), readFileSync(join(theirs, f), 'utf8'), `${f} as Ansible writes it`);
});
