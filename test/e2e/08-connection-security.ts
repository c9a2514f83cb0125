// Issue 8 on a lab host over SSH: during a become run with secrets, no /proc/*/cmdline on the host holds
// the script or the sudo password; a NOPASSWD sudo never hands the password to the task; the shell
// channel properties (test/unit/connection-shell.ts) hold for a non-root login through sudo.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { SshHost, sshTarget } from '../../dist/lib/connection/ssh.js';
import { freshLab, labHosts, labIsUp, ssh, sudoUsers } from '../helpers.js';

const CACHE = process.env.RMQPLAY_LAB_CACHE ?? '/var/cache/rmqplay/lab';
const PASSWORD = 'S3cret-sudo-pw';

/** Processes on the host whose command line holds a secret (the secret is never on the scan's own). */
function cmdlinesWith(host: { name: string; ip: string }, secret: string): string {
  const half = Math.floor(secret.length / 2);
  const scan = [
    `a='${secret.slice(0, half)}'; b='${secret.slice(half)}'`,
    'for i in 1 2 3 4 5 6; do',
    '  printf "%s%s\\n" "$a" "$b" | grep -lF -f - /proc/[0-9]*/cmdline 2>/dev/null',
    '  sleep 0.25',
    'done',
    'true',
  ].join('\n');
  return ssh(host, scan).stdout;
}

t.test('become over SSH: no secret on a command line, none on the task\u2019s stdin', async (t) => {
  const hosts = labIsUp(3) ? labHosts() : freshLab(3);
  const h = hosts[0];
  const setup = sudoUsers(h, PASSWORD);
  t.equal(setup.status, 0, `users made: ${setup.stderr}`);
  const vars = (user: string) => ({
    ansible_host: h.ip,
    ansible_user: user,
    ansible_ssh_private_key_file: `${CACHE}/id_ed25519`,
    ansible_ssh_common_args: `-o UserKnownHostsFile=${CACHE}/known_hosts`,
  });

  const ops = new SshHost(sshTarget(h.name, vars('ops')));
  const deploy = new SshHost(sshTarget(h.name, vars('deploy')));
  t.teardown(async () => {
    await ops.close();
    await deploy.close();
  });
  const become = { user: 'root', password: PASSWORD };
  const secret = `cookie-${randomBytes(8).toString('hex')}`;
  const stdinValue = `user-pw-${randomBytes(8).toString('hex')}`;
  const script = `printf '%s\\n' '${stdinValue}' | { read -r x; : ${secret}; sleep 2; id -u; }`;
  const run = ops.run(script, { become });
  await new Promise((r) => setTimeout(r, 300));
  t.equal(cmdlinesWith(h, secret), '', 'the script is on no command line');
  t.equal(cmdlinesWith(h, stdinValue), '', 'nor a value sent on stdin');
  t.same(await run, { code: 0, stdout: '0\n', stderr: '' }, 'it ran as root');
  const again = ops.run(`: ${secret}; sleep 2; id -u`, { become });
  await new Promise((r) => setTimeout(r, 300));
  t.equal(cmdlinesWith(h, PASSWORD), '', 'the sudo password is on no command line');
  t.equal((await again).stdout, '0\n');

  const big = 'x'.repeat(1048576);
  const large = await ops.run(`s='${big}'\necho \${#s}`, { become });
  t.same(large, { code: 0, stdout: '1048576\n', stderr: '' }, 'a 1 MiB script runs through sudo');

  const nopw = await deploy.run('cat; id -u', { become });
  t.same(nopw, { code: 0, stdout: '0\n', stderr: '' }, 'NOPASSWD: the task reads nothing on stdin');
  t.notOk(nopw.stdout.includes(PASSWORD), 'the password is not printed');
});
