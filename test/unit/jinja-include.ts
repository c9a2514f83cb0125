// .j2 templates with {% macro %} and {% include %} (issue 9): included templates are found where Ansible's
// template module looks (the role's templates/, the playbook's templates/, beside the including file),
// render with the including template's variables, and are checked before any connection like it. The
// expected files are what ansible-playbook 2.14 wrote; where it is installed, the test asks it again.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderTemplate, templateVars } from '../../dist/lib/language/template.js';
import { rmqplay } from '../helpers.js';

const DIR = 'test/fixtures/jinja-include';
const INV = 'test/fixtures/local/inventory.ini';
const WANT: Record<string, string> = {
  'site.conf': [
    '# Ansible managed',
    'upstream APP {',
    '  # 1 a.example',
    '  # 2 b.example',
    // Jinja drops an included file's last newline, and trim_blocks the one after {% include %}.
    '}server a.example:8080',
    'server b.example:80',
    'server backup:80 backup weight=3',
    "# footer from the playbook's templates/, 2 backendsend",
    '',
  ].join('\n'),
  'page.html': "<ul>\n<li>a.example</li><li>b.example</li></ul>\n# footer from the playbook's templates/, 2 backends\n",
};

t.test('macros: positional, keyword and default arguments, in the scope they were defined in', async (t) => {
  const f = '/nonexistent/x.j2';
  const m = '{% macro f(a, b=2) %}[{{ a }}-{{ b }}{{ z }}]{% endmacro %}';
  t.equal(renderTemplate(`${m}{{ f(1) }}{{ f(1, 3) }}{{ f(b=4, a=0) }}\n`, { z: '' }, f), '[1-2][1-3][0-4]\n');
  t.same(templateVars(`${m}{{ f(x) }}`, f).sort(), ['x', 'z'], 'a macro is not a variable; its arguments are bound');
  t.throws(() => renderTemplate(`${m}{{ f(1, 2, 3) }}`, { z: '' }, f), /macro "f" takes 2 argument\(s\), 3 given/);
  t.throws(() => renderTemplate(`${m}{{ f(c=1) }}`, { z: '' }, f), /macro "f" has no argument "c"/);
  t.throws(() => renderTemplate(`${m}{{ f() }}`, { z: '' }, f), /"a" is undefined \(an argument of macro "f"/);
});

t.test('includes: found beside the template, their variables read, their errors named', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-include-'));
  const main = join(dir, 'main.j2');
  writeFileSync(join(dir, 'part.j2'), '{% set p = 1 %}{{ who }} {{ p }} {{ loopvar }}\n');
  writeFileSync(join(dir, 'self.j2'), "{% include 'self.j2' %}");
  writeFileSync(join(dir, 'bad.j2'), '{% if %}');
  const text = "{% for loopvar in [1] %}<{% include 'part.j2' %}>{% endfor %}\n";
  t.equal(renderTemplate(text, { who: 'w' }, main), '<w 1 1>\n', 'with the context, loop variables included');
  t.same(templateVars(text, main), ['who'], "the included template's variables are the including one's");
  t.throws(() => templateVars("{% include 'none.j2' %}", main), /template "none.j2" not found/);
  t.throws(() => templateVars("{% include 'self.j2' %}", main), /self.j2 includes itself/);
  t.throws(() => templateVars("{% include 'bad.j2' %}", main), /in included template bad.j2 .*: Jinja syntax error/);
  t.throws(() => templateVars('{% include name %}', main), /takes a template's name as a quoted string/);
  t.throws(() => templateVars("{{ x }}{% include 'part.j2' %}"), /only for template files/);
});

t.test('a role and a playbook with macros and includes write what Ansible writes', async (t) => {
  const ours = mkdtempSync(join(tmpdir(), 'rmqplay-include-'));
  const r = rmqplay([`${DIR}/playbook.yml`, '-i', INV, '-e', `out=${ours}`]);
  t.equal(r.status, 0, r.status === 0 ? 'rmqplay ran' : r.stdout.slice(-1500) + r.stderr);
  for (const [f, want] of Object.entries(WANT)) t.equal(readFileSync(join(ours, f), 'utf8'), want, f);
  const version = spawnSync('ansible-playbook', ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) {
    t.skip('ansible-playbook is not installed (apt-get install ansible-core): no comparison');
    return;
  }
  const theirs = mkdtempSync(join(tmpdir(), 'ansible-include-'));
  const a = spawnSync('ansible-playbook', ['-i', INV, `${DIR}/playbook.yml`, '-e', `out=${theirs}`], {
    encoding: 'utf8',
    env: { ...process.env, ANSIBLE_NOCOLOR: '1' },
  });
  t.equal(a.status, 0, a.status === 0 ? 'ansible-playbook ran' : a.stdout + a.stderr);
  for (const f of Object.keys(WANT))
    t.equal(readFileSync(join(ours, f), 'utf8'), readFileSync(join(theirs, f), 'utf8'), `${f} as Ansible writes it`);
});

t.test('a variable read only in an included template is checked before any connection', async (t) => {
  const r = rmqplay([`${DIR}/playbook-undefined.yml`, '-i', INV]);
  t.equal(r.status, 4, r.stderr);
  t.match(r.stderr, /playbook-undefined\.yml:5:7: undefined variable "nowhere_defined" in template .*bad\.j2/);
  t.match(r.stderr, /Nothing was run on any host/);
});
