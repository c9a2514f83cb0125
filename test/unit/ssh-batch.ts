// Reads sent together (issue 11): SshHost sends the batchable reads queued together as one batch, one round
// trip (session.ts runBatch, shellscripts.ts __rmqplay_batch), on a private sshd on 127.0.0.1 (test/sshd.ts).
// Each command keeps its own exit code, stdout and stderr (UTF-8, empty, large); a command that is not a batch
// read runs alone and in its order; a batch past its timeout fails its commands and the shell runs on; the same
// read twice runs once; paths asked with stat() are read together and say what statScript says of each.
import t from 'tap';
import { SshHost } from '../../dist/lib/connection/ssh.js';
import { parseStat, sha256, statScript } from '../../dist/lib/modules/facts.js';
import { startSshd } from '../sshd.js';

/** An SshHost on a private sshd as root; both end with the test. */
async function privateHost(t: Tap.Test): Promise<SshHost> {
  const sshd = await startSshd();
  t.teardown(() => sshd.stop());
  const host = new SshHost(sshd.target('root'));
  t.teardown(() => host.close());
  return host;
}

t.test('SSH: batchable reads go as one batch, each with its own result', async (t) => {
  const host = await privateHost(t);
  await host.run('true');
  const before = { ...host.stats };
  const big = 'x'.repeat(100_000);
  const scripts = [
    'echo one',
    'echo two >&2; exit 3',
    'true',
    "printf '%s' 'héllo wörld'",
    `printf '%s' '${big}'`,
    'exit 7',
    'exit 0',
  ];
  const results = await Promise.all(scripts.map((s) => host.run(s, { batch: true })));
  t.same(
    results.slice(0, 4),
    [
      { code: 0, stdout: 'one\n', stderr: '' },
      { code: 3, stdout: '', stderr: 'two\n' },
      { code: 0, stdout: '', stderr: '' },
      { code: 0, stdout: 'héllo wörld', stderr: '' },
    ],
    'codes, stdout and stderr are each command own',
  );
  t.equal(results[4].stdout.length, big.length, 'a 100 kB output arrives whole');
  t.equal(results[5].code, 7, 'exit inside a batched command ends that command only');
  t.same(results[6], { code: 0, stdout: '', stderr: '' }, 'the last command ran after the exit of the one before');
  t.equal(host.stats.commands - before.commands, scripts.length, 'every command counted');
  t.equal(host.stats.batches - before.batches, 1, 'one batch, one round trip');
});

t.test('SSH: a command that is not a batch read keeps its place in the queue', async (t) => {
  const host = await privateHost(t);
  const dir = (await host.run('mktemp -d')).stdout.trim();
  const order = await Promise.all([
    host.run(`cat ${dir}/f 2>/dev/null || echo none`, { batch: true }),
    host.run(`echo written > ${dir}/f`),
    host.run(`cat ${dir}/f`, { batch: true }),
    host.run(`cat ${dir}/f`, { batch: true }),
  ]);
  t.same(
    order.map((r) => r.stdout.trim()),
    ['none', '', 'written', 'written'],
    'the read before the write saw nothing, the reads after it saw the file',
  );
  t.equal(host.stats.batches, 1, 'only the two reads after the write went together');
  await host.run(`rm -rf ${dir}`);
});

t.test('SSH: a batch past its timeout fails its commands; the shell runs on', async (t) => {
  const host = await privateHost(t);
  const late = await Promise.allSettled([
    host.run('echo first', { batch: true, timeoutMs: 1000 }),
    host.run('sleep 5; echo late', { batch: true, timeoutMs: 1000 }),
    host.run('echo never', { batch: true, timeoutMs: 1000 }),
  ]);
  t.same(late[0], { status: 'fulfilled', value: { code: 0, stdout: 'first\n', stderr: '' } }, 'the first ran');
  for (const r of late.slice(1)) {
    t.equal(r.status, 'rejected');
    t.match(String((r as PromiseRejectedResult).reason), /timed out after 1 s/, 'the stopped ones time out');
  }
  t.same(await host.run('echo after'), { code: 0, stdout: 'after\n', stderr: '' }, 'the same shell runs on');
  t.equal(host.stats.channels, 1, 'no new channel was needed');
});

t.test('SSH: commands sent while the shell is still starting (warm) wait for it', async (t) => {
  const sshd = await startSshd();
  t.teardown(() => sshd.stop());
  for (let round = 1; round <= 5; round++) {
    const host = new SshHost(sshd.target('root'));
    await host.connect();
    host.warm();
    // The channel is open (counted) but the shell has not said it is ready yet: commands come now.
    while (host.stats.channels === 0) await new Promise((r) => setImmediate(r));
    const runs = [host.run('echo one', { batch: true }), host.run('echo two', { batch: true }), host.run('echo 3')];
    const results = await Promise.allSettled(runs);
    t.same(
      results.map((r) => (r.status === 'fulfilled' ? r.value.stdout : String(r.reason))),
      ['one\n', 'two\n', '3\n'],
      `round ${round}: every command ran on the one shell`,
    );
    t.equal(host.stats.channels, 1, `round ${round}: one channel`);
    await host.close();
  }
});

t.test('SSH: the same read twice in one batch runs once', async (t) => {
  const host = await privateHost(t);
  await host.run('true');
  // Nanoseconds differ between two runs: equal results mean one run.
  const [a, b, c] = await Promise.all([
    host.run('date +%N', { batch: true }),
    host.run('date +%N', { batch: true }),
    host.run('date +%N; true', { batch: true }),
  ]);
  t.equal(a.stdout, b.stdout, 'the two equal scripts got one result');
  t.not(a.stdout, c.stdout, 'another script ran apart');
});

t.test('SSH: paths read together (stat) say what the path script of each says', async (t) => {
  const host = await privateHost(t);
  const d = (await host.run('mktemp -d')).stdout.trim();
  t.teardown(() => host.run(`rm -rf ${d}`));
  const made = await host.run(
    [
      `cd ${d}`,
      'mkdir dir && chmod 0750 dir',
      "printf 'h\\351llo\\000w\\303\\266rld\\n' > file && chmod 0640 file",
      ': > empty && chmod 4755 empty',
      'ln -s file link && ln -s nowhere dangling && mkfifo fifo',
      "printf 'spaced' > 'a b' && printf 'new\\nline' > \"$(printf 'x\\ny')\"",
      'head -c 1048577 /dev/zero > big && head -c 1048576 /dev/zero > limit',
    ].join(' && '),
  );
  t.equal(made.code, 0, made.stderr);
  const names = ['dir', 'file', 'empty', 'link', 'dangling', 'fifo', 'missing', 'a b', 'x\ny', 'big', 'limit', 'dir/'];
  const reads = names.flatMap((n) => [
    { path: `${d}/${n}`, bytes: true },
    { path: `${d}/${n}`, bytes: false },
  ]);
  const before = host.stats.batches;
  const infos = await Promise.all(reads.map((r) => host.stat(r.path, r.bytes, { batch: true })));
  t.equal(host.stats.batches - before, 1, 'every path in one batch');
  for (const [i, r] of reads.entries()) {
    const info = infos[i];
    const shown = `${r.path.slice(d.length + 1)}${r.bytes ? ' with bytes' : ''}`;
    if (!info) {
      t.fail(`${shown}: no state`);
      continue;
    }
    const own = parseStat((await host.run(statScript(r.path))).stdout.trim());
    const attrs = (x: Record<string, unknown>) => ({ ...x, mode: String(x.mode).padStart(4, '0') });
    if (own.kind === 'file' && info.kind === 'file') {
      const { bytes, ...rest } = info;
      const { sha256: sum, ...ownAttrs } = own;
      t.same(attrs(rest), ownAttrs, `${shown}: mode, owner, group, size`);
      if (r.bytes && own.size <= 1 << 20) t.equal(sha256(bytes!), sum, `${shown}: its bytes`);
      else t.equal(bytes, undefined, `${shown}: no bytes (not asked, or over 1 MiB)`);
    } else if (own.kind === 'link') t.same(info, { kind: 'link', target: own.src }, `${shown}: ${own.src}`);
    else if (own.kind === 'directory') t.same(attrs(info as never), own, `${shown}: directory`);
    else t.same(info, own, `${shown}: ${own.kind}`);
  }
  t.equal(await host.stat('relative/path', true, { batch: true }), undefined, 'a relative path: no state');
  t.equal(await host.stat(`${d}/file`, true, { batch: true }), undefined, 'a path alone: its own script reads it');
  t.equal(await host.stat(`${d}/file`, true), undefined, 'not a batch read: no state');
});
