// Reads sent together (issue 11): SshHost sends the batchable reads queued together as one batch, one round
// trip (session.ts runBatch, shellscripts.ts __rmqplay_batch), on a private sshd on 127.0.0.1 (test/sshd.ts).
// Each command keeps its own exit code, stdout and stderr (UTF-8, empty, large); a command that is not a batch
// read runs alone and in its order; a batch past its timeout fails its commands and the shell runs on.
import t from 'tap';
import { SshHost } from '../../dist/lib/connection/ssh.js';
import { startSshd } from '../sshd.js';

t.test('SSH: batchable reads go as one batch, each with its own result', async (t) => {
  const sshd = await startSshd();
  t.teardown(() => sshd.stop());
  const host = new SshHost(sshd.target('root'));
  t.teardown(() => host.close());
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
  const sshd = await startSshd();
  t.teardown(() => sshd.stop());
  const host = new SshHost(sshd.target('root'));
  t.teardown(() => host.close());
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
  const sshd = await startSshd();
  t.teardown(() => sshd.stop());
  const host = new SshHost(sshd.target('root'));
  t.teardown(() => host.close());
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
