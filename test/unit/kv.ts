// Free-form k=v arguments split as Ansible's splitter.py splits them: Ansible's own test cases
// (test/units/parsing/test_splitter.py), and, where ansible-core is installed, its splitter itself.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeFormArgs, parseKv, splitArgs } from '../../dist/lib/language/kv.js';
import { PYTHON, rmqplay } from '../helpers.js';

type Case = [string, string[], Record<string, string>];
const cases = JSON.parse(readFileSync('test/fixtures/yaml/splitter-cases.json', 'utf8')) as {
  split: Case[];
  extra: Case[];
  checkRaw: [string, Record<string, string>][];
  errors: string[];
  indexErrors: string[];
};

t.test("Ansible's splitter cases: split_args and parse_kv", async (t) => {
  for (const [input, words, kv] of [...cases.split, ...cases.extra]) {
    t.same(splitArgs(input), words, `split ${JSON.stringify(input)}`);
    t.same(parseKv(input), kv, `parse_kv ${JSON.stringify(input)}`);
  }
  for (const [input, kv] of cases.checkRaw) t.same(parseKv(input, true), kv, `command line ${input}`);
  for (const input of cases.errors) t.throws(() => splitArgs(input), /unbalanced jinja2 block or quotes/, input);
  for (const input of cases.indexErrors) {
    t.throws(() => splitArgs(input), /Unable to parse argument string/, JSON.stringify(input));
    t.throws(() => parseKv(input), /Unable to parse argument string/, JSON.stringify(input));
  }
});

const PYSPLIT = `
import json, sys
from ansible.parsing.splitter import parse_kv, split_args
out = []
for c in json.load(sys.stdin):
    try:
        out.append([split_args(c), parse_kv(c), parse_kv(c, check_raw=True)])
    except Exception:
        out.append('error')
print(json.dumps(out))
`;

t.test("the same words as the installed ansible-core's splitter", async (t) => {
  const inputs = [
    ...[...cases.split, ...cases.extra].map((c) => c[0]),
    ...cases.errors,
    ...cases.indexErrors,
    '\\\\ ',
    '\\',
    'x \\',
    'a={{ x\n }}',
    'a={% if x %}\nb\n{% endif %}',
    "a='{{ x\n' b=c",
    'a="x\n  y"',
    ' \n',
    'a=b\n',
    'a=b\n\n c=d',
    'a="b"c d="e\\"',
    'k=\u00a0v\u00a0 \u001cw=1\u001c x=\ufeffy',
    'a=\u00a0\ufeff\u00a0x\u2003 b=\u0085y',
    'echo hi chdir=/tmp creates=/x',
    'path=C:\\temp\\new k=\\=v',
    '=x a=b',
    'a\\=b=c',
    'a=b \\\n c=d',
    'cmd=ls -la',
    'key = value',
    "a='b c' d=\"e 'f' g\"",
    '{% if x %}a=1{% endif %} b=2',
    'x="\\u00e9\\x41\\t"',
  ];
  const r = spawnSync(PYTHON, ['-c', PYSPLIT], { input: JSON.stringify(inputs), encoding: 'utf8' });
  if (r.status !== 0 && /No module named 'ansible'/.test(r.stderr)) {
    t.skip(`ansible-core is not installed for ${PYTHON} (apt-get install ansible-core): no comparison`);
    return;
  }
  t.equal(r.status, 0, r.stderr);
  const theirs = JSON.parse(r.stdout) as unknown[];
  t.equal(theirs.length, inputs.length, 'every input compared');
  inputs.forEach((input, i) => {
    let ours: unknown;
    try {
      ours = [splitArgs(input), parseKv(input), parseKv(input, true)];
    } catch {
      ours = 'error';
    }
    t.same(ours, theirs[i], JSON.stringify(input));
  });
});

t.test('free-form task arguments: a command line, or k=v only', async (t) => {
  t.same(freeFormArgs('ls -l chdir=/tmp', 'cmd'), { chdir: '/tmp', cmd: 'ls -l' });
  t.same(freeFormArgs('echo a=b "c d"', 'cmd'), { cmd: 'echo a=b "c d"' }, 'other k=v words stay in the command');
  t.same(freeFormArgs('set -e\nfoo {{ x }}\n', 'cmd'), { cmd: 'set -e\nfoo {{ x }}\n' }, 'a script as written');
  t.same(freeFormArgs('name={{ item }} update_cache=yes'), { name: '{{ item }}', update_cache: 'yes' });
  t.throws(() => freeFormArgs('/srv/a state=directory'), /"\/srv\/a" is not a key=value argument/);
  t.throws(() => freeFormArgs('{{ args }}'), /arguments from a template .* are not supported/);
  t.throws(() => freeFormArgs('msg="unclosed'), /unbalanced jinja2 block or quotes/);
  t.same(Object.getPrototypeOf(parseKv('__proto__=x')), Object.prototype, 'a key never changes the prototype');
});

t.test('-e KEY=VALUE words split as parse_kv splits them', async (t) => {
  const out = join(mkdtempSync(join(tmpdir(), 'rmqplay-kv-')), 'out');
  const pb = ['test/fixtures/yaml/extra-vars.yml', '-i', 'test/fixtures/local/inventory.ini'];
  const r = rmqplay([...pb, '-e', `out=${out} a="say \\"hi\\" there"  b='x=1 y'`]);
  t.equal(r.status, 0, r.stderr);
  t.equal(readFileSync(out, 'utf8'), 'say "hi" there|x=1 y\n');
  const lonely = rmqplay([...pb, '-e', `out=${out}`, '-e', 'lonely']);
  t.equal(lonely.status, 5, 'a word that is not KEY=VALUE is a bad option');
  t.match(lonely.stderr, /-e lonely: expected KEY=VALUE or @FILE/);
  const unclosed = rmqplay([...pb, '-e', 'a="x']);
  t.equal(unclosed.status, 5);
  t.match(unclosed.stderr, /unbalanced jinja2 block or quotes/);
});
