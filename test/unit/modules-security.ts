// Issue 8, point 6 (modules side), on the local host in a temporary folder, through the task types
// themselves (check, plan, apply) and the local Host:
// - bytes are preserved exactly: random binary files through copy src, random text through copy
//   content, random non-UTF-8 template sources, lineinfile and blockinfile on non-UTF-8 files;
// - backups cannot be redirected by a planted symlink (copy backup: true, rabbitmq_conf's
//   DEST.rmqplay-prev, the copy-over used by rabbitmq_restart's rollback).
// SEED=n replays a run (the seed is printed); ROUNDS=n cases per property (default 10).
import t from 'tap';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalHost } from '../../dist/lib/connection/local.js';
import { Pending } from '../../dist/lib/modules/pending.js';
import { copy } from '../../dist/lib/modules/builtin/copy.js';
import { template } from '../../dist/lib/modules/builtin/template.js';
import { lineinfile } from '../../dist/lib/modules/builtin/lineinfile.js';
import { blockinfile } from '../../dist/lib/modules/builtin/blockinfile.js';
import { rabbitmq_conf } from '../../dist/lib/modules/rabbitmq/rabbitmq_conf.js';

t.setTimeout(300_000);

const host = new LocalHost();
const root = mkdtempSync(join(tmpdir(), 'rmqplay-modsec-'));
const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
t.comment(`seed ${seed} (SEED=${seed} replays it)`);
const ROUNDS = Number(process.env.ROUNDS ?? 10);

/** xorshift32: random but replayable. */
let state = seed || 1;
function next(): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 0x1_0000_0000;
}
const int = (n: number) => Math.floor(next() * n);

/** Random bytes, without the bytes in `without`. */
function bytes(n: number, without: number[] = []): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    let x = int(256);
    while (without.includes(x)) x = int(256);
    b[i] = x;
  }
  return b;
}

/** Random text: any code point but lone surrogates, astral ones included. */
function text(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    const pick = int(4);
    const cp =
      pick === 0
        ? int(0x80)
        : pick === 1
          ? 0x80 + int(0x780)
          : pick === 2
            ? 0xe000 + int(0x2000)
            : 0x10000 + int(0xfffff);
    s += String.fromCodePoint(cp);
  }
  return s;
}

/** Non-UTF-8 lines (Latin-1 bytes, at least one é as 0xE9), each ending in a newline. */
function latin1Lines(count: number): Buffer[] {
  const lines = Array.from({ length: count }, () => bytes(1 + int(60), [0x0a]));
  lines[int(count)][0] = 0xe9;
  return lines.map((l) => Buffer.concat([l, Buffer.from('\n')]));
}

let files = 0;
function ctxFor(vars: Record<string, unknown> = {}) {
  return {
    host,
    pending: new Pending(),
    pendingOf: () => new Pending(),
    checkMode: false,
    vars,
    taskId: 'modules-security',
    taskName: 'modules-security',
    findFile: (_kind: string, name: string) => name,
    barrier: async () => undefined,
  };
}

type Ctx = ReturnType<typeof ctxFor>;
type Args = Record<string, unknown>;
/** What these tests use of a task type (methods: their parameters are compared loosely). */
interface AnyTask {
  check(ctx: Ctx, args: Args): Promise<unknown>;
  plan(args: Args, state: unknown): unknown[];
  apply(ctx: Ctx, changes: unknown[], args: Args): Promise<unknown>;
}

/** check, plan, apply; then check again: nothing left to change. */
async function converge(task: AnyTask, args: Args, vars: Args = {}) {
  const ctx = ctxFor(vars);
  const s = await task.check(ctx, args);
  await task.apply(ctx, task.plan(args, s), args);
  const again = task.plan(args, await task.check(ctx, args));
  return again.length;
}

function newPath(): string {
  files++;
  return join(root, `f${files}`);
}

t.test('copy src: random binary files arrive byte for byte', async (t) => {
  let n = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const src = newPath();
    const dest = newPath();
    const want = bytes(i === 0 ? 3000 : int(5000));
    writeFileSync(src, want);
    const left = await converge(copy, { src, dest });
    t.ok(readFileSync(dest).equals(want), `file ${i} (${want.length} bytes) identical`) && n++;
    t.equal(left, 0, 'converged');
  }
  t.comment(`copy src: ${n}/${ROUNDS} binary files byte-exact`);
});

t.test('copy content: random text is written as its UTF-8 bytes', async (t) => {
  let n = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const dest = newPath();
    const content = text(int(300));
    const left = await converge(copy, { content, dest });
    t.ok(readFileSync(dest).equals(Buffer.from(content, 'utf8')), `content ${i} identical`) && n++;
    t.equal(left, 0, 'converged');
  }
  t.comment(`copy content: ${n}/${ROUNDS} texts byte-exact`);
});

t.test('template: the bytes of a non-UTF-8 template are kept, the value rendered in', async (t) => {
  let n = 0;
  // Without { } and \ (template syntax), and a newline before the placeholder.
  const syntax = [0x7b, 0x7d, 0x5c];
  for (let i = 0; i < ROUNDS; i++) {
    const src = newPath();
    const dest = newPath();
    const head = Buffer.concat([bytes(1 + int(2000), syntax), Buffer.from([0xe9, 0x0a])]);
    const tail = bytes(int(2000), syntax);
    writeFileSync(src, Buffer.concat([head, Buffer.from('{{ v }}'), tail]));
    const left = await converge(template, { src, dest }, { v: 'value-7' });
    const want = Buffer.concat([head, Buffer.from('value-7'), tail]);
    t.ok(readFileSync(dest).equals(want), `template ${i} (${want.length} bytes) identical`) && n++;
    t.equal(left, 0, 'converged');
  }
  t.comment(`template: ${n}/${ROUNDS} non-UTF-8 outputs byte-exact`);
});

t.test('lineinfile on non-UTF-8 files: untouched lines keep their bytes', async (t) => {
  let n = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const path = newPath();
    const lines = latin1Lines(2 + int(20));
    const at = int(lines.length + 1);
    const withKey = [...lines.slice(0, at), Buffer.from('key=old\n'), ...lines.slice(at)];
    writeFileSync(path, Buffer.concat(withKey));
    const replaced = await converge(lineinfile, { path, regexp: '^key=', line: 'key=né' });
    const newLine = Buffer.from('key=né\n', 'utf8');
    const want = Buffer.concat([...lines.slice(0, at), newLine, ...lines.slice(at)]);
    const ok1 = t.ok(readFileSync(path).equals(want), `file ${i}: one line replaced, the rest identical`);
    const appended = await converge(lineinfile, { path, line: 'added=1' });
    const ok2 = t.ok(readFileSync(path).equals(Buffer.concat([want, Buffer.from('added=1\n')])), `file ${i}: appended`);
    const removed = await converge(lineinfile, { path, regexp: '^key=', state: 'absent' });
    const without = Buffer.concat([...lines.slice(0, at), ...lines.slice(at), Buffer.from('added=1\n')]);
    const ok3 = t.ok(readFileSync(path).equals(without), `file ${i}: line removed, the rest identical`);
    t.same([replaced, appended, removed], [0, 0, 0], 'each edit converged');
    if (ok1 && ok2 && ok3) n++;
  }
  t.comment(`lineinfile: ${n}/${ROUNDS} non-UTF-8 files byte-exact (replace, append, remove)`);
});

t.test('files around the 1 MiB read with their state: each edit exact, in one round trip when small', async (t) => {
  for (const size of [0, 1, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 << 20]) {
    const path = newPath();
    const body = bytes(size);
    writeFileSync(path, body);
    let commands = 0;
    const counting = Object.create(host);
    counting.run = (script: string, o?: object) => (commands++, host.run(script, o));
    const ctx = { ...ctxFor(), host: counting as typeof host };
    const s = await lineinfile.check(ctx as never, { path, line: 'tail=1' });
    await lineinfile.apply(ctx as never, lineinfile.plan({ path, line: 'tail=1' }, s), { path, line: 'tail=1' });
    const nl = size > 0 && body[size - 1] !== 10 ? '\n' : '';
    t.ok(readFileSync(path).equals(Buffer.concat([body, Buffer.from(nl + 'tail=1\n')])), `${size} bytes: line added`);
    t.equal(commands > 0 && commands <= (size <= 1 << 20 ? 2 : 3), true, `${size} bytes: ${commands} commands`);
  }
});

t.test('blockinfile on non-UTF-8 files: untouched lines keep their bytes', async (t) => {
  let n = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const path = newPath();
    const lines = Buffer.concat(latin1Lines(2 + int(20)));
    writeFileSync(path, lines);
    const left = await converge(blockinfile, { path, block: 'p=1\nq=ü' });
    const block = Buffer.from('# BEGIN ANSIBLE MANAGED BLOCK\np=1\nq=ü\n# END ANSIBLE MANAGED BLOCK\n', 'utf8');
    const ok1 = t.ok(readFileSync(path).equals(Buffer.concat([lines, block])), `file ${i}: block added`);
    const gone = await converge(blockinfile, { path, state: 'absent' });
    const ok2 = t.ok(readFileSync(path).equals(lines), `file ${i}: block removed, bytes as before`);
    t.same([left, gone], [0, 0], 'converged');
    if (ok1 && ok2) n++;
  }
  t.comment(`blockinfile: ${n}/${ROUNDS} non-UTF-8 files byte-exact (add, remove)`);
});

/** A file someone else owns, and symlinks to it planted where a predictable backup would go. */
function victimAndLinks(dir: string, names: string[]): string {
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'do not touch\n');
  for (const n of names) symlinkSync(victim, join(dir, n));
  return victim;
}

/** Backup names main used (DEST.YYYYmmddHHMMSS~) for the next few seconds. */
function timestampNames(base: string): string[] {
  const now = Date.now();
  const pad = (x: number) => String(x).padStart(2, '0');
  return [0, 1, 2, 3].map((s) => {
    const d = new Date(now + s * 1000);
    const stamp =
      `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}` +
      `${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
    return `${base}.${stamp}~`;
  });
}

t.test('copy backup: a planted symlink at the backup name redirects nothing', async (t) => {
  const dir = mkdtempSync(join(root, 'bk-'));
  const dest = join(dir, 'app.conf');
  writeFileSync(dest, 'old\n');
  const victim = victimAndLinks(dir, timestampNames('app.conf'));
  await converge(copy, { content: 'new\n', dest, backup: true });
  t.equal(readFileSync(victim, 'utf8'), 'do not touch\n', 'the file the symlinks point to is unchanged');
  t.equal(readFileSync(dest, 'utf8'), 'new\n');
  const backups = readdirSync(dir).filter((f) => f.startsWith('app.conf.') && lstatSync(join(dir, f)).isFile());
  t.equal(backups.length, 1, `one backup, a regular file: ${backups.join(', ')}`);
  t.equal(readFileSync(join(dir, backups[0] ?? 'none')).toString(), 'old\n', 'it holds the old content');
});

t.test('rabbitmq_conf: a symlink planted at DEST.rmqplay-prev is replaced, not written through', async (t) => {
  const dir = mkdtempSync(join(root, 'conf-'));
  const dest = join(dir, 'rabbitmq.conf');
  const src = join(dir, 'rabbitmq.conf.hbs');
  writeFileSync(src, 'listeners.tcp.default = {{ port }}\n');
  writeFileSync(dest, 'listeners.tcp.default = 5672\n');
  const victim = victimAndLinks(dir, ['rabbitmq.conf.rmqplay-prev']);
  await converge(rabbitmq_conf, { src, dest }, { port: 5673 });
  t.equal(readFileSync(victim, 'utf8'), 'do not touch\n', 'the file the symlink points to is unchanged');
  const prev = join(dir, 'rabbitmq.conf.rmqplay-prev');
  t.ok(lstatSync(prev).isFile(), 'the previous config is a regular file');
  t.equal(readFileSync(prev, 'utf8'), 'listeners.tcp.default = 5672\n', 'holding the previous config');
  t.equal(readFileSync(dest, 'utf8'), 'listeners.tcp.default = 5673\n', 'and the new one is in place');
});

t.test('copy-over (rabbitmq_restart rollback): links replaced, folders refused', async (t) => {
  const { copyOverScript } = await import('../../dist/lib/modules/builtin/_write.js').catch(() => ({
    copyOverScript: undefined,
  }));
  if (!copyOverScript) return t.fail('copyOverScript is missing');
  const dir = mkdtempSync(join(root, 'over-'));
  const from = join(dir, 'conf');
  writeFileSync(from, Buffer.from([0xe9, 0x00, 0x0a]));
  const victim = victimAndLinks(dir, ['conf.failed']);
  const r = await host.run(copyOverScript(from, join(dir, 'conf.failed')));
  t.equal(r.code, 0, r.stderr);
  t.equal(readFileSync(victim, 'utf8'), 'do not touch\n', 'the link target is unchanged');
  t.ok(readFileSync(join(dir, 'conf.failed')).equals(Buffer.from([0xe9, 0x00, 0x0a])), 'the copy is exact');
  mkdirSync(join(dir, 'adir'));
  const intoDir = await host.run(copyOverScript(from, join(dir, 'adir')));
  t.not(intoDir.code, 0, 'a folder at the target is refused (mv -T)');
  t.same(readdirSync(join(dir, 'adir')), [], 'nothing landed inside it');
  t.same(
    readdirSync(dir).filter((f) => f.startsWith('.rmqplay')),
    [],
    'no temporary file left behind',
  );
});
