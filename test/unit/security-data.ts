// Issue 8, point 1: data is never code. What hosts print, registered results, set_fact values made from
// them and JSON extra vars are never rendered as templates; no helper reaches a prototype; keys named
// __proto__ stay plain keys. Run on the local host through the CLI.
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderString, renderTemplate, lazyVars } from '../../dist/lib/language/template.js';
import { rmqplay } from '../helpers.js';

const INV = 'test/fixtures/local/inventory.ini';
const MARKER = join(tmpdir(), 'rmqplay-pwned-marker');

t.test('a host that prints templates gets the same text back, never a secret', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'rmqplay-data-'));
  const r = rmqplay(['test/fixtures/security/data-not-code.yml', '-i', INV, '-e', `out=${out}`]);
  t.equal(r.status, 0, r.stdout.slice(-1500));
  const echoed = readFileSync(join(out, 'echoed'), 'utf8');
  t.match(echoed, /^\{\{ db_password \}\}$/m, 'the printed template came back as text');
  t.notMatch(echoed, /s3cr3t-db-pw/, 'the secret was not rendered into it');
  t.match(echoed, /^\{\{lookup_var \(lookup_var this "constructor"\) "prototype"\}\}$/m);
  t.equal(readFileSync(join(out, 'relayed'), 'utf8'), echoed, 'set_fact keeps it data');
  t.notOk(existsSync(MARKER), 'nothing ran on the controller');
  t.equal(({} as Record<string, unknown>).polluted, undefined);
});

t.test('JSON extra vars are data; KEY=VALUE extra vars are templates', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'rmqplay-data-'));
  const json = JSON.stringify({ from_json: '{{ out }}' });
  const r = rmqplay([
    'test/fixtures/security/json-extra.yml',
    '-i',
    INV,
    '-e',
    `out=${out}`,
    '-e',
    json,
    '-e',
    'from_kv={{out}}',
  ]);
  t.equal(r.status, 0, r.stdout.slice(-1500));
  t.equal(readFileSync(join(out, 'extra'), 'utf8'), `{{ out }}|${out}\n`);
});

t.test('.hbs templates: no helper reaches a prototype; default never hands out Handlebars internals', async (t) => {
  const vars = lazyVars({ x: {}, s: 'text' }, new Set());
  const hbs = (text: string, v = vars) => renderTemplate(text, v, 'x.hbs');
  t.equal(hbs('[{{lookup_var x "constructor"}}]'), '[]', 'lookup_var reads own properties only');
  t.equal(hbs('[{{lookup_var (lookup_var s "constructor") "prototype"}}]'), '[]');
  t.throws(() => hbs('{{default x}}'), /default takes a value and a default/);
  t.throws(() => hbs('{{log "x"}}'), /log helper is not available/, 'no log helper (it wrote to stdout)');
  t.equal(hbs('{{default nope.x "d"}}', lazyVars({ nope: {} }, new Set())), 'd');
});

t.test('Jinja playbook strings reach no prototype either', async (t) => {
  const vars = lazyVars({ x: {}, s: 'text' }, new Set());
  for (const expr of ['{{ x.constructor }}', '{{ s.__proto__ }}', '{{ x["constructor"] }}']) {
    let out: unknown;
    try {
      out = renderString(expr, vars);
    } catch {
      out = undefined;
    }
    t.notOk(typeof out === 'function' || (out && typeof out === 'object'), `${expr} yields nothing usable`);
  }
});

t.test('data stays data even when read through a lazy variable', async (t) => {
  const data = { out: 'I print {{ secret }}' };
  const vars = lazyVars({ secret: 'pw', echo: '{{ out }}', ...data }, new Set(['out']));
  t.equal(renderString('{{ echo }}', vars), 'I print {{ secret }}');
  t.equal(renderString('say {{ out }}', vars), 'say I print {{ secret }}');
});

t.test('!unsafe text is never rendered and reads no variable', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'rmqplay-data-'));
  const r = rmqplay(['test/fixtures/security/unsafe.yml', '-i', INV, '-e', `out=${out}`]);
  t.equal(r.status, 0, r.stderr + r.stdout.slice(-1500));
  t.equal(readFileSync(join(out, 'unsafe'), 'utf8'), '{{ not_a_variable }} {% raw %}|');
  t.equal(readFileSync(join(out, 'unsafe2'), 'utf8'), '{{ also_literal }}');
});
