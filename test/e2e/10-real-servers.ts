// Real servers (issue 10, point 1): a non-root user `deploy` with sudo, whose key is only in an ssh-agent,
// reaching node2 and node3 only through node1 (ProxyJump in a ~/.ssh/config made here; their SSH replies to
// the controller are dropped by a policy rule in their network namespaces), deploys playbooks/site.yml with
// NOPASSWD sudo, then again with a become password held in a !vault value; known_hosts starts empty with
// accept-new. After node2's host key is changed, the next run is refused for node2 only, with the new key's
// fingerprint in the message. Everything is put back at the end (keys, rules, user).
import t from 'tap';
import { execFileSync, spawnSync, SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { events, freshLab, labHosts, labIsUp, LabHost, rmqplay, ssh } from '../helpers.js';

const CACHE = process.env.RMQPLAY_LAB_CACHE ?? '/var/cache/rmqplay/lab';
const SITE = 'playbooks/site.yml';
const BECOME_PASSWORD = 'Deploy-sudo-pw-13';

/** root on a lab host through node1, with the system's ssh (independent of rmqplay's SSH code). */
function sshVia(jump: LabHost, h: LabHost, script: string, checkKeys = true): SpawnSyncReturns<string> {
  const known = checkKeys ? `${CACHE}/known_hosts` : '/dev/null';
  const strict = checkKeys ? 'yes' : 'no';
  const opts = [
    '-i',
    `${CACHE}/id_ed25519`,
    '-o',
    `UserKnownHostsFile=${known}`,
    '-o',
    `StrictHostKeyChecking=${strict}`,
  ];
  const proxy = `ssh ${opts.join(' ')} -o BatchMode=yes -W %h:%p root@${jump.ip}`;
  const args = [...opts, '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', '-o', `ProxyCommand=${proxy}`];
  return spawnSync('ssh', [...args, `root@${h.ip}`, script], { encoding: 'utf8', timeout: 120_000 });
}

/** Drops a lab host's SSH replies to the controller (the bridge's gateway address), or lifts that. */
function blockDirect(h: LabHost, gateway: string, on: boolean): void {
  const rule = ['-n', h.name, 'rule', on ? 'add' : 'del', 'to', gateway, 'ipproto', 'tcp', 'sport', '22', 'prohibit'];
  spawnSync('ip', rule, { encoding: 'utf8' });
}

t.test('deploy through node1 with an agent-only key, accept-new, then a changed host key', async (t) => {
  const hosts = labIsUp(3) ? labHosts() : freshLab(3);
  const [n1, n2, n3] = hosts;
  const gateway = n1.ip.replace(/\.\d+$/, '.1');
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-e2e13-'));
  const savedEnv = { ...process.env };
  let agentPid: string | undefined;

  // The deploy key has a passphrase: rmqplay can use it only through the agent.
  const key = join(dir, 'deploy_key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'agent-only-pass', '-C', 'deploy', '-f', key]);
  const pub = readFileSync(`${key}.pub`, 'utf8').trim();
  const userSetup = `set -e
id -u deploy >/dev/null 2>&1 || useradd -m -s /bin/sh deploy
mkdir -p /home/deploy/.ssh && echo '${pub}' > /home/deploy/.ssh/authorized_keys
chown -R deploy: /home/deploy/.ssh && chmod 700 /home/deploy/.ssh
echo 'deploy ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/deploy && chmod 440 /etc/sudoers.d/deploy
echo 'deploy:${BECOME_PASSWORD}' | chpasswd
mkdir -p /root/e2e13-hostkeys && cp -p /etc/ssh/ssh_host_* /root/e2e13-hostkeys/`;
  for (const h of hosts) t.equal(ssh(h, userSetup).status, 0, `deploy made on ${h.name}`);

  t.teardown(() => {
    process.env = savedEnv;
    for (const h of [n2, n3]) blockDirect(h, gateway, false);
    const restore = `cp -p /root/e2e13-hostkeys/* /etc/ssh/ && rm -rf /root/e2e13-hostkeys
(systemctl restart ssh || service ssh restart) >/dev/null 2>&1
rm -f /etc/sudoers.d/deploy; userdel -r deploy 2>/dev/null; true`;
    for (const h of hosts) {
      // node2's key was changed: the lab's known_hosts does not know it until it is restored.
      const r = ssh(h, restore);
      if (r.status !== 0) sshVia(n1, h, restore, false);
    }
    if (agentPid) process.kill(Number(agentPid));
    rmSync(dir, { recursive: true, force: true });
  });

  // The agent holds the key; HOME has no key file, so only the agent can log in.
  const agent = execFileSync('ssh-agent', ['-a', join(dir, 'agent.sock')], { encoding: 'utf8' });
  process.env.SSH_AUTH_SOCK = join(dir, 'agent.sock');
  agentPid = /SSH_AGENT_PID=(\d+)/.exec(agent)?.[1];
  const askpass = join(dir, 'askpass');
  writeFileSync(askpass, "#!/bin/sh\necho 'agent-only-pass'\n", { mode: 0o700 });
  const add = spawnSync('ssh-add', [key], {
    env: { ...process.env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force' },
    encoding: 'utf8',
  });
  t.equal(add.status, 0, `ssh-add: ${add.stderr}`);
  const home = join(dir, 'home');
  mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  process.env.HOME = home;

  // ~/.ssh/config: deploy everywhere, node2 and node3 through node1. known_hosts starts empty.
  const known = join(home, '.ssh', 'known_hosts');
  writeFileSync(known, '');
  const config = join(home, '.ssh', 'config');
  writeFileSync(
    config,
    [
      `Host ${n2.ip} ${n3.ip}`,
      `  ProxyJump ${n1.ip}`,
      'Host *',
      '  User deploy',
      '  StrictHostKeyChecking accept-new',
      '',
    ].join('\n'),
  );

  for (const h of [n2, n3]) blockDirect(h, gateway, true);
  t.not(ssh(n2, 'true', 15_000).status, 0, 'node2 is not reachable directly');
  t.not(ssh(n3, 'true', 15_000).status, 0, 'node3 is not reachable directly');
  t.equal(sshVia(n1, n2, 'true').status, 0, 'node2 is reachable through node1');

  // The lab's inventory, its group_vars beside it; no ansible_user, no key: ~/.ssh/config and the agent decide.
  const invDir = resolve('inventory');
  const inv = join(invDir, 'e2e13.yml');
  const hostLines = hosts.map((h) => `        ${h.name}: { ansible_host: ${h.ip} }`).join('\n');
  const common = `-o UserKnownHostsFile=${known}`;
  const writeInventory = (extra: string) => {
    const vars = `      vars:\n        ansible_ssh_common_args: "${common}"\n${extra}`;
    writeFileSync(inv, `all:\n  children:\n    rabbitmq:\n      hosts:\n${hostLines}\n${vars}`);
  };
  t.teardown(() => rmSync(inv, { force: true }));
  writeInventory('');

  const first = rmqplay([SITE, '-i', inv, '--json']);
  t.equal(first.status, 0, `site.yml as deploy through node1 exits 0${first.status ? first.stdout.slice(-2000) : ''}`);
  const recorded = readFileSync(known, 'utf8').split('\n').filter(Boolean);
  t.equal(recorded.length, 3, 'accept-new recorded one key per host');
  for (const h of hosts)
    t.ok(
      recorded.some((l) => l.startsWith(`${h.ip} `)),
      `${h.name}'s key recorded`,
    );
  for (const h of [n2, n3]) {
    const log = sshVia(
      n1,
      h,
      `journalctl -u ssh --no-pager 2>/dev/null | grep 'Accepted publickey for deploy' | tail -1`,
    );
    t.match(log.stdout, new RegExp(`from ${n1.ip.replace(/\./g, '\\.')} `), `${h.name}: deploy came from node1`);
  }

  // sudo with a password, the password a !vault value.
  const withPassword = "echo 'deploy ALL=(ALL) ALL' > /etc/sudoers.d/deploy";
  t.equal(ssh(n1, withPassword).status, 0, 'node1: sudo needs a password');
  for (const h of [n2, n3]) t.equal(sshVia(n1, h, withPassword).status, 0, `${h.name}: sudo needs a password`);
  const vaultPass = join(dir, 'vault-pass');
  writeFileSync(vaultPass, 'e2e13-vault\n');
  const enc = rmqplay([
    'vault',
    'encrypt_string',
    '--vault-password-file',
    vaultPass,
    '--name',
    'ansible_become_password',
    BECOME_PASSWORD,
  ]);
  t.equal(enc.status, 0, `encrypt_string: ${enc.stderr}`);
  writeInventory(enc.stdout.replace(/^/gm, '        '));
  const second = rmqplay([SITE, '-i', inv, '--json', '--vault-password-file', vaultPass]);
  t.equal(
    second.status,
    0,
    `with a vault-held become password exits 0${second.status ? second.stdout.slice(-2000) : ''}`,
  );
  t.notOk((second.stdout + second.stderr).includes(BECOME_PASSWORD), 'the become password is not printed');

  // node2 gets new host keys.
  const change = sshVia(
    n1,
    n2,
    `set -e; rm -f /etc/ssh/ssh_host_*; ssh-keygen -A >/dev/null
ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub | cut -d' ' -f2
(sleep 1; systemctl restart ssh || service ssh restart) >/dev/null 2>&1 &`,
  );
  t.equal(change.status, 0, `node2's keys changed: ${change.stderr}`);
  const newFingerprint = change.stdout.trim();
  t.match(newFingerprint, /^SHA256:/);
  await new Promise((r) => setTimeout(r, 3000));

  const third = rmqplay([SITE, '-i', inv, '--json', '--vault-password-file', vaultPass]);
  t.equal(
    third.status,
    3,
    `exit 3: a host was unreachable${third.status === 3 ? '' : ' ' + third.stdout.slice(-1500)}`,
  );
  const evs = events(third.stdout);
  const unreachable = evs.filter((e) => e.event === 'task' && e.status === 'unreachable');
  t.same([...new Set(unreachable.map((e) => e.host))], ['node2'], 'node2 only');
  const msg = unreachable[0]?.msg ?? '';
  t.match(msg, /host key of node2 .* has CHANGED/, msg);
  t.ok(msg.includes(newFingerprint), `the message names ${newFingerprint}`);
  const recap = evs.find((e) => e.event === 'recap')?.hosts ?? {};
  const failed = evs.filter((e) => e.event === 'task' && e.status === 'failed');
  const why = failed.map((e) => `${e.host} ${e.task}: ${e.msg}`).join(' | ');
  for (const h of [n1, n3]) {
    t.equal(recap[h.name]?.failed ?? 0, 0, `${h.name} finished${why ? ` (failed: ${why.slice(0, 1500)})` : ''}`);
    t.equal(recap[h.name]?.unreachable ?? 0, 0, `${h.name} was reached`);
  }
  t.equal(readFileSync(known, 'utf8').split('\n').filter(Boolean).length, 3, 'the changed key was not recorded');
});
