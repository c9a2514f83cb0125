// Logins as OpenSSH and Ansible find them (issue 10), on private sshds on 127.0.0.1: ssh-agent, the default
// identity of a temp HOME, an encrypted key through the agent (and a clear error without it), -F config with
// Host patterns and negation, HostName, Port, User, IdentityFile, ProxyJump through one and two hops (proved
// by the jump hosts' sshd logs); Ansible's precedence for the user; the unreachable message; a dropped
// connection made again. Makes one throwaway user (removed at the end).
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SshHost, SshTarget, sshTarget } from '../../dist/lib/connection/ssh.js';
import { Connections } from '../../dist/lib/core/connections.js';
import { Sshd, startSshd, throwawayUser } from '../sshd.js';
import { events, rmqplay } from '../helpers.js';

t.setTimeout(180_000);
const tmp = mkdtempSync(join(tmpdir(), 'rmqplay-login-'));
const savedEnv = { ...process.env };
t.teardown(() => {
  process.env = savedEnv;
});

/** A HOME with an empty ~/.ssh and no agent: only what a test adds is found. */
function freshHome(name: string): string {
  const home = join(tmp, name);
  mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  process.env.HOME = home;
  delete process.env.SSH_AUTH_SOCK;
  return home;
}

function newKey(name: string, passphrase = ''): { file: string; pub: string } {
  const file = join(tmp, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', name, '-f', file]);
  return { file, pub: readFileSync(`${file}.pub`, 'utf8').trim() };
}

/** ssh-agent on its own socket; ssh-add reads a passphrase through SSH_ASKPASS. */
function startAgent(t: Tap.Test, keys: { file: string; passphrase?: string }[]): string {
  const sock = join(tmp, `agent-${Math.random().toString(36).slice(2)}.sock`);
  const out = execFileSync('ssh-agent', ['-a', sock], { encoding: 'utf8' });
  const pid = /SSH_AGENT_PID=(\d+)/.exec(out)?.[1];
  t.teardown(() => pid && process.kill(Number(pid)));
  for (const k of keys) {
    const askpass = join(tmp, `askpass-${Math.random().toString(36).slice(2)}`);
    writeFileSync(askpass, `#!/bin/sh\necho '${k.passphrase ?? ''}'\n`, { mode: 0o700 });
    const env = { ...process.env, SSH_AUTH_SOCK: sock, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force' };
    const r = spawnSync('ssh-add', [k.file], { env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ssh-add failed: ${r.stderr}`);
  }
  return sock;
}

async function whoami(target: SshTarget): Promise<string> {
  const host = new SshHost(target);
  try {
    await host.connect();
    return (await host.run('id -un')).stdout.trim();
  } catch (e) {
    return String((e as Error).message);
  } finally {
    await host.close();
  }
}

/** Inventory-style variables for a private sshd, its known_hosts checked. */
function varsFor(sshd: Sshd, more: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ansible_host: '127.0.0.1',
    ansible_port: sshd.port,
    ansible_ssh_common_args: `-o UserKnownHostsFile=${sshd.knownHostsFile}`,
    ...more,
  };
}

t.test('logins on a private sshd', async (t) => {
  const agentKey = newKey('agent_key');
  const encrypted = newKey('encrypted_key', 'correct horse');
  const sshd = await startSshd(['root'], { authorize: [agentKey.pub, encrypted.pub] });
  t.teardown(() => sshd.stop());

  await t.test('the agent: a key only in ssh-agent logs in', async (t) => {
    freshHome('agent');
    t.match(await whoami(sshTarget('h', varsFor(sshd, { ansible_user: 'root' }))), /keys tried: none/);
    process.env.SSH_AUTH_SOCK = startAgent(t, [{ file: agentKey.file }]);
    const target = sshTarget('h', varsFor(sshd, { ansible_user: 'root' }));
    t.same(target.identityFiles, [], 'no key file');
    t.equal(await whoami(target), 'root');
  });

  await t.test('the default identity of HOME', async (t) => {
    const home = freshHome('default-identity');
    copyFileSync(sshd.keyFile, join(home, '.ssh', 'id_ed25519'));
    chmodSync(join(home, '.ssh', 'id_ed25519'), 0o600);
    const target = sshTarget('h', varsFor(sshd, { ansible_user: 'root' }));
    t.same(target.identityFiles, [join(home, '.ssh', 'id_ed25519')]);
    t.equal(await whoami(target), 'root');
  });

  await t.test('an encrypted key: through the agent, else a clear error without a terminal', async (t) => {
    freshHome('encrypted');
    const vars = varsFor(sshd, { ansible_user: 'root', ansible_ssh_private_key_file: encrypted.file });
    const msg = await whoami(sshTarget('h', vars));
    t.match(msg, /encrypted_key \(encrypted: add it to ssh-agent/, 'says why the key was not used');
    process.env.SSH_AUTH_SOCK = startAgent(t, [{ file: encrypted.file, passphrase: 'correct horse' }]);
    t.equal(await whoami(sshTarget('h', vars)), 'root');
  });

  await t.test('the unreachable message: user, address, port and keys, never key material', async (t) => {
    freshHome('unreachable');
    process.env.SSH_AUTH_SOCK = startAgent(t, [{ file: agentKey.file }]);
    const closed = sshd.port === 1 ? 2 : 1;
    const vars = { ...varsFor(sshd), ansible_port: closed, ansible_user: 'nobody1' };
    const msg = await whoami(sshTarget('h', { ...vars, ansible_ssh_private_key_file: sshd.keyFile }));
    t.match(msg, /^h: cannot connect: .*ECONNREFUSED/);
    t.ok(msg.includes(`ssh nobody1@127.0.0.1:${closed}`), msg);
    t.ok(msg.includes(`keys tried: agent key 1, ${sshd.keyFile}`), 'the agent key and the file');
    const denied = await whoami(sshTarget('h', { ...varsFor(sshd), ansible_user: 'daemon' }));
    t.match(denied, /All configured authentication methods failed/);
    t.ok(denied.includes(`ssh daemon@127.0.0.1:${sshd.port}; keys tried: agent key 1`), denied);
    const material = readFileSync(sshd.keyFile, 'utf8').split('\n')[1];
    t.notOk(msg.includes(material) || denied.includes(material), 'no key material');
  });

  await t.test('a connection dropped between commands is made again', async (t) => {
    freshHome('drop');
    const host = new SshHost(
      sshTarget('h', varsFor(sshd, { ansible_user: 'root', ansible_ssh_private_key_file: sshd.keyFile })),
    );
    t.teardown(() => host.close());
    t.equal((await host.run('echo one')).stdout, 'one\n');
    // The exec channel's parent is this connection's sshd process: killing it drops the connection.
    await host.exec('kill -9 $PPID').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    t.equal((await host.run('echo two')).stdout, 'two\n');
    t.equal(host.stats.connects, 2, 'a second connection');
  });
});

t.test('~/.ssh/config with -F: Host patterns and negation, HostName, Port, User, IdentityFile', async (t) => {
  const sshd = await startSshd(['root']);
  t.teardown(() => sshd.stop());
  freshHome('config');
  const cfg = join(tmp, 'config-F');
  writeFileSync(
    cfg,
    [
      'Host *.mq.test !skip.mq.test',
      '  HostName 127.0.0.1',
      `  Port ${sshd.port}`,
      '  User root',
      `  IdentityFile ${sshd.keyFile}`,
      'Host *',
      '  User nobody',
      '',
    ].join('\n'),
  );
  const args = `-F ${cfg} -o UserKnownHostsFile=${sshd.knownHostsFile}`;
  const target = sshTarget('web1.mq.test', { ansible_ssh_common_args: args });
  t.match(target, { address: '127.0.0.1', port: sshd.port, user: 'root', identityFiles: [sshd.keyFile] });
  t.equal(await whoami(target), 'root');
  const skipped = sshTarget('skip.mq.test', { ansible_ssh_common_args: args });
  t.match(skipped, { address: 'skip.mq.test', port: 22, user: 'nobody' }, 'the negated host gets only Host *');
  const viaHost = sshTarget('inventory-name', { ansible_host: 'db.mq.test', ansible_ssh_common_args: args });
  t.equal(viaHost.address, '127.0.0.1', 'matched on ansible_host, as ssh is given it');
});

t.test('ProxyJump through one and two hops', async (t) => {
  freshHome('jump');
  const jump1 = await startSshd(['root'], { debug: true });
  const jump2 = await startSshd(['root'], { debug: true });
  const target = await startSshd(['root']);
  t.teardown(() => [jump1, jump2, target].forEach((s) => s.stop()));
  const known = join(tmp, 'jump_known_hosts');
  writeFileSync(known, [jump1, jump2, target].map((s) => readFileSync(s.knownHostsFile, 'utf8')).join(''));
  const cfg = join(tmp, 'config-jump');
  const hostBlock = (name: string, s: Sshd) => [
    `Host ${name}`,
    '  HostName 127.0.0.1',
    `  Port ${s.port}`,
    '  User root',
    `  IdentityFile ${s.keyFile}`,
  ];
  writeFileSync(cfg, [...hostBlock('jump1', jump1), ...hostBlock('jump2', jump2), ''].join('\n'));
  const base = { ...varsFor(target), ansible_user: 'root', ansible_ssh_private_key_file: target.keyFile };
  const forwarded = (s: Sshd, port: number) =>
    new RegExp(`direct.tcpip.*target 127\\.0\\.0\\.1 port ${port}\\b`).test(s.log());

  const one = sshTarget('h', { ...base, ansible_ssh_common_args: `-F ${cfg} -o UserKnownHostsFile=${known} -J jump1` });
  t.equal(one.jumps?.length, 1);
  t.equal(await whoami(one), 'root');
  t.ok(forwarded(jump1, target.port), 'jump1 forwarded to the target');

  const args = `-F ${cfg} -o UserKnownHostsFile=${known} -o ProxyJump=jump1,jump2`;
  const two = sshTarget('h', { ...base, ansible_ssh_common_args: args });
  t.equal(await whoami(two), 'root');
  t.ok(forwarded(jump1, jump2.port), 'jump1 forwarded to jump2');
  t.ok(forwarded(jump2, target.port), 'jump2 forwarded to the target');

  const unknownHop = join(tmp, 'jump_known_partial');
  writeFileSync(unknownHop, readFileSync(target.knownHostsFile, 'utf8'));
  const refused = sshTarget('h', {
    ...base,
    ansible_ssh_common_args: `-F ${cfg} -o UserKnownHostsFile=${unknownHop} -J jump1`,
  });
  t.match(await whoami(refused), /jump host jump1.*no host key known/, 'each hop is checked against known_hosts');
});

t.test("Ansible's precedence for the login user", async (t) => {
  const user = 'rmqsshprec';
  t.teardown(throwawayUser(user, `# ${user}: no sudo`));
  const sshd = await startSshd(['root', user]);
  t.teardown(() => sshd.stop());
  freshHome('precedence');
  const cfg = join(tmp, 'config-prec');
  writeFileSync(cfg, `Host 127.0.0.1\n  User ${user}\n`);
  const inventory = (more: Record<string, unknown>) => ({
    ...varsFor(sshd),
    ansible_ssh_common_args: `-F ${cfg} -o UserKnownHostsFile=${sshd.knownHostsFile}`,
    ...more,
  });
  const runAs = async (
    inv: Record<string, unknown>,
    flags: ConstructorParameters<typeof Connections>[2],
    remoteUser?: string,
  ) => {
    const conns = new Connections(() => inv, undefined, flags);
    try {
      const host = await conns.get('h', remoteUser);
      return (await host.run('id -un')).stdout.trim();
    } finally {
      await conns.closeAll();
    }
  };
  const key = { privateKey: sshd.keyFile };
  t.equal(await runAs(inventory({}), { login: key }), user, '~/.ssh/config when nothing else is given');
  t.equal(await runAs(inventory({}), { login: { ...key, user: 'root' } }), 'root', '-u over ~/.ssh/config');
  const invRoot = inventory({ ansible_user: 'root' });
  t.equal(await runAs(invRoot, { login: { ...key, user } }), 'root', 'inventory ansible_user over -u, as Ansible');
  const extra = { ansible_user: user };
  t.equal(await runAs(invRoot, { login: key, extraVars: extra }), user, '-e over inventory');
  t.equal(await runAs(inventory({}), { login: { ...key, user: 'root' }, extraVars: extra }), user, '-e over -u');
  const keyByE = { extraVars: { ansible_user: 'root', ansible_ssh_private_key_file: sshd.keyFile } };
  t.equal(await runAs(inventory({ ansible_ssh_private_key_file: '/nonexistent' }), keyByE), 'root', '-e key');
  t.equal(await runAs(inventory({}), { login: key }, 'root'), 'root', 'remote_user over ~/.ssh/config');
  t.equal(await runAs(inventory({}), { login: { ...key, user } }, 'root'), 'root', 'remote_user over -u');
  t.equal(await runAs(invRoot, { login: key }, user), 'root', 'inventory ansible_user over remote_user');
  t.equal(await runAs(inventory({}), { login: key, extraVars: extra }, 'root'), user, '-e over remote_user');
});

t.test('remote_user of the play and of a task reach the login, through the CLI', async (t) => {
  const user = 'rmqsshremote';
  t.teardown(throwawayUser(user, `# ${user}: no sudo`));
  const sshd = await startSshd(['root', user]);
  t.teardown(() => sshd.stop());
  freshHome('remote-user');
  const dir = mkdtempSync(join(tmp, 'remote-user-'));
  const inv = join(dir, 'hosts.yml');
  const vars = varsFor(sshd, { ansible_ssh_private_key_file: sshd.keyFile });
  writeFileSync(
    inv,
    `all:\n  hosts:\n    h:\n${Object.entries(vars)
      .map(([k, v]) => `      ${k}: "${v}"\n`)
      .join('')}`,
  );
  const pb = join(dir, 'pb.yml');
  writeFileSync(
    pb,
    [
      '- hosts: all',
      `  remote_user: ${user}`,
      '  gather_facts: false',
      '  tasks:',
      '    - { name: as the play, command: id -un, register: a, changed_when: false }',
      '    - { name: play user, debug: { msg: "play={{ a.stdout }}" } }',
      '    - { name: as root, command: id -un, register: b, changed_when: false, remote_user: root }',
      '    - { name: task user, debug: { msg: "task={{ b.stdout }}" } }',
      '',
    ].join('\n'),
  );
  const said = (args: string[]) => {
    const r = rmqplay([pb, '-i', inv, '--json', ...args]);
    const msgs = events(r.stdout).flatMap((e) => (e.task?.endsWith(' user') && e.msg ? [e.msg] : []));
    return { status: r.status, msgs, stderr: r.stderr };
  };
  const plain = said([]);
  t.equal(plain.status, 0, plain.stderr);
  t.same(plain.msgs, [`play=${user}`, 'task=root'], "the play's remote_user, and the task's over it");
  t.same(said(['-u', 'root']).msgs, [`play=${user}`, 'task=root'], 'remote_user over -u');
  t.same(said(['-e', `ansible_user=${user}`]).msgs, [`play=${user}`, `task=${user}`], '-e ansible_user over both');
});
