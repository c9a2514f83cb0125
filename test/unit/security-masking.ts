// Issue 8, point 4: masking without gaps. 64 secrets of 1 to 64 characters (quotes, backslashes,
// newlines, % and / in the longer ones), defined in every place a variable can come from (inventory
// host and group vars, play vars, vars_files, role defaults and vars, block and task vars, set_fact,
// -e @FILE), are printed by debug, written with --diff, echoed by failing commands and by no_log
// tasks, in text and --json runs. No output holds any of them in plain, JSON-escaped, base64 or
// URL-encoded form; the files on the host hold them exactly (they were really used).
import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rmqplay } from '../helpers.js';

// Short secrets use characters that are not part of any output's own syntax (a one-letter secret
// would have to mask every "e" of "changed"); the longer ones mix letters with the hard cases.
const SHORT = ['§', '~^', '€é§'];
const HARD = ['"', "'", '\\', '\n', '%', '/'];

function secretOf(length: number, seed: number): string {
  if (length <= SHORT.length) return SHORT[length - 1];
  let x = seed * 7919 + 13;
  let s = '';
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const hard = i % 5 === 2;
    s += hard ? HARD[x % HARD.length] : String.fromCharCode(97 + (x % 26) - (x % 2 ? 32 : 0));
  }
  // Never starting or ending with a newline: YAML block scalars and line-based output trim those.
  return s.replace(/^\n|\n$/g, 'Q');
}

const PLACES = ['host', 'group', 'play', 'vars_file', 'role_default', 'role_var', 'block', 'task', 'fact', 'extra'];

function forms(s: string): string[] {
  const b64 = Buffer.from(s).toString('base64');
  return [s, JSON.stringify(s).slice(1, -1), b64, encodeURIComponent(s)];
}

// Prints the secret (read on stdin) on stdout, its base64 on stderr, and fails.
const FAIL = `S=$(cat); printf '%s' "$S"; printf '%s' "$S" | base64 -w0 >&2; exit 3`;

function build(dir: string, secrets: string[]) {
  const at: Record<string, Record<string, string>> = Object.fromEntries(PLACES.map((p) => [p, {}]));
  const names = secrets.map((s, i) => {
    const name = `${['db_password', 'api_token', 'ssh_passphrase', 'admin_pass'][i % 4]}_${i}`;
    at[PLACES[i % PLACES.length]][name] = s;
    return name;
  });
  mkdirSync(join(dir, 'inv', 'host_vars'), { recursive: true });
  mkdirSync(join(dir, 'inv', 'group_vars'), { recursive: true });
  writeFileSync(join(dir, 'inv', 'hosts.ini'), '[here]\nlocalhost ansible_connection=local\n');
  writeFileSync(join(dir, 'inv', 'host_vars', 'localhost.yml'), JSON.stringify(at.host));
  writeFileSync(join(dir, 'inv', 'group_vars', 'here.yml'), JSON.stringify(at.group));
  writeFileSync(join(dir, 'vars.yml'), JSON.stringify(at.vars_file));
  writeFileSync(join(dir, 'extra.yml'), JSON.stringify(at.extra));
  mkdirSync(join(dir, 'roles', 'keeper', 'defaults'), { recursive: true });
  mkdirSync(join(dir, 'roles', 'keeper', 'vars'), { recursive: true });
  writeFileSync(join(dir, 'roles', 'keeper', 'defaults', 'main.yml'), JSON.stringify(at.role_default));
  writeFileSync(join(dir, 'roles', 'keeper', 'vars', 'main.yml'), JSON.stringify(at.role_var));
  const out = join(dir, 'out');
  const use = names.flatMap((n, i) => [
    { name: `show ${i}`, debug: { msg: `value {{ ${n} }} end` } },
    { name: `var ${i}`, debug: { var: n } },
    { name: `write ${i}`, copy: { content: `{{ ${n} }}`, dest: `${out}/${i}` } },
    { name: `fail ${i}`, shell: FAIL, args: { stdin: `{{ ${n} }}` }, ignore_errors: true },
    { name: `quiet ${i}`, shell: `cat`, args: { stdin: `{{ ${n} }}` }, no_log: true, register: `q${i}` },
    { name: `after no_log ${i}`, debug: { var: `q${i}` } },
  ]);
  const play = {
    name: 'secrets everywhere',
    hosts: 'here',
    vars: at.play,
    vars_files: [join(dir, 'vars.yml')],
    roles: ['keeper'],
    tasks: [
      { name: 'out', file: { path: out, state: 'directory' } },
      { name: 'facts', set_fact: at.fact },
      { name: 'a block', vars: at.block, block: [{ name: 'task vars', vars: at.task, block: use }] },
    ],
  };
  writeFileSync(join(dir, 'pb.yml'), JSON.stringify([play], null, 1));
  return out;
}

t.test('no secret of 1 to 64 characters reaches any output, in any form', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-mask-'));
  const secrets = Array.from({ length: 64 }, (_, i) => secretOf(i + 1, i));
  const out = build(dir, secrets);
  const args = [join(dir, 'pb.yml'), '-i', join(dir, 'inv', 'hosts.ini'), '-e', `@${join(dir, 'extra.yml')}`];
  const runs = [rmqplay([...args, '--diff']), rmqplay([...args, '--json', '--diff'])];
  t.equal(runs[0].status, 0, runs[0].stderr.slice(-2000) + runs[0].stdout.slice(-2000));
  secrets.forEach((s, i) => t.equal(readFileSync(join(out, String(i)), 'utf8'), s, `secret ${i} was used`));
  const text = runs.map((r) => r.stdout + '\n' + r.stderr).join('\n');
  t.ok(text.includes('********'), 'masks were printed');
  let checked = 0;
  secrets.forEach((s, i) => {
    for (const f of forms(s)) {
      checked++;
      if (text.includes(f)) t.fail(`secret ${i} (${s.length} chars) appears as ${JSON.stringify(f)}`);
    }
  });
  const json = runs[1].stdout.split('\n').filter((l) => l.startsWith('{'));
  t.ok(json.length > 64, 'the --json run printed its events');
  t.doesNotThrow(() => json.forEach((l) => JSON.parse(l)), 'every --json line is still valid JSON');
  t.pass(`${secrets.length} secrets, ${checked} forms looked for in ${text.length} characters of output`);
});
