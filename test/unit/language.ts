// YAML positions, templating, conditions, rabbitmq.conf key checks and secret masking.
import t from 'tap';
import { loadYaml, posOf, posAtPath } from '../../dist/lib/language/yaml.js';
import { lazyVars, renderString, renderTemplate, templateVars } from '../../dist/lib/language/template.js';
import { evalExpr, exprVars } from '../../dist/lib/language/expr.js';
import { unknownKeys } from '../../dist/lib/modules/rabbitmq/rabbitconf.js';
import { addSecret, redact } from '../../dist/lib/util/secrets.js';
import { batches } from '../../dist/lib/core/scheduler.js';
import { q } from '../../dist/lib/connection/quote.js';

t.test('YAML keeps file:line:column of mappings, keys and items', async (t) => {
  const doc = loadYaml(
    '- hosts: all\n  tasks:\n    - name: a\n      file: { path: /x }\n    - debug: {}\n',
    'pb.yml',
  ) as any[];
  t.same(posOf(doc[0].tasks[0]), { file: 'pb.yml', line: 3, column: 7 });
  t.same(posOf(doc[0].tasks[0], 'file'), { file: 'pb.yml', line: 4, column: 7 });
  t.same(posAtPath(doc, [0, 'tasks', 1, 'debug']), { file: 'pb.yml', line: 5, column: 7 });
  t.throws(() => loadYaml('a: [1', 'x.yml'), /x\.yml:1:\d+: YAML syntax error/);
});

t.test('templates: noEscape, whole values, strict variables', async (t) => {
  t.equal(renderString('{{ pw }}', { pw: 'a&b<c>' }), 'a&b<c>', 'no HTML escaping');
  t.equal(renderString('x={{ pw }}', { pw: 'a&b' }), 'x=a&b');
  t.same(renderString('{{ ports }}', { ports: [1, 2] }), [1, 2], 'a single {{ x }} yields the value itself');
  t.same(renderString("{{ groups['rabbitmq'] }}", { groups: { rabbitmq: ['n1'] } }), ['n1'], "x['y'] reads like Jinja");
  t.equal(
    renderString('{{ a }}', lazyVars({ a: '{{ b }}-x', b: 'deep' }, new Set())),
    'deep-x',
    'variables that hold templates are rendered in turn',
  );
  t.throws(() => renderString('x {{ nope }}', {}), /nope/);
  t.same(templateVars('{{ a }} {% for i in list %}{{ i.x }} {{ i.other }}{% endfor %} {{ b | join(",") }}').sort(), [
    'a',
    'b',
    'list',
  ]);
  t.equal(
    renderTemplate('{{#each (lookup groups g)}}{{short this}};{{/each}}', { groups: { r: ['n1.x', 'n2'] }, g: 'r' }),
    'n1;n2;',
  );
});

t.test('conditions: a small language, no eval', async (t) => {
  const v = { a: 1, s: 'x', l: [1, 2], r: { rc: 0, stdout: 'ok', changed: true }, yes: true };
  for (const [e, want] of [
    ['a == 1', true],
    ['a != 1', false],
    ['s in ["x", "y"]', true],
    ['3 not in l', true],
    ['l | length > 1', true],
    ['r.rc == 0 and r.stdout == "ok"', true],
    ["r['stdout'] == 'ok'", true],
    ['not yes', false],
    ['missing is defined', false],
    ['missing is not defined', true],
    ['r is changed', true],
    ['(a > 0) or missing', true],
    ['a >= 2', false],
  ] as [string, boolean][])
    t.equal(evalExpr(e, v), want, e);
  t.throws(() => evalExpr('missing == 1', v), /undefined/);
  t.throws(() => evalExpr('process.exit(1)', v), /unexpected|undefined/);
  t.same(exprVars('a == 1 and b is defined and c.d in e').sort(), ['a', 'c', 'e']);
});

t.test('rabbitmq.conf keys against schema mappings', async (t) => {
  const maps = [
    'cluster_name',
    'listeners.tcp.$name',
    'cluster_formation.aws.secret_key',
    'cluster_formation.aws.instance_tags.$name',
    'cluster_formation.classic_config.nodes.$node',
    'cluster_formation.aws.access_key_id',
  ];
  t.same(
    unknownKeys(
      '# c\ncluster_name = x\nlisteners.tcp.default = 5672\ncluster_formation.aws.instance_tags.env = prod\n',
      maps,
    ),
    [],
  );
  const bad = unknownKeys('cluster_name = x\ncluster_formation.aws.secret_access_key = s\naws.tag.env = prod\n', maps);
  t.same(
    bad.map((b) => [b.key, b.line]),
    [
      ['cluster_formation.aws.secret_access_key', 2],
      ['aws.tag.env', 3],
    ],
  );
  t.equal(bad[0].suggestion, 'cluster_formation.aws.secret_key', 'nearest valid key');
});

t.test('secrets are masked', async (t) => {
  addSecret('hunter2-cookie');
  t.equal(redact('cookie is hunter2-cookie!'), 'cookie is ********!');
});

t.test('serial batches and shell quoting', async (t) => {
  t.same(batches(['a', 'b', 'c'], [1]), [['a'], ['b'], ['c']]);
  t.same(batches(['a', 'b', 'c', 'd'], ['50%']), [
    ['a', 'b'],
    ['c', 'd'],
  ]);
  t.same(batches(['a', 'b', 'c'], [1, 2]), [['a'], ['b', 'c']]);
  t.same(batches(['a', 'b'], undefined), [['a', 'b']]);
  t.equal(q("it's"), `'it'\\''s'`);
  t.equal(q('/plain/path'), '/plain/path');
});
