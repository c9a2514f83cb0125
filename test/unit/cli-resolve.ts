// How the CLI finds its playbook (DESIGN.md section 4): a path as given, else playbooks/PLAYBOOK, else
// the package's shipped playbooks, saying which one it used; and a notify without a handler is bad input.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connectionCounter, events, rmqplay } from '../helpers.js';

// An inventory whose play matches no host: the playbook is loaded and validated, nothing runs.
const SECRETS = ['-e', 'rabbitmq_erlang_cookie=c00kie', '-e', 'rabbitmq_verify_password=pw'];
function noHostsInventory(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-resolve-'));
  const inv = join(dir, 'hosts.ini');
  writeFileSync(inv, 'other ansible_connection=local\n');
  return inv;
}

t.test('site.yml in the repository resolves to playbooks/site.yml', async (t) => {
  const r = rmqplay(['site.yml', '-i', noHostsInventory(), ...SECRETS]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stderr, /site\.yml: using playbooks\/site\.yml/, 'says which playbook it used');
  t.match(r.stdout, /PLAY \[RabbitMQ cluster/i);
});

t.test("site.yml in an empty folder resolves to the package's shipped playbook", async (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'rmqplay-empty-'));
  const r = rmqplay(['site.yml', '-i', noHostsInventory(), ...SECRETS], { cwd });
  t.equal(r.status, 0, r.stderr);
  const shipped = resolve('playbooks/site.yml');
  t.ok(r.stderr.includes(`site.yml: using ${shipped}`), `names the shipped playbook: ${r.stderr}`);
});

t.test('a playbook found nowhere: exit 4, and where it looked', async (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'rmqplay-empty-'));
  const r = rmqplay(['no-such-playbook.yml', '-i', noHostsInventory()], { cwd });
  t.equal(r.status, 4);
  t.match(r.stderr, /no-such-playbook\.yml: playbook not found \(looked for .*playbooks\/no-such-playbook\.yml/);
});

t.test('notify of a handler that exists nowhere: exit 4, file:line, the nearest name, no connection', async (t) => {
  const { inv, stop } = await connectionCounter();
  const r = rmqplay(['test/fixtures/broken/missing-handler.yml', '-i', inv]);
  t.equal(r.status, 4);
  t.match(r.stderr, /missing-handler\.yml:4:\d+: notify: no handler "restart ap".*did you mean "restart app"/);
  const json = rmqplay(['test/fixtures/broken/missing-handler.yml', '-i', inv, '--json']);
  t.ok(
    events(json.stdout).some((e) => e.event === 'error'),
    'a JSON error event',
  );
  t.equal(await stop(), 0, 'no connection was opened');
});
