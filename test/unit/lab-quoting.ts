// The lab's shell commands keep every path, name and address one word, whatever it holds. Each command runs in
// bash as the lab runs it, but against fake tools that record their arguments, so no root and no lab is needed.
import t from 'tap';
import { thrown } from '../helpers.js';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bridgeCommand,
  cleanHostCommands,
  debootstrapCommand,
  downloadCommand,
  finishBaseCommand,
  hostFilesCommand,
  indexRepoCommand,
  keygenCommand,
  killNamespaceCommand,
  knownHostsArgs,
  linkCommand,
  mountsUnder,
  networkCommand,
  overlayCommand,
  sshProbeCommand,
  unmountAllCommand,
} from '../../dist/lib/lab/lab.js';
import { labMain, parseLabArgs } from '../../dist/lib/lab/cli.js';
import { sshTarget } from '../../dist/lib/connection/ssh.js';
import { EXIT, exitCode, OptionsError } from '../../dist/lib/util/errors.js';

const TOOLS = [
  'chmod',
  'chroot',
  'cp',
  'debootstrap',
  'dpkg-scanpackages',
  'grep',
  'gzip',
  'ip',
  'mkdir',
  'mount',
  'mountpoint',
  'mv',
  'rm',
  'sleep',
  'ssh-keygen',
  'ssh-keyscan',
  'touch',
  'umount',
  'xargs',
];

// One record per call: the tool's name and its arguments, separated by ASCII unit and record separators. The
// record is built first and appended by one write, so two tools of one pipeline cannot interleave their records.
const FAKE = `#!/bin/sh
name=\${0##*/}
rec=$(printf '%s' "$name"; for a in "$@"; do printf '\\037%s' "$a"; done; printf '\\036.')
printf '%s' "\${rec%.}" >> "$FAKE_LOG"
case " $FAKE_FAIL " in *" $name "*) exit 1 ;; esac
exit 0
`;

const top = mkdtempSync(join(tmpdir(), 'rmqplay-lab-quoting-'));
const bin = join(top, 'bin');
mkdirSync(bin);
const fake = join(top, 'fake');
writeFileSync(fake, FAKE);
chmodSync(fake, 0o755);
for (const tool of TOOLS) symlinkSync(fake, join(bin, tool));

// A cache folder with a space, both quotes, a dollar, a star and a backslash in its name.
const cache = join(top, `my lab's "cache" $HOME * \\n`);
let runs = 0;

/** Runs cmd in bash with only the fake tools on PATH; returns each call as [tool, ...arguments]. */
function calls(cmd: string, fail: string[] = []): string[][] {
  const log = join(top, `calls-${++runs}`);
  writeFileSync(log, '');
  const env = { PATH: bin, HOME: top, FAKE_LOG: log, FAKE_FAIL: fail.join(' ') };
  const p = spawnSync('/bin/bash', ['-c', cmd], { env, encoding: 'utf8' });
  // With failing tools the command may fail as a whole; a tool this file has no fake for never may.
  const failed = p.status !== 0 && (fail.length === 0 || /not found/.test(p.stderr));
  if (failed) throw new Error(`bash -c ${cmd}: exit ${p.status}: ${p.stderr}`);
  const records = readFileSync(log, 'utf8').split('\x1e').slice(0, -1);
  return records.map((r) => r.split('\x1f'));
}

/** The calls in a stable order, for commands with pipes (their parts run at the same time). */
function sorted(list: string[][]): string[][] {
  const key = (c: string[]) => JSON.stringify(c);
  return [...list].sort((a, b) => key(a).localeCompare(key(b)));
}

t.test('building the base image: every path stays one word', async (t) => {
  const part = join(cache, 'base.partial');
  const base = join(cache, 'base');
  const repo = join(cache, 'repo');
  const key = join(cache, 'id_ed25519');
  const mirror = 'http://deb.example.org/debian';
  mkdirSync(join(part, 'etc', 'apt'), { recursive: true });
  mkdirSync(join(part, 'var', 'lib', 'apt', 'lists'), { recursive: true });
  writeFileSync(join(part, 'var', 'lib', 'apt', 'lists', 'a list'), '');
  mkdirSync(repo, { recursive: true });

  t.same(calls(keygenCommand(key)), [['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'rmqplay-lab', '-f', key]]);
  const include = '--include=openssh-server,systemd,systemd-sysv,dbus,iproute2,python3,sudo,ca-certificates';
  t.same(calls(debootstrapCommand(part, mirror)), [
    ['debootstrap', '--variant=minbase', include, 'bookworm', part, mirror],
  ]);

  const archives = 'Dir::Cache::archives=/mnt';
  const install = [
    'apt-get',
    '-q',
    '-y',
    'install',
    '--download-only',
    '-o',
    archives,
    'rabbitmq-server',
    'python3-apt',
  ];
  t.same(
    calls(downloadCommand(part, repo, mirror)),
    [
      ['cp', '/etc/resolv.conf', `${part}/etc/resolv.conf`],
      ['mount', '--bind', repo, `${part}/mnt`],
      ['mount', '-t', 'proc', 'proc', `${part}/proc`],
      ['chroot', part, 'apt-get', '-q', 'update'],
      ['chroot', part, 'env', 'DEBIAN_FRONTEND=noninteractive', ...install],
      ['umount', `${part}/mnt`],
      ['umount', `${part}/proc`],
    ],
    'the trap on exit unmounts the same paths',
  );
  t.equal(readFileSync(join(part, 'etc', 'apt', 'sources.list'), 'utf8'), `deb ${mirror} bookworm main\n`);

  t.same(
    sorted(calls(indexRepoCommand(repo))),
    sorted([['rm', '-rf', 'partial', 'lock'], ['dpkg-scanpackages', '-m', '.', '/dev/null'], ['gzip']]),
  );
  t.ok(existsSync(join(repo, 'Packages.gz')), 'the index is written inside the repository');

  t.same(calls(finishBaseCommand(part, base, key)), [
    [
      'rm',
      '-rf',
      `${part}/var/lib/apt/lists/a list`,
      `${part}/var/cache/apt/archives/*.deb`,
      `${part}/etc/ssh/ssh_host_*`,
    ],
    ['mkdir', '-p', `${part}/srv/repo`, `${part}/root/.ssh`],
    ['chmod', '700', `${part}/root/.ssh`],
    ['cp', `${key}.pub`, `${part}/root/.ssh/authorized_keys`],
    ['chmod', '600', `${part}/root/.ssh/authorized_keys`],
    ['rm', '-f', `${part}/etc/resolv.conf`],
    ['touch', `${part}/.rmqplay-complete`],
    ['rm', '-rf', base],
    ['mv', part, base],
  ]);
  const hosts = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n';
  t.equal(readFileSync(join(part, 'etc', 'hosts'), 'utf8'), hosts, 'globs still expand after a quoted folder');
  t.equal(readFileSync(join(part, 'etc', 'apt', 'sources.list'), 'utf8'), 'deb [trusted=yes] file:/srv/repo ./\n');
  t.ok(existsSync(join(part, 'etc', 'machine-id')));
});

t.test('a host: disk, files, network, probe, kill, link, cleaning', async (t) => {
  const d = join(cache, 'hosts', 'node1');
  const dirs = { d, upper: join(d, 'upper'), work: join(d, 'work'), root: join(d, 'root') };
  const base = join(cache, 'base');
  mkdirSync(join(dirs.root, 'etc'), { recursive: true });

  const options = `lowerdir=${base},upperdir=${dirs.upper},workdir=${dirs.work}`;
  t.same(calls(overlayCommand(dirs, base), ['mountpoint']), [
    ['mkdir', '-p', dirs.upper, dirs.work, dirs.root],
    ['mountpoint', '-q', dirs.root],
    ['mount', '-t', 'overlay', 'overlay', '-o', options, dirs.root],
  ]);

  const odd = "node 1's";
  t.same(calls(hostFilesCommand(dirs.root, odd)), [['chroot', dirs.root, 'ssh-keygen', '-A']]);
  t.equal(readFileSync(join(dirs.root, 'etc', 'hostname'), 'utf8'), `${odd}\n`);
  t.equal(readFileSync(join(dirs.root, 'etc', 'hosts'), 'utf8'), `127.0.1.1\t${odd}\n`);

  t.same(calls(networkCommand({ name: 'node1', ip: '10.9.8.11' }, '10.9.8')), [
    ['ip', 'netns', 'add', 'node1'],
    ['ip', 'link', 'add', 'veth-node1', 'type', 'veth', 'peer', 'name', 'vp-node1'],
    ['ip', 'link', 'set', 'vp-node1', 'netns', 'node1'],
    ['ip', '-n', 'node1', 'link', 'set', 'vp-node1', 'name', 'eth0'],
    ['ip', '-n', 'node1', 'addr', 'add', '10.9.8.11/24', 'dev', 'eth0'],
    ['ip', '-n', 'node1', 'link', 'set', 'eth0', 'up'],
    ['ip', '-n', 'node1', 'link', 'set', 'lo', 'up'],
    ['ip', '-n', 'node1', 'route', 'add', 'default', 'via', '10.9.8.1'],
    ['ip', 'link', 'set', 'veth-node1', 'master', 'rmqplay0'],
    ['ip', 'link', 'set', 'veth-node1', 'up'],
  ]);

  t.same(
    sorted(calls(bridgeCommand('10.9.8'), ['ip', 'grep'])),
    sorted([
      ['ip', 'link', 'show', 'rmqplay0'],
      ['ip', 'link', 'add', 'rmqplay0', 'type', 'bridge'],
      ['ip', 'addr', 'show', 'dev', 'rmqplay0'],
      ['grep', '-q', ' 10.9.8.1/24'],
      ['ip', 'addr', 'add', '10.9.8.1/24', 'dev', 'rmqplay0'],
      ['ip', 'link', 'set', 'rmqplay0', 'up'],
    ]),
    'a missing bridge is made with its gateway address',
  );

  t.same(
    sorted(calls(sshProbeCommand('10.9.8.11'))),
    sorted([
      ['ssh-keyscan', '-T', '2', '10.9.8.11'],
      ['grep', '-q', 'ssh-'],
    ]),
  );
  t.same(
    sorted(calls(killNamespaceCommand(odd))),
    sorted([
      ['ip', 'netns', 'pids', odd],
      ['xargs', '-r', 'kill', '-9'],
    ]),
  );
  t.same(calls(linkCommand(odd, false)), [['ip', 'link', 'set', `veth-${odd}`, 'down']]);
  t.same(calls(linkCommand('node2', true)), [['ip', 'link', 'set', 'veth-node2', 'up']]);

  const cleaning = cleanHostCommands(odd, dirs.root).map((cmd) => sorted(calls(cmd)));
  t.same(cleaning, [
    sorted([
      ['ip', 'netns', 'pids', odd],
      ['xargs', '-r', 'kill', '-9'],
      ['sleep', '0.2'],
    ]),
    sorted([
      ['mountpoint', '-q', dirs.root],
      ['umount', '-l', dirs.root],
    ]),
    sorted([
      ['ip', 'netns', 'del', odd],
      ['ip', 'link', 'del', `veth-${odd}`],
    ]),
  ]);
});

t.test('lab down finds the mounts under its hosts folder and unmounts each', async (t) => {
  const procMounts = [
    'overlay /var/cache/my\\040lab/hosts/node1/root overlay rw 0 0',
    'overlay /var/cache/my\\040lab/hosts-other/node1/root overlay rw 0 0',
    'overlay /var/cache/my\\040lab/hosts overlay rw 0 0',
    'overlay /var/cache/my\\040lab/hosts/node\\0112/a\\134b overlay rw 0 0',
    '',
  ].join('\n');
  const mounts = mountsUnder(procMounts, '/var/cache/my lab/hosts');
  t.same(mounts, ['/var/cache/my lab/hosts/node1/root', '/var/cache/my lab/hosts/node\t2/a\\b']);
  t.same(
    calls(unmountAllCommand(mounts)),
    mounts.map((m) => ['umount', '-l', m]),
  );
  t.same(calls(unmountAllCommand([])), [], 'nothing to unmount is no error');
});

t.test('the inventory points at a known_hosts with a space in its path', async (t) => {
  const known = '/var/cache/my lab/known_hosts';
  const vars = { ansible_host: '10.9.8.11', ansible_ssh_common_args: knownHostsArgs(known) };
  t.equal(sshTarget('node1', vars).knownHostsFile, known);
  t.equal(knownHostsArgs('/var/cache/lab/known_hosts'), '-o UserKnownHostsFile=/var/cache/lab/known_hosts');
});

t.test('labMain decides no exit code: options errors are thrown, results are EXIT values', async (t) => {
  for (const args of [['--nodes', '0'], ['--subnet', '10.1.2.3/16'], ['--cache'], ['--bogus']])
    t.ok(thrown(() => parseLabArgs(args)) instanceof OptionsError, `${args.join(' ')}: an OptionsError`);
  t.same(parseLabArgs(['--cache', cache, 'node2']).names, ['node2']);
  const bad = await labMain(['sideways']).catch((e: unknown) => e);
  t.ok(bad instanceof OptionsError, 'an unknown subcommand is an OptionsError');
  t.equal(exitCode(bad), EXIT.badOptions);
  const oneName = await labMain(['kill', '--cache', cache]).catch((e: unknown) => e);
  t.equal(exitCode(oneName), EXIT.badOptions, 'kill without a host name');
  const empty = join(top, 'empty cache');
  t.equal(await labMain(['status', '--cache', empty]), EXIT.ok, 'status of a lab that was never up');
});
