// become: true over SSH for a non-root login user, through sudo: without a password (NOPASSWD)
// and with ansible_become_password, which must never be printed.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labHosts, labIsUp, freshLab, rmqplay, ssh, sudoUsers } from '../helpers.js';

const CACHE = process.env.RMQPLAY_LAB_CACHE ?? '/var/cache/rmqplay/lab';

t.test('become through sudo, with and without a password', async (t) => {
  const hosts = labIsUp(3) ? labHosts() : freshLab(3);
  const h = hosts[0];
  const setup = sudoUsers(h, 'S3cret-sudo-pw');
  ssh(h, 'rm -f /root/rmqplay-become');
  t.equal(setup.status, 0, `users made: ${setup.stderr}`);
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-become-'));
  const key = `ansible_ssh_private_key_file: ${CACHE}/id_ed25519`;
  const knownHosts = `ansible_ssh_common_args: "-o UserKnownHostsFile=${CACHE}/known_hosts"`;
  const common = `ansible_host: ${h.ip}, ${key}, ${knownHosts}`;
  for (const [user, extra, label] of [
    ['deploy', '', 'NOPASSWD'],
    ['ops', ', ansible_become_password: S3cret-sudo-pw', 'with a password'],
  ]) {
    const inv = join(dir, `${user}.yml`);
    writeFileSync(inv, `all:\n  hosts:\n    ${h.name}: { ${common}, ansible_user: ${user}${extra} }\n`);
    ssh(h, 'rm -f /root/rmqplay-become');
    const r = rmqplay(['test/fixtures/core/become.yml', '-i', inv, '--diff']);
    t.equal(r.status, 0, `${label}: exit 0${r.status ? ` ${r.stdout.slice(-600)}` : ''}`);
    t.equal(
      ssh(h, 'stat -c %U:%a /root/rmqplay-become && cat /root/rmqplay-become').stdout,
      `root:600\nmade by ${user} as root\n`,
      `${label}: the file is root's, written through sudo`,
    );
    t.notOk((r.stdout + r.stderr).includes('S3cret-sudo-pw'), `${label}: the sudo password is not printed`);
  }
  const wrong = join(dir, 'wrong.yml');
  writeFileSync(wrong, `all:\n  hosts:\n    ${h.name}: { ${common}, ansible_user: ops }\n`);
  const w = rmqplay(['test/fixtures/core/become.yml', '-i', wrong]);
  t.equal(w.status, 2, 'sudo that needs a password, without one: the task fails');
  t.match(w.stdout, /sudo needs a password for ops: set ansible_become_password/, 'and says what to do');
});
