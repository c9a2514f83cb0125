// YAML as Ansible reads it (PyYAML, YAML 1.1), compared value by value with PyYAML itself; `!unsafe`,
// `!vault`, flow collections PyYAML accepts; arguments converted by their declared type, and modes written
// as Ansible users write them giving the same files as ansible-playbook on this machine.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isUnsafe, loadYaml, loadYamlFile, posAtPath, posOf } from '../../dist/lib/language/yaml.js';
import { convertBySchema } from '../../dist/lib/language/convert.js';
import { argumentErrors } from '../../dist/lib/core/schema.js';
import { loadPlaybook } from '../../dist/lib/core/playbook.js';
import { file } from '../../dist/lib/modules/builtin/file.js';
import { PYTHON, rmqplay } from '../helpers.js';

// No ansible.cfg of this folder (the lab's names its vault's password file): vault values stay unreadable here.
const emptyCfg = join(mkdtempSync(join(tmpdir(), 'rmqplay-cfg-')), 'ansible.cfg');
writeFileSync(emptyCfg, '');
process.env.ANSIBLE_CONFIG = emptyCfg;

// PyYAML's reading of each file named as JSON: infinities and NaN as text, `!unsafe` as rmqplay represents it.
const PYLOAD = `
import json, math, sys, yaml
def unsafe(loader, node):
    return {'__ansible_unsafe': loader.construct_scalar(node)}
yaml.SafeLoader.add_constructor('!unsafe', unsafe)
def norm(v):
    if isinstance(v, float) and not math.isfinite(v):
        return 'nan' if math.isnan(v) else ('inf' if v > 0 else '-inf')
    if isinstance(v, dict):
        return {(str(k).lower() if isinstance(k, bool) else str(k)): norm(x) for k, x in v.items()}
    if isinstance(v, list):
        return [norm(x) for x in v]
    return v
print(json.dumps({p: norm(yaml.safe_load(open(p, encoding='utf-8'))) for p in sys.argv[1:]}, default=str))
`;

function normalize(v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  return v;
}

const hasPyYaml = spawnSync(PYTHON, ['-c', 'import yaml'], { encoding: 'utf8' }).status === 0;

/** PyYAML's reading of files, by path, in one python process. */
function pyyaml(paths: string[]): Record<string, unknown> {
  const r = spawnSync(PYTHON, ['-c', PYLOAD, ...paths], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`PyYAML could not read ${paths.join(', ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

t.test('tricky YAML 1.1 values read exactly as PyYAML reads them', async (t) => {
  const ours = normalize(loadYamlFile('test/fixtures/yaml/values.yml')) as Record<string, unknown>;
  t.equal(ours.octal, 0o644, 'unquoted 0644 is octal');
  t.equal(ours.hex, 31);
  t.same(ours.not_bools, ['y', 'Y', 'n', 'N', 't', 'f', 'yEs', 'oN', 'tRUE', 'enable', 'disabled']);
  t.equal(ours.date, '2001-12-14', 'a date stays the text written');
  if (!hasPyYaml) {
    t.skip('python3-yaml is missing (apt-get install python3-yaml): no comparison with PyYAML');
    return;
  }
  const theirs = pyyaml(['test/fixtures/yaml/values.yml'])['test/fixtures/yaml/values.yml'] as Record<string, unknown>;
  for (const key of new Set([...Object.keys(ours), ...Object.keys(theirs)]))
    t.same(ours[key], theirs[key], `${key}: as PyYAML reads it`);
});

t.test(
  'every YAML file of the repository reads as PyYAML reads it',
  { skip: !hasPyYaml && 'no python3-yaml' },
  async (t) => {
    const unreadable = ['bad-yaml.yml', 'vault.yml'];
    // Not the lab's inventory (written by lab up, maybe while this runs beside the end-to-end tests).
    const files = ['playbooks', 'inventory', 'test/fixtures']
      .flatMap((dir) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => join(dir, f)))
      .filter((f) => /\.ya?ml$/.test(f) && !unreadable.some((u) => f.endsWith(u)) && statSync(f).isFile())
      .filter((f) => f !== join('inventory', 'lab.yml'));
    t.ok(files.length > 20, `${files.length} files`);
    const theirs = pyyaml(files);
    for (const f of files) t.same(normalize(loadYamlFile(f)), theirs[f], f);
  },
);

t.test('flow collections PyYAML accepts, whatever their indentation; positions as written', async (t) => {
  const path = 'test/fixtures/yaml/vars-flow.yml';
  const v = loadYamlFile(path) as Record<string, any>;
  t.same(v.app, { name: 'web', ports: [80, 443], tls: { enabled: true } });
  t.same(posOf(v, 'after'), { file: path, line: 13, column: 1 });
  t.same(posAtPath(v, ['app', 'tls', 'enabled']), { file: path, line: 9, column: 6 });
  t.same(posOf(v.app, 'ports'), { file: path, line: 5, column: 4 }, 'the key keeps its column');
  if (hasPyYaml) t.same(normalize(v), pyyaml([path])[path], 'as PyYAML reads it');
  t.throws(() => loadYaml('a: {\n"b": [1\n}\n', 'x.yml'), /x\.yml:3:1: YAML syntax error: missed comma/);
});

t.test('!unsafe is text never rendered; !vault without its password is a clear error with file:line', async (t) => {
  const v = loadYaml('a: !unsafe "{{ x }}"\nb: !unsafe ["{{ y }}", 1, {c: "{% z %}"}]\n', 'u.yml') as any;
  t.same(v.a, { __ansible_unsafe: '{{ x }}' });
  t.ok(isUnsafe(v.a) && isUnsafe({ ...v.a }) && isUnsafe(JSON.parse(JSON.stringify(v.a))), 'survives copies and JSON');
  t.same(v.b, [{ __ansible_unsafe: '{{ y }}' }, 1, { c: { __ansible_unsafe: '{% z %}' } }], 'inside collections too');
  t.notOk(isUnsafe({ __ansible_unsafe: 'x', other: 1 }));
  t.throws(
    () => loadYamlFile('test/fixtures/yaml/vault.yml'),
    /vault\.yml:3:13: !vault: this is encrypted with ansible-vault: give its password/,
  );
  const r = rmqplay(['test/fixtures/yaml/vault.yml', '-i', 'test/fixtures/local/inventory.ini']);
  t.equal(r.status, 4, 'bad input');
  t.match(r.stderr, /vault\.yml:3:13: !vault: this is encrypted with ansible-vault: give its password/);
});

t.test('arguments converted by their declared type, as Ansible argument specs do', async (t) => {
  const schema = {
    type: 'object',
    properties: {
      flag: { type: 'boolean' },
      port: { type: 'integer' },
      ratio: { type: 'number' },
      name: { type: 'string' },
      mode: { type: ['string', 'integer'] },
      list: { type: 'array', items: { type: 'integer' } },
      either: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    },
  };
  const convert = (args: Record<string, unknown>) => convertBySchema({ ...args }, schema);
  for (const yes of ['yes', 'on', '1', 'true', 'True', 'YES', 'y', 't', 1])
    t.same(convert({ flag: yes }), { flag: true });
  for (const no of ['no', 'off', '0', 'false', 'FALSE', 'n', 'f', 0]) t.same(convert({ flag: no }), { flag: false });
  t.same(convert({ flag: 'maybe' }), { flag: 'maybe' }, 'not a boolean: left for the schema to report');
  t.same(convert({ port: '80' }), { port: 80 });
  t.same(convert({ port: ' 80 ' }), { port: 80 });
  t.same(convert({ port: '8.5' }), { port: '8.5' });
  t.same(convert({ port: 80.0 }), { port: 80 });
  t.same(convert({ ratio: '1.5' }), { ratio: 1.5 });
  t.same(convert({ name: 42, list: ['1', 2] }), { name: '42', list: [1, 2] });
  t.same(convert({ name: true }), { name: 'True' }, 'a boolean for a string is its text as Python writes it');
  t.same(convert({ mode: '0644' }), { mode: '0644' }, 'a mode stays a string');
  t.same(convert({ mode: 0o644 }), { mode: 420 }, 'or a number');
  t.same(convert({ either: [1, 'a'] }), { either: ['1', 'a'] });
  t.same(convert({ port: '{{ p }}', flag: '{% if x %}yes{% endif %}' }), {
    port: '{{ p }}',
    flag: '{% if x %}yes{% endif %}',
  });
  t.same(convert({ flag: { __ansible_unsafe: 'yes' } }), { flag: true }, 'unsafe text is a string');
  t.same(convert({ name: { __ansible_unsafe: '{{ x }}' } }), { name: { __ansible_unsafe: '{{ x }}' } });
  const rendered: Record<string, unknown> = { name: 'rabbitmq-server', enabled: 'yes', state: 'started' };
  t.same(argumentErrors('service', rendered), [], 'after rendering: "yes" is a boolean');
  t.equal(rendered.enabled, true, 'converted in place');
  const port: Record<string, unknown> = { port: '5672', timeout: 'soon' };
  t.same(argumentErrors('wait_for', port), ['"timeout": must be integer']);
  t.equal(port.port, 5672);
});

t.test('k=v and YAML arguments of every task type, converted before connecting', async (t) => {
  const pb = loadPlaybook('test/fixtures/yaml/kv-tasks.yml');
  const args = pb.plays[0].sections.flat().map((task) => [task.type, task.args]);
  t.same(args, [
    ['apt', { name: '{{ item }}', update_cache: true, cache_valid_time: 3600 }],
    ['command', { chdir: '/tmp', creates: '/tmp/x', cmd: 'ls -l' }],
    ['shell', { removes: '/tmp/z', cmd: 'echo "a=b" > /tmp/y' }],
    ['service', { name: 'rabbitmq-server', enabled: true, state: 'started' }],
    ['debug', { msg: "hello {{ inventory_hostname | default('a b') }}, it's" }],
    ['wait_for', { port: 5672, timeout: 30 }],
    ['file', { path: '/srv/a', mode: '0644', state: 'touch' }],
    ['file', { path: '/srv/b', mode: 0o644, state: 'touch' }],
  ]);
  const dir = { kind: 'directory', mode: '0755', owner: 'root', group: 'root' } as const;
  const [kv, yaml] = args.slice(-2).map(([, a]) => a as { path: string; mode: string | number; state: 'touch' });
  const modes = (a: { path: string; mode: string | number }) =>
    file.plan({ ...a, state: 'directory' }, dir).map((c: { action: string }) => c.action);
  t.same(modes(kv), [`/srv/a: mode 0755 → 0644`], 'mode=0644 in k=v is mode 0644');
  t.same(modes(yaml), [`/srv/b: mode 0755 → 0644`], 'unquoted mode: 0644 is mode 0644 too');
  const bad = rmqplay(['test/fixtures/yaml/kv-bad.yml', '-i', 'test/fixtures/local/inventory.ini']);
  t.equal(bad.status, 4);
  t.match(bad.stderr, /kv-bad\.yml:4:7: file: "\/srv\/a" is not a key=value argument/);
});

/** Mode (octal text) and content of every file under a folder, by relative path. */
function snapshot(base: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(base, { recursive: true, encoding: 'utf8' }).sort()) {
    const st = statSync(join(base, f));
    const mode = (st.mode & 0o7777).toString(8);
    out[f] = st.isDirectory() ? `dir ${mode}` : `${mode} ${readFileSync(join(base, f), 'utf8')}`;
  }
  return out;
}

const hasAnsible = spawnSync('ansible-playbook', ['--version'], { encoding: 'utf8' }).status === 0;

t.test('modes and booleans on this machine: the files ansible-playbook makes', async (t) => {
  const base = join(mkdtempSync(join(tmpdir(), 'rmqplay-modes-')), 'w');
  const args = ['test/fixtures/yaml/modes.yml', '-i', 'test/fixtures/local/inventory.ini', '-e', `base=${base}`];
  const r = rmqplay(args);
  t.equal(r.status, 0, r.stderr);
  const ours = snapshot(base);
  t.same(ours, {
    'kv-dir': 'dir 750',
    'kv-dir/made-here': '644 ',
    'kv-line': '600 x = 1\n',
    'kv-octal': '640 c d\n',
    'yaml-line': '600 y\n',
    'yaml-octal': '640 a\n',
    'yaml-string': '640 b\n',
  });
  t.match(rmqplay(args).stdout, /changed=0/, 'the second run changes nothing');
  if (!hasAnsible) {
    t.skip('ansible-playbook is missing: no comparison with Ansible');
    return;
  }
  const theirBase = join(mkdtempSync(join(tmpdir(), 'rmqplay-modes-ansible-')), 'w');
  const a = spawnSync('ansible-playbook', [...args.slice(0, 3), '-e', `base=${theirBase}`], {
    encoding: 'utf8',
    env: { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_RETRY_FILES_ENABLED: '0' },
    timeout: 300_000,
  });
  t.equal(a.status, 0, `${a.stdout}${a.stderr}`.slice(-2000));
  t.same(ours, snapshot(theirBase), 'the same files, modes and contents as ansible-playbook');
});
