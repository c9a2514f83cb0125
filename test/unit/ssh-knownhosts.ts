// Host keys as OpenSSH checks them (issue 10), on private sshds on 127.0.0.1: hashed, [host]:port, wildcard,
// negated and case-insensitive names; @revoked refused; accept-new records a new key once under 10 parallel
// connections and refuses a changed one; `no` accepts a changed key with a warning; a host known only by its
// RSA key connects when it offers ed25519 first; host_key_checking = False from ansible.cfg or the environment.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lookupHost } from '../../dist/lib/connection/knownhosts.js';
import { SshHost, SshTarget, sshTarget } from '../../dist/lib/connection/ssh.js';
import { Sshd, startSshd } from '../sshd.js';

const tmp = mkdtempSync(join(tmpdir(), 'rmqplay-kh-'));
const KEY_A = 'AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

function fingerprintOf(pubLine: string): string {
  const file = join(tmp, `fp-${Math.random()}`);
  writeFileSync(file, pubLine + '\n');
  // ssh-keygen prints "256 SHA256:... comment (ED25519)": OpenSSH's own fingerprint.
  return execFileSync('ssh-keygen', ['-lf', file], { encoding: 'utf8' }).split(' ')[1];
}

async function tryConnect(target: SshTarget): Promise<string> {
  const host = new SshHost(target);
  try {
    await host.connect();
    const r = await host.run('echo ok');
    return r.stdout.trim();
  } catch (e) {
    return String((e as Error).message);
  } finally {
    await host.close();
  }
}

t.test('known_hosts names as OpenSSH matches them', async (t) => {
  const file = join(tmp, 'names');
  writeFileSync(
    file,
    [
      `web1.example.com ssh-ed25519 ${KEY_A}1`,
      `[db.example.com]:2222 ssh-ed25519 ${KEY_A}2`,
      `*.wild.test,!bad.wild.test ssh-ed25519 ${KEY_A}3`,
      `Mixed.Case.TEST ssh-ed25519 ${KEY_A}4`,
      `node?.q.test ssh-ed25519 ${KEY_A}5`,
      '',
    ].join('\n'),
  );
  const keys = (h: string, p = 22) => lookupHost([file], h, p).keys.map((k) => k.key.slice(-1));
  t.same(keys('web1.example.com'), ['1'], 'plain name');
  t.same(keys('WEB1.example.com'), ['1'], 'names are case-insensitive');
  t.same(keys('web1.example.com', 2222), [], 'a plain name is port 22 only');
  t.same(keys('db.example.com', 2222), ['2'], '[host]:port');
  t.same(keys('db.example.com'), [], '[host]:port is not port 22');
  t.same(keys('a.wild.test'), ['3'], 'wildcard');
  t.same(keys('bad.wild.test'), [], 'negated pattern rules the line out');
  t.same(keys('mixed.case.test'), ['4'], 'a pattern in capitals matches');
  t.same(keys('node1.q.test'), ['5'], '? is one character');
  t.same(keys('node10.q.test'), [], '? is exactly one character');

  // ssh-keygen -H hashes the file the way OpenSSH writes HashKnownHosts entries.
  execFileSync('ssh-keygen', ['-q', '-H', '-f', file]);
  t.notMatch(readFileSync(file, 'utf8'), /web1\.example\.com|db\.example\.com/, 'the file is hashed');
  t.same(keys('web1.example.com'), ['1'], 'hashed plain name');
  t.same(keys('Web1.Example.com'), ['1'], 'hashed name, case-insensitive');
  t.same(keys('db.example.com', 2222), ['2'], 'hashed [host]:port');
});

t.test('host keys on a private sshd', async (t) => {
  const sshd = await startSshd();
  t.teardown(() => sshd.stop());
  const hostKey = sshd.hostKeys[0];
  const fp = fingerprintOf(hostKey);
  const withKnown = (name: string, text: string, mode: SshTarget['strictHostKeys'] = 'yes'): SshTarget => {
    const knownHostsFile = join(tmp, name);
    writeFileSync(knownHostsFile, text);
    return { ...sshd.target('root'), knownHostsFile, strictHostKeys: mode };
  };
  const otherKey = `ssh-ed25519 ${KEY_A}9`;

  await t.test('a known key connects; an unknown host is refused with its fingerprint', async (t) => {
    t.equal(await tryConnect(sshd.target('root')), 'ok');
    const msg = await tryConnect(withKnown('empty', ''));
    t.match(msg, /no host key known for sshd-local \(127\.0\.0\.1:\d+\)/);
    t.ok(msg.includes(`ssh-ed25519 key ${fp}`), `names the type and ${fp}`);
  });

  await t.test('@revoked is refused, even with StrictHostKeyChecking=no', async (t) => {
    const text = `[127.0.0.1]:${sshd.port} ${hostKey}\n@revoked [127.0.0.1]:${sshd.port} ${hostKey}\n`;
    for (const mode of ['yes', 'accept-new', 'no'] as const) {
      const msg = await tryConnect(withKnown(`revoked-${mode}`, text, mode));
      t.match(msg, /REVOKED/, mode);
      t.ok(msg.includes(fp), 'with the fingerprint');
    }
  });

  await t.test('@cert-authority: host certificates are said to be unsupported', async (t) => {
    const msg = await tryConnect(withKnown('ca', `@cert-authority [127.0.0.1]:* ${otherKey}\n`));
    t.match(msg, /host certificates are not supported/);
  });

  await t.test('wildcard and hashed entries verify a real connection', async (t) => {
    t.equal(await tryConnect(withKnown('wild', `[127.0.0.?]:${sshd.port} ${hostKey}\n`)), 'ok');
    const neg = `[127.0.0.?]:${sshd.port},![127.0.0.1]:${sshd.port} ${hostKey}\n`;
    t.match(await tryConnect(withKnown('neg', neg)), /no host key known/, 'a negated name is not known');
    const hashed = withKnown('hashed', `[127.0.0.1]:${sshd.port} ${hostKey}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', hashed.knownHostsFile]);
    t.match(readFileSync(hashed.knownHostsFile, 'utf8'), /^\|1\|/);
    t.equal(await tryConnect(hashed), 'ok');
  });

  await t.test('accept-new records once under 10 parallel connections, then refuses a changed key', async (t) => {
    const target = withKnown('accept-new', '', 'accept-new');
    const results = await Promise.all(Array.from({ length: 10 }, () => tryConnect(target)));
    t.same(results, Array(10).fill('ok'));
    const lines = readFileSync(target.knownHostsFile, 'utf8').split('\n').filter(Boolean);
    t.same(lines, [`[127.0.0.1]:${sshd.port} ${hostKey}`], 'one line, as ssh writes it');
    t.equal(await tryConnect(target), 'ok', 'the recorded key is accepted');
    const changed = withKnown('accept-new-changed', `[127.0.0.1]:${sshd.port} ${otherKey}\n`, 'accept-new');
    const msg = await tryConnect(changed);
    t.match(msg, /has CHANGED/);
    t.ok(msg.includes(`ssh-ed25519 key ${fp}`), 'names the offered key');
    t.notMatch(readFileSync(changed.knownHostsFile, 'utf8'), /AAAAC3NzaC1lZDI1NTE5AAAAI[^A]/, 'not appended');
    t.match(await tryConnect({ ...changed, strictHostKeys: 'yes' }), /has CHANGED/, 'yes refuses it too');
  });

  await t.test('StrictHostKeyChecking=no accepts a changed key and says so', async (t) => {
    const warnings: string[] = [];
    const target = withKnown('no-changed', `[127.0.0.1]:${sshd.port} ${otherKey}\n`, 'no');
    t.equal(await tryConnect({ ...target, warn: (l) => warnings.push(l) }), 'ok');
    t.equal(warnings.length, 1);
    t.match(warnings[0], /WARNING: host key of sshd-local \(127\.0\.0\.1:\d+\) has CHANGED/);
    t.ok(warnings[0].includes(fp), 'with the fingerprint');
  });
});

t.test('a host known only by its RSA key connects though it offers ed25519 first', async (t) => {
  const sshd: Sshd = await startSshd(['root'], { hostKeyTypes: ['ed25519', 'rsa'], knownTypes: ['rsa'] });
  t.teardown(() => sshd.stop());
  t.match(readFileSync(sshd.knownHostsFile, 'utf8'), /ssh-rsa/);
  t.notMatch(readFileSync(sshd.knownHostsFile, 'utf8'), /ssh-ed25519/);
  t.equal(await tryConnect(sshd.target('root')), 'ok');
});

t.test("Ansible's host_key_checking = False is StrictHostKeyChecking=no", async (t) => {
  const saved = { ...process.env };
  t.teardown(() => {
    process.env = saved;
  });
  delete process.env.ANSIBLE_HOST_KEY_CHECKING;
  const cfg = join(tmp, 'ansible.cfg');
  writeFileSync(cfg, '[ssh_connection]\nhost_key_checking = False\n[defaults]\nhost_key_checking = True\n');
  process.env.ANSIBLE_CONFIG = cfg;
  t.equal(sshTarget('h', {}).strictHostKeys, 'yes', 'only [defaults] counts');
  writeFileSync(cfg, '[defaults]\nhost_key_checking = False\n');
  t.equal(sshTarget('h', {}).strictHostKeys, 'no', 'ansible.cfg');
  const accept = { ansible_ssh_common_args: '-o StrictHostKeyChecking=accept-new' };
  t.equal(sshTarget('h', accept).strictHostKeys, 'no', 'above ssh options, as Ansible passes it first');
  writeFileSync(cfg, '[defaults]\n');
  t.equal(sshTarget('h', accept).strictHostKeys, 'accept-new');
  process.env.ANSIBLE_HOST_KEY_CHECKING = 'False';
  t.equal(sshTarget('h', {}).strictHostKeys, 'no', 'ANSIBLE_HOST_KEY_CHECKING');
});
