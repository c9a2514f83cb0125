// put() and become through sudo (issue 8, points 3 and 6) through the local Host and SshHost on a private
// sshd: bytes round-trip exactly, a symlink to a folder is not written inside, setuid bits survive chown;
// a login user with a sudo password gives it only at sudo's prompt (never on a command line), a NOPASSWD
// login never hands it to the task. Makes two throwaway users (removed at the end).
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Host } from '../../dist/lib/connection/host.js';
import { LocalHost } from '../../dist/lib/connection/local.js';
import { SshHost } from '../../dist/lib/connection/ssh.js';
import { cmdlinesWith, startSshd, throwawayUser } from '../sshd.js';

async function putProperties(t: Tap.Test, host: Host): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-put-'));
  await t.test('random binary content round-trips byte-exact', async (t) => {
    for (const size of [0, 1, 3000, 200_000]) {
      const bytes = randomBytes(size);
      const path = join(dir, `bin-${size}`);
      await host.put(path, bytes, { mode: '0640' });
      t.ok(readFileSync(path).equals(bytes), `${size} bytes on disk`);
      t.ok((await host.get(path))?.equals(bytes), `${size} bytes read back`);
      t.equal(statSync(path).mode & 0o777, 0o640);
    }
  });

  await t.test('a symlink to a folder is not written inside', async (t) => {
    const real = join(dir, 'real');
    mkdirSync(real);
    symlinkSync(real, join(dir, 'dirlink'));
    const e = await host.put(join(dir, 'dirlink'), 'x').catch((x) => x);
    t.match(String(e), /directory/, 'refused');
    t.same(readdirSync(real), [], 'nothing landed in the folder it points to');
    symlinkSync(real, join(dir, 'parentlink'));
    await host.put(join(dir, 'parentlink', 'f'), 'through');
    t.equal(readFileSync(join(real, 'f'), 'utf8'), 'through', 'a symlinked parent folder is the path as written');
    t.same(readdirSync(real), ['f'], 'no temp file left');
  });

  await t.test('chown before chmod: setuid bits survive', async (t) => {
    const path = join(dir, 'suid');
    await host.put(path, '#!/bin/sh\n', { mode: '4755', owner: 'nobody', group: 'nogroup' });
    const st = statSync(path);
    t.equal(st.mode & 0o7777, 0o4755, 'mode 4755');
    t.equal(readFileSync('/etc/passwd', 'utf8').includes(`nobody:x:${st.uid}:`), true, 'owned by nobody');
  });
}

t.test('put on the local host', async (t) => {
  await putProperties(t, new LocalHost('local'));
});

t.test('put and become over ssh on a private sshd', async (t) => {
  const password = `Pw-${randomBytes(6).toString('hex')}'"$%`;
  const removeSudo = throwawayUser('rmqplay-t-pw', 'rmqplay-t-pw ALL=(ALL) ALL', password);
  const removeNopw = throwawayUser('rmqplay-t-nopw', 'rmqplay-t-nopw ALL=(ALL) NOPASSWD:ALL');
  const sshd = await startSshd(['root', 'rmqplay-t-pw', 'rmqplay-t-nopw']);
  const hosts: SshHost[] = [];
  const connect = (user: string) => {
    const h = new SshHost(sshd.target(user));
    hosts.push(h);
    return h;
  };
  t.teardown(async () => {
    for (const h of hosts) await h.close();
    sshd.stop();
    removeSudo();
    removeNopw();
  });
  await putProperties(t, connect('root'));

  await t.test('a sudo password is given only at its prompt, and on no command line', async (t) => {
    const h = connect('rmqplay-t-pw');
    const become = { user: 'root', password };
    const secret = `S3cret-${randomBytes(6).toString('hex')}`;
    const run = h.run(`: ${secret}; sleep 1.5; id -u; cat`, { become });
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 250));
      seen.push(...cmdlinesWith(secret), ...cmdlinesWith(password));
    }
    t.same(seen, [], 'neither the script nor the password on any /proc/*/cmdline');
    t.same(await run, { code: 0, stdout: '0\n', stderr: '' }, 'ran as root; its stdin is empty');
    t.same(await h.run('id -u', { become }), { code: 0, stdout: '0\n', stderr: '' }, 'again on the same shell');
    const wrong = connect('rmqplay-t-pw');
    const w = await wrong.run('id -u', { become: { user: 'root', password: 'wrong' } });
    t.match(w.stderr, /Sorry, try again|incorrect password/, `a wrong password fails as such (exit ${w.code})`);
    const none = await connect('rmqplay-t-pw').run('id -u', { become: { user: 'root' } });
    t.equal(none.code, 97, 'no password: exit 97');
    t.match(none.stderr, /sudo needs a password for rmqplay-t-pw: set ansible_become_password/);
  });

  await t.test('NOPASSWD sudo never receives the password', async (t) => {
    const h = connect('rmqplay-t-nopw');
    const r = await h.run('cat; id -u', { become: { user: 'root', password } });
    t.same(r, { code: 0, stdout: '0\n', stderr: '' }, 'the task read nothing on stdin');
  });
});
