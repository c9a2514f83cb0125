// The check-mode overlay (Pending) on its own: what earlier changes would leave, as later tasks ask it.
import t from 'tap';
import { Change, Effect, Pending } from '../../dist/lib/modules/pending.js';

const dir = (path: string, attrs: { mode?: string; owner?: string } = {}): Change => ({
  action: `create directory ${path}`,
  effects: [{ kind: 'file', path, state: 'directory', ...attrs }],
});
const write = (path: string, content: string): Change => ({
  action: `create ${path}`,
  effects: [{ kind: 'file', path, state: 'file', sha256: 'h-' + content, content }],
});
const only = (...effects: Effect[]): Change => ({ action: 'several', effects });
const pendingOf = (...tasks: Change[][]): Pending => {
  const p = new Pending();
  tasks.forEach((changes, i) => p.record(`task ${i}`, changes));
  return p;
};

t.test('record: an empty overlay, effects kept, a change without effects is "other"', async (t) => {
  const p = new Pending();
  t.ok(p.empty, 'a new overlay is empty (a real run never records)');
  t.equal(p.file('/x'), undefined, 'nothing pending: ask the host');
  p.record('no changes', []);
  t.ok(p.empty, 'a task that changes nothing records nothing');
  p.record('restart', [{ action: 'restart it' }]);
  t.notOk(p.empty);
  const other = p.find((e) => e.kind === 'other');
  t.same(other?.effect, { kind: 'other', what: 'restart it' }, 'an effectless change is kept as "other"');
  t.equal(p.describe(other!), 'restart it (task "restart")', 'describe names the action and the task');
  p.record('two', [
    only({ kind: 'package', name: 'a', state: 'present' }, { kind: 'package', name: 'b', state: 'absent' }),
  ]);
  t.equal(
    p.lastIndex((e) => e.kind === 'package'),
    2,
    'each effect of a change is an entry, in order',
  );
  t.equal(
    p.lastIndex((e) => e.kind === 'service'),
    -1,
    'no match: -1',
  );
});

t.test('file(): the latest effect on a path wins; other paths are untouched', async (t) => {
  const p = pendingOf([write('/etc/a', 'one')], [write('/etc/a', 'two')], [dir('/srv/d')]);
  t.match(p.file('/etc/a'), { state: 'file', content: 'two' }, 'the second write is what the path would hold');
  t.match(p.file('/srv/d'), { state: 'directory' });
  t.equal(p.file('/etc/b'), undefined, 'a sibling is not pending');
  t.equal(p.file('/etc/a/x'), undefined, 'below a pending file is nothing pending');
  t.equal(p.file('/srv/dd'), undefined, 'a name that only starts like a pending directory is not under it');
  p.record('rm', [{ action: 'remove /etc/a', effects: [{ kind: 'file', path: '/etc/a', state: 'absent' }] }]);
  t.same(p.file('/etc/a'), { kind: 'file', path: '/etc/a', state: 'absent' }, 'a later removal wins');
  p.record('ln', [{ action: 'link', effects: [{ kind: 'file', path: '/etc/a', state: 'link', src: '/t' }] }]);
  t.same(p.file('/etc/a'), { kind: 'file', path: '/etc/a', state: 'link', src: '/t' }, 'then a link');
});

t.test('file(): attributes merge over what the path would be', async (t) => {
  const attrs = (path: string, a: { mode?: string; owner?: string; group?: string }): Change => ({
    action: `${path}: attrs`,
    effects: [{ kind: 'file', path, state: 'attrs', ...a }],
  });
  const p = pendingOf([write('/f', 'x')], [attrs('/f', { mode: '0600' })], [attrs('/f', { owner: 'app' })]);
  t.same(
    p.file('/f'),
    { kind: 'file', path: '/f', state: 'file', sha256: 'h-x', content: 'x', mode: '0600', owner: 'app' },
    'content from the write, mode and owner from two attribute changes',
  );
  const q = pendingOf([dir('/d', { mode: '0755', owner: 'root' })], [attrs('/d', { mode: '0700' })]);
  t.same(q.file('/d'), { kind: 'file', path: '/d', state: 'directory', mode: '0700', owner: 'root' }, 'on a directory');
  const r = pendingOf([attrs('/real', { group: 'adm' })]);
  t.same(
    r.file('/real'),
    { kind: 'file', path: '/real', state: 'attrs', group: 'adm' },
    'alone: attrs (facts reads the rest)',
  );
  const l = pendingOf([{ action: 'ln', effects: [{ kind: 'file', path: '/l', state: 'link', src: '/t' }] }]);
  l.record('attrs', [attrs('/l', { mode: '0600' })]);
  t.match(l.file('/l'), { state: 'attrs' }, 'a link takes no merged attributes');
});

t.test('file(): removing a folder removes what is under it, until something is made again', async (t) => {
  const rm = (path: string): Change => ({
    action: `remove ${path}`,
    effects: [{ kind: 'file', path, state: 'absent' }],
  });
  const p = pendingOf([write('/srv/app/conf', 'x')], [rm('/srv/app')]);
  t.same(p.file('/srv/app/conf'), { kind: 'file', path: '/srv/app/conf', state: 'absent' }, 'the file goes with it');
  t.same(p.file('/srv/app/never/seen'), { kind: 'file', path: '/srv/app/never/seen', state: 'absent' }, 'any depth');
  t.equal(p.file('/srv/application'), undefined, 'a name that only starts the same is not under it');
  t.equal(p.file('/srv'), undefined, 'the folder above is not touched');
  p.record('again', [write('/srv/app/conf', 'y')]);
  t.match(p.file('/srv/app/conf'), { state: 'file', content: 'y' }, 'a later write brings it back');
  const slash = pendingOf([rm('/var/x/')]);
  t.match(slash.file('/var/x/y'), { state: 'absent' }, 'a trailing slash on the removed folder is ignored');
});

t.test('file(): a pending directory implies its parents (mkdir -p)', async (t) => {
  const p = pendingOf([dir('/srv/a/b', { mode: '0700', owner: 'app' })]);
  t.same(p.file('/srv/a'), { kind: 'file', path: '/srv/a', state: 'directory' }, 'the parent would be a directory');
  t.same(p.file('/srv'), { kind: 'file', path: '/srv', state: 'directory' }, 'and the grandparent');
  t.same(p.file('/'), { kind: 'file', path: '/', state: 'directory' }, 'and /');
  t.notOk('mode' in p.file('/srv/a')!, "the parents do not take the task's mode: mkdir -p makes them with defaults");
  t.match(p.file('/srv/a/b'), { state: 'directory', mode: '0700' }, 'the directory itself keeps its attributes');
  t.equal(p.file('/srv/a/b/c'), undefined, 'below it nothing is pending');
  t.equal(p.file('/srv/ab'), undefined, 'a name that only starts the same is no parent');
  t.equal(p.file('/srv/a/c'), undefined, 'a sibling of the directory is no parent');
  const slash = pendingOf([dir('/opt/x/y/')]);
  t.match(slash.file('/opt/x'), { state: 'directory' }, 'a trailing slash on the directory is ignored');
  t.match(slash.file('/opt/x/y'), { state: 'directory' }, 'and the directory asked without its slash is one');

  const rm = (path: string): Change => ({
    action: `remove ${path}`,
    effects: [{ kind: 'file', path, state: 'absent' }],
  });
  const order1 = pendingOf([dir('/srv/a/b')], [rm('/srv/a')]);
  t.match(order1.file('/srv/a'), { state: 'absent' }, 'made, then removed: absent');
  t.match(order1.file('/srv/a/b'), { state: 'absent' }, 'and the directory with it');
  const order2 = pendingOf([rm('/srv')], [dir('/srv/a/b')]);
  t.match(order2.file('/srv'), { state: 'directory' }, 'removed, then made again below: a directory again');
  t.match(order2.file('/srv/a'), { state: 'directory' });
  t.match(order2.file('/srv/other'), { state: 'absent' }, 'what else was under the removed folder stays absent');

  const kept = pendingOf([dir('/srv/a', { mode: '0750' })], [dir('/srv/a/b')]);
  t.same(
    kept.file('/srv/a'),
    { kind: 'file', path: '/srv/a', state: 'directory', mode: '0750' },
    'an earlier pending parent keeps its mode',
  );
  const link = pendingOf([{ action: 'ln', effects: [{ kind: 'file', path: '/srv/a', state: 'link', src: '/data' }] }]);
  link.record('mkdir', [dir('/srv/a/b')]);
  t.match(link.file('/srv/a'), { state: 'link', src: '/data' }, 'mkdir -p follows a link: it stays a link');
  const files = pendingOf([write('/srv/w/x.conf', 'x')]);
  t.equal(files.file('/srv/w'), undefined, 'a file write makes no parents (put needs the folder): not implied');
});

t.test('package(): the latest state of a package; packages(): those to install', async (t) => {
  const pkg = (name: string, state: 'present' | 'absent'): Change => ({
    action: `${state} ${name}`,
    effects: [{ kind: 'package', name, state }],
  });
  const p = pendingOf([pkg('curl', 'present')], [pkg('vim', 'present')], [pkg('curl', 'absent')]);
  t.match(p.package('curl'), { effect: { state: 'absent' }, task: 'task 2' }, 'the latest entry for the name');
  t.match(p.package('vim'), { effect: { state: 'present' }, task: 'task 1' });
  t.equal(p.package('nano'), undefined, 'no entry: not pending');
  t.same(
    p.packages().map((e) => e.effect),
    [
      { kind: 'package', name: 'curl', state: 'present' },
      { kind: 'package', name: 'vim', state: 'present' },
    ],
    'packages() lists the installs, in order',
  );
});

t.test('service(): the merged wanted state of a service', async (t) => {
  const svc = (e: { active?: boolean; enabled?: boolean; fromStopped?: boolean }): Change => ({
    action: 'svc',
    effects: [{ kind: 'service', name: 'nginx', ...e }],
  });
  const p = pendingOf([svc({ active: true, fromStopped: true })], [svc({ enabled: true })], [svc({ active: false })]);
  t.same(p.service('nginx'), { active: false, enabled: true }, 'later fields override, fields not set are kept');
  t.equal(p.service('ssh'), undefined, 'another service is not pending');
  t.ok(
    p.find((e) => e.kind === 'service' && e.fromStopped === true),
    'fromStopped is not in service() but find() sees it',
  );
});
