// Broken playbooks exit 4 with file:line:column and a readable reason, and open no connection:
// the inventory points every host at a local TCP listener that counts connections.
import t from 'tap';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectionCounter, events, rmqplay } from '../helpers.js';

const cases: [string, RegExp][] = [
  ['bad-yaml.yml', /YAML syntax error/],
  ['unknown-task-type.yml', /unknown task type or keyword "fiel" \(did you mean "file"\?\)/],
  ['unknown-keyword.yml', /unknown keyword "whenn" \(did you mean "when"\?\)/],
  ['unknown-play-key.yml', /unknown key "taks" \(did you mean "tasks"\?\)/],
  ['missing-argument.yml', /template: missing required argument "dest"/],
  ['wrong-type.yml', /file\.state: must be one of: file, directory, absent, touch, link/],
  ['undefined-variable.yml', /undefined variable "app_rot".*did you mean "app_root"/],
  ['missing-template.yml', /template "no-such-template.hbs" not found/],
  ['missing-import.yml', /import_tasks: tasks\/does-not-exist.yml not found/],
];

t.test('broken playbooks: exit 4, file:line:column, a reason, no connection', async (t) => {
  const { inv, stop } = await connectionCounter(['h1', 'h2']);
  for (const [file, reason] of cases) {
    const path = `test/fixtures/broken/${file}`;
    const text = rmqplay([path, '-i', inv]);
    t.equal(text.status, 4, `${file}: exit code 4`);
    t.match(text.stderr, new RegExp(`${path.replace(/[.]/g, '\\.')}:\\d+:\\d+: `), `${file}: names file:line:column`);
    t.match(text.stderr, reason, `${file}: says why`);
    t.match(text.stderr, /Nothing was run on any host/);
    const json = rmqplay([path, '-i', inv, '--json']);
    const err = events(json.stdout).find((e) => e.event === 'error') as unknown as {
      file: string;
      line: number;
      column: number;
      message: string;
    };
    t.ok(
      err && err.file === path && err.line > 0 && err.column > 0,
      `${file}: a JSON error event with file, line and column`,
    );
    t.notOk(
      events(json.stdout).some((e) => e.event === 'task'),
      `${file}: no task ran`,
    );
  }
  t.equal(await stop(), 0, 'no connection was opened to any host');
});

t.test('bad options exit 5, ambiguous inventories exit 4', async (t) => {
  t.equal(rmqplay(['playbooks/site.yml', '--forks', 'x']).status, 5);
  t.equal(rmqplay(['playbooks/site.yml', '--no-such-flag']).status, 5);
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-amb-'));
  mkdirSync(join(dir, 'inventory'));
  writeFileSync(join(dir, 'inventory', 'prod.yml'), 'all:\n  hosts:\n    a:\n');
  writeFileSync(join(dir, 'inventory', 'prod.ini'), 'a\n');
  writeFileSync(join(dir, 'pb.yml'), '- hosts: all\n  tasks: []\n');
  const amb = rmqplay(['pb.yml', '-i', 'prod'], { cwd: dir });
  t.equal(amb.status, 4, 'two inventories named prod: exit 4');
  t.match(amb.stderr, /ambiguous/);
  const r = rmqplay(['--help']);
  t.equal(r.status, 0);
  t.match(r.stdout, /Usage: rmqplay PLAYBOOK/);
});
