// The usage the project is known by: `npx rmqplay site.yml -i lab` runs the shipped site, both in the
// repository and in an empty folder where the packed package is installed and the lab's inventory (with its
// group_vars, and the ansible.cfg that names its vault's password file) is copied. Run against the lab's
// cluster (built first if no healthy one is up).
import t, { Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureCluster, events, recap } from '../helpers.js';

const hosts = ensureCluster();

function npx(args: string[], cwd: string) {
  const env = { ...process.env, RMQPLAY_STATS: '1' };
  return spawnSync('npx', args, { cwd, env, encoding: 'utf8', timeout: 15 * 60_000, maxBuffer: 64 * 1024 * 1024 });
}

function assertSiteRan(t: Test, r: ReturnType<typeof npx>, where: string, shipped: string): void {
  t.equal(r.status, 0, `${where}: exit 0 ${r.stderr.slice(-1500)}`);
  t.ok(r.stderr.includes(`site.yml: using ${shipped}`), `${where}: says it used ${shipped}`);
  const rc = recap(events(r.stdout));
  for (const h of hosts) t.ok(rc[h.name] && rc[h.name].failed === 0, `${where}: ${h.name} ran the site, no failure`);
  const verified = events(r.stdout).filter((e) => e.task?.includes('amqp_verify') && e.status !== 'skipped');
  t.ok(verified.length > 0, `${where}: the run ended with amqp_verify`);
}

t.test('in the repository: npx rmqplay site.yml -i lab', async (t) => {
  const r = npx(['rmqplay', 'site.yml', '-i', 'lab', '--json'], process.cwd());
  assertSiteRan(t, r, 'repository', 'playbooks/site.yml');
});

t.test('in an empty folder with the packed package installed', async (t) => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'rmqplay-packed-')));
  const pack = spawnSync('npm', ['pack', '--pack-destination', dir], { encoding: 'utf8' });
  t.equal(pack.status, 0, `npm pack ${pack.stderr.slice(-500)}`);
  const tgz = join(dir, pack.stdout.trim().split('\n').pop()!);
  const user = join(dir, 'ops');
  mkdirSync(user);
  const install = spawnSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tgz], {
    cwd: user,
    encoding: 'utf8',
    timeout: 10 * 60_000,
  });
  t.equal(install.status, 0, `npm install of the packed package ${install.stderr.slice(-800)}`);
  mkdirSync(join(user, 'inventory'));
  cpSync(resolve('inventory/lab.yml'), join(user, 'inventory', 'lab.yml'));
  cpSync(resolve('inventory/group_vars'), join(user, 'inventory', 'group_vars'), { recursive: true });
  // The lab's ansible.cfg names the password file of its vault (inventory/group_vars/rabbitmq/vault.yml).
  cpSync(resolve('ansible.cfg'), join(user, 'ansible.cfg'));
  t.notOk(existsSync(join(user, 'playbooks')), 'the folder has no playbooks of its own');
  const r = npx(['rmqplay', 'site.yml', '-i', 'lab', '--json'], user);
  // Named relative to the working folder, as every path rmqplay prints.
  const shipped = join('node_modules', 'rmqplay', 'playbooks', 'site.yml');
  assertSiteRan(t, r, 'empty folder', shipped);
});
