// Start-up (issue 11): what a command does not use is not loaded. The package's bin runs a one-task playbook on
// the local host with neither node:crypto (its nonces come from /dev/urandom) nor Node's rimraf loaded, and
// without reading a file beside the bundle (the schema's compiled pieces are inside it); --help loads no
// child_process either. Checked from what Node loaded (a preload prints it at exit), not from a time.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BIN = resolve('dist/lib/rmqplay.cjs');

/** Runs the bin in dir and returns its exit status and what it loaded: Node's modules and required files. */
function loaded(
  dir: string,
  args: string[],
): { status: number | null; stderr: string; modules: string[]; files: string[] } {
  const hook = join(dir, 'loaded.cjs');
  writeFileSync(
    hook,
    `process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify({ modules: process.moduleLoadList, ` +
      `files: Object.keys(require.cache) }) + '\\n'));\n`,
  );
  // Only what a user's shell gives, through env -i: the test runner adds its own hooks (and their node:crypto)
  // to every process it sees started.
  const vars = [`RMQPLAY_CODE_CACHE=${join(dir, 'cache')}`];
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG'])
    if (process.env[k] !== undefined) vars.push(`${k}=${process.env[k]}`);
  const argv = ['-i', ...vars, process.execPath, '-r', hook, BIN, ...args];
  const r = spawnSync('/usr/bin/env', argv, { cwd: dir, encoding: 'utf8' });
  const line = r.stderr.split('\n').find((l) => l.startsWith('LOADED ')) ?? 'LOADED {"modules":[],"files":[]}';
  const seen = JSON.parse(line.slice('LOADED '.length)) as { modules: string[]; files: string[] };
  const stderr = r.stderr.replace(line, '');
  return { status: r.status, stderr, modules: seen.modules, files: seen.files.filter((f) => f !== hook) };
}

t.test('a one-task playbook on the local host loads only what it uses', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-startup-'));
  writeFileSync(join(dir, 'one.yml'), '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - command: "true"\n');
  writeFileSync(join(dir, 'hosts.ini'), 'localhost ansible_connection=local\n');
  // Twice: without a code cache (the first run writes it) and with it.
  for (const run of ['first', 'second']) {
    const r = loaded(dir, ['one.yml', '-i', 'hosts.ini']);
    t.equal(r.status, 0, `${run} run: exit 0 ${r.stderr}`);
    t.ok(r.modules.includes('NativeModule child_process'), `${run} run: the local shell was started`);
    t.notOk(r.modules.includes('NativeModule crypto'), `${run} run: node:crypto not loaded`);
    t.notOk(r.modules.includes('NativeModule internal/fs/rimraf'), `${run} run: Node's rimraf not loaded`);
    t.same(r.files, [BIN], `${run} run: no file required but the bin (the bundle is compiled through node:vm)`);
  }
  t.ok(
    readdirSync(join(dir, 'cache')).some((f) => f.endsWith('-run.bin')),
    'the run wrote its code cache',
  );
});

t.test('--help loads neither the runner nor child_process', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-startup-'));
  const r = loaded(dir, ['--help']);
  t.equal(r.status, 0, r.stderr);
  t.notOk(r.modules.includes('NativeModule child_process'), 'child_process not loaded');
  t.notOk(r.modules.includes('NativeModule crypto'), 'node:crypto not loaded');
  t.same(r.files, [BIN], 'no file required but the bin');
});
