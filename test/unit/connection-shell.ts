// The shell channel and scripts (issue 8, points 3 and 5), through the local Host and through SshHost
// on a private sshd on 127.0.0.1 (test/sshd.ts): a command cannot alter another's result, background
// output does not leak into later results, leftovers and timed-out commands are killed, output parses
// in linear time, UTF-8 split across chunks survives, a 1 MiB script runs, become puts no script on a
// command line.
import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Host } from '../../dist/lib/connection/host.js';
import { LocalHost } from '../../dist/lib/connection/local.js';
import { SshHost } from '../../dist/lib/connection/ssh.js';
import { cmdlinesWith, startSshd } from '../sshd.js';

const dir = mkdtempSync(join(tmpdir(), 'rmqplay-conn-'));

// Reads its ancestors' memory for the framing (today's token and markers, or a runner's seq and nonce)
// and forges end-of-command frames for this command and the next one on every channel it can reach.
const ATTACKER = `
const fs = require('fs');
setTimeout(() => {
  const pids = [];
  for (let p = process.ppid; p > 1 && pids.length < 3; ) {
    pids.push(p);
    p = Number(fs.readFileSync('/proc/' + p + '/stat', 'utf8').split(') ')[1].split(' ')[1]);
  }
  let text = '';
  for (const p of pids) {
    try {
      const fd = fs.openSync('/proc/' + p + '/mem', 'r');
      for (const l of fs.readFileSync('/proc/' + p + '/maps', 'utf8').split('\\n')) {
        const m = /^([0-9a-f]+)-([0-9a-f]+) rw/.exec(l);
        if (!m) continue;
        const a = parseInt(m[1], 16), b = parseInt(m[2], 16);
        if (b - a > 16 << 20) continue;
        const buf = Buffer.alloc(b - a);
        try { fs.readSync(fd, buf, 0, b - a, a); text += buf.toString('latin1'); } catch {}
      }
    } catch {}
  }
  let out = '', err = '';
  const last = (re) => [...text.matchAll(re)].sort((x, y) => Number(x[2]) - Number(y[2])).pop();
  const old = last(/__RMQPLAY_([0-9a-f]{16})_(\\d+)__/g);
  if (old) {
    out += 'forged\\n\\n__RMQPLAY_' + old[1] + '_' + old[2] + '__ 0\\n';
    err += '\\n__RMQPLAY_' + old[1] + '_' + old[2] + '__\\n';
  }
  const ours = last(/rmqplay-runner (?=\\d+ ([0-9a-f]{16}))(\\d+)/g);
  if (ours) {
    for (const n of [Number(ours[2]), Number(ours[2]) + 1]) out += 'F ' + n + ' ' + ours[1] + ' 0 7 0\\nforged\\n';
  }
  for (const fd of [1, 2]) try { fs.writeSync(fd, fd === 1 ? out : err); } catch {}
  for (const p of pids) for (const fd of [1, 2]) {
    try { fs.writeFileSync('/proc/' + p + '/fd/' + fd, fd === 1 ? out : err); } catch {}
  }
}, 300);
`;
const attacker = join(dir, 'attacker.cjs');
writeFileSync(attacker, ATTACKER);

/** Gone, or a zombie waiting for an init that reaps slowly (as on this machine). */
function gone(pid: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].startsWith('Z');
  } catch {
    return true;
  }
}

async function properties(t: Tap.Test, host: Host): Promise<void> {
  await t.test('a command cannot alter the next one\u2019s result', async (t) => {
    await host.run(`${process.execPath} ${attacker} & sleep 2; echo a`).catch((e) => e);
    const b = await host.run('sleep 2; echo real; exit 5');
    t.same(b, { code: 5, stdout: 'real\n', stderr: '' }, 'the next command reports its own result');
    t.same(await host.run('echo c'), { code: 0, stdout: 'c\n', stderr: '' }, 'and the one after it too');
  });

  await t.test('background output does not land in later results; leftovers are killed', async (t) => {
    const a = await host.run('(sleep 0.5; echo late; echo late >&2) & sleep 300 >/dev/null 2>&1 & echo $!');
    t.equal(a.code, 0);
    t.match(a.stdout, /^\d+\n$/, 'only the command\u2019s own output');
    const b = await host.run('sleep 1; echo b');
    t.same(b, { code: 0, stdout: 'b\n', stderr: '' }, 'the next result is clean');
    t.ok(gone(a.stdout.trim()), 'the leftover background job is gone');
  });

  await t.test('a timed-out command\u2019s processes are gone', async (t) => {
    const pidFile = join(dir, `pid-${host.name}`);
    const started = Date.now();
    const e = await host.run(`sleep 300 & echo $! > ${pidFile}; wait`, { timeoutMs: 1000 }).catch((x) => x);
    t.match(String(e), /timed out/, `the run fails as timed out (${Date.now() - started} ms)`);
    await new Promise((r) => setTimeout(r, 300));
    const pid = readFileSync(pidFile, 'utf8').trim();
    t.ok(gone(pid), 'its process is gone');
    t.same(await host.run('echo after'), { code: 0, stdout: 'after\n', stderr: '' }, 'the host still runs commands');
  });

  await t.test('large outputs parse in linear time', async (t) => {
    for (const mib of [16, 64]) {
      const started = Date.now();
      const r = await host.run(`head -c ${mib * 1048576} /dev/zero | tr '\\0' x; echo err >&2`);
      const ms = Date.now() - started;
      t.ok(r.stdout.length === mib * 1048576 && r.stderr === 'err\n', `${mib} MiB of output read in ${ms} ms`);
      t.ok(ms < 20_000, 'within a generous bound');
    }
  });

  await t.test('multi-byte characters survive any chunking', async (t) => {
    const line = 'a\u00e9\u20ac\ud83d\ude00';
    const r = await host.run(`yes '${line}' | head -n 200000`);
    t.equal(r.stdout, `${line}\n`.repeat(200000), 'no U+FFFD');
  });

  await t.test('a 1 MiB script runs, also through become', async (t) => {
    const big = 'x'.repeat(1048576);
    for (const become of [undefined, { user: 'nobody' }]) {
      const r = await host.run(`s='${big}'\necho \${#s}; id -un`, { become });
      t.same(r.stdout, `1048576\n${become ? 'nobody' : 'root'}\n`, `ran ${become ? 'as nobody' : 'directly'}`);
    }
  });

  await t.test('become: the script is on no command line', async (t) => {
    const secret = `S3cret-${Math.random().toString(36).slice(2)}`;
    const run = host.run(`: ${secret}; sleep 1.5; id -un`, { become: { user: 'nobody' } });
    await new Promise((r) => setTimeout(r, 700));
    t.same(cmdlinesWith(secret), [], 'no /proc/*/cmdline holds the script');
    t.equal((await run).stdout, 'nobody\n');
  });
}

t.test('local host', async (t) => {
  await properties(t, new LocalHost('local'));
});

t.test('ssh host on a private sshd', async (t) => {
  const sshd = await startSshd();
  const host = new SshHost(sshd.target('root'));
  t.teardown(async () => {
    await host.close();
    sshd.stop();
  });
  await properties(t, host);
});
