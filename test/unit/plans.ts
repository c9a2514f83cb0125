// Every task's plan, on fake states: pure logic, no host.
import t from 'tap';
import { file } from '../../dist/lib/modules/builtin/file.js';
import { copy } from '../../dist/lib/modules/builtin/copy.js';
import { apt, parseAptFacts } from '../../dist/lib/modules/builtin/apt.js';
import { service, parseService } from '../../dist/lib/modules/builtin/service.js';
import { user, parseUser } from '../../dist/lib/modules/builtin/user.js';
import { command, splitArgs } from '../../dist/lib/modules/builtin/command.js';
import { editLines } from '../../dist/lib/modules/builtin/lineinfile.js';
import { editBlock } from '../../dist/lib/modules/builtin/blockinfile.js';
import { rabbitmq_cookie } from '../../dist/lib/modules/rabbitmq/rabbitmq_cookie.js';
import { rabbitmq_cluster } from '../../dist/lib/modules/rabbitmq/rabbitmq_cluster.js';
import { rabbitmq_user } from '../../dist/lib/modules/rabbitmq/rabbitmq_user.js';
import { rabbitmq_vhost } from '../../dist/lib/modules/rabbitmq/rabbitmq_vhost.js';
import { rabbitmq_policy } from '../../dist/lib/modules/rabbitmq/rabbitmq_policy.js';
import { rabbitmq_plugins, parsePlugins, pluginsFile } from '../../dist/lib/modules/rabbitmq/rabbitmq_plugins.js';
import { rabbitmq_restart } from '../../dist/lib/modules/rabbitmq/rabbitmq_restart.js';
import { rabbitmq_feature_flags } from '../../dist/lib/modules/rabbitmq/rabbitmq_feature_flags.js';
import { sha256, parseStat } from '../../dist/lib/modules/facts.js';
import { planWrite } from '../../dist/lib/modules/builtin/_write.js';

const dir = { kind: 'directory', mode: '0755', owner: 'root', group: 'root' } as const;
const actions = (cs: { action: string }[]) => cs.map((c) => c.action);

t.test('file plans', async (t) => {
  t.same(actions(file.plan({ path: '/a', state: 'directory' }, { kind: 'absent' })), ['create directory /a']);
  t.same(file.plan({ path: '/a', state: 'directory', mode: '0755' }, dir), [], 'directory with the right mode is ok');
  t.same(actions(file.plan({ path: '/a', state: 'directory', mode: '0700' }, dir)), ['/a: mode 0755 → 0700']);
  t.same(
    actions(file.plan({ path: '/a', state: 'directory', mode: 0o700 }, dir)),
    ['/a: mode 0755 → 0700'],
    'YAML octal numbers are modes',
  );
  t.same(actions(file.plan({ path: '/a', state: 'absent' }, dir)), ['remove /a']);
  t.same(file.plan({ path: '/a', state: 'absent' }, { kind: 'absent' }), []);
  t.same(file.plan({ path: '/l', state: 'link', src: '/t' }, { kind: 'link', src: '/t' }), []);
  t.same(actions(file.plan({ path: '/l', state: 'link', src: '/t' }, { kind: 'link', src: '/u' })), ['link /l → /t']);
  t.same(actions(file.plan({ path: '/f', state: 'touch' }, { kind: 'absent' })), ['create empty file /f']);
  t.throws(
    () =>
      file.plan(
        { path: '/f', state: 'directory' },
        { kind: 'file', mode: '0644', owner: 'root', group: 'root', sha256: 'x', size: 1 },
      ),
    /not a directory/,
  );
});

t.test('file writes: create, update, attributes, nothing', async (t) => {
  const f = { kind: 'file', mode: '0644', owner: 'root', group: 'root', sha256: sha256('a\n'), size: 2 } as const;
  t.same(actions(planWrite({ dest: '/x' }, { file: { kind: 'absent' }, before: null, parentOk: true }, 'a\n')), [
    'create /x',
  ]);
  t.same(planWrite({ dest: '/x' }, { file: f, before: 'a\n', parentOk: true }, 'a\n'), []);
  t.same(actions(planWrite({ dest: '/x' }, { file: f, before: 'a\n', parentOk: true }, 'b\n')), ['update /x']);
  t.same(actions(planWrite({ dest: '/x', mode: '0600' }, { file: f, before: 'a\n', parentOk: true }, 'a\n')), [
    '/x: mode 0644 → 0600',
  ]);
  t.throws(
    () => planWrite({ dest: '/no/x' }, { file: { kind: 'absent' }, before: null, parentOk: false }, 'a'),
    /folder of \/no\/x does not exist/,
  );
  const c = copy.plan({ dest: '/x', content: 'b\n' }, { file: f, before: 'a\n', parentOk: true, content: 'b\n' });
  t.same(c[0].diff, { path: '/x', before: 'a\n', after: 'b\n' }, 'copy carries a diff');
});

t.test('stat parsing', async (t) => {
  t.same(parseStat('absent'), { kind: 'absent' });
  t.same(parseStat('directory\n755\nroot\nadm'), { kind: 'directory', mode: '0755', owner: 'root', group: 'adm' });
  t.same(parseStat('file\n600\nrabbitmq\nrabbitmq\n20\nabc'), {
    kind: 'file',
    mode: '0600',
    owner: 'rabbitmq',
    group: 'rabbitmq',
    size: 20,
    sha256: 'abc',
  });
  t.same(parseStat('link\n/etc/x'), { kind: 'link', src: '/etc/x' });
});

t.test('lineinfile and blockinfile edits', async (t) => {
  t.equal(editLines('a\nb\n', { path: '', line: 'c' }), 'a\nb\nc\n');
  t.equal(editLines('a\nc\n', { path: '', line: 'c' }), 'a\nc\n', 'present line: unchanged');
  t.equal(
    editLines('x=1\ny=2\nx=3\n', { path: '', regexp: '^x=', line: 'x=9' }),
    'x=1\ny=2\nx=9\n',
    'last match replaced',
  );
  t.equal(editLines('a\nb\n', { path: '', line: 'b', state: 'absent' }), 'a\n');
  t.equal(editLines('a\nb\n', { path: '', line: '0', insertbefore: 'BOF' }), '0\na\nb\n');
  t.equal(editLines('a\nb\nc\n', { path: '', line: 'n', insertafter: '^a' }), 'a\nn\nb\nc\n');
  const once = editBlock('x\n', { path: '', block: 'p=1\nq=2' });
  t.equal(once, 'x\n# BEGIN ANSIBLE MANAGED BLOCK\np=1\nq=2\n# END ANSIBLE MANAGED BLOCK\n');
  t.equal(editBlock(once, { path: '', block: 'p=1\nq=2' }), once, 'same block twice: unchanged');
  t.equal(
    editBlock(once, { path: '', block: 'p=3' }),
    'x\n# BEGIN ANSIBLE MANAGED BLOCK\np=3\n# END ANSIBLE MANAGED BLOCK\n',
  );
  t.equal(editBlock(once, { path: '', state: 'absent' }), 'x\n');
});

t.test('apt plans', async (t) => {
  const st = parseAptFacts('pkg curl ii 7.88\npkg jq \nage 100');
  t.same(st, { installed: { curl: '7.88', jq: null }, candidate: {}, cacheAge: 100 });
  t.same(actions(apt.plan({ name: ['curl', 'jq'] }, st)), ['install jq']);
  t.same(apt.plan({ name: ['curl'] }, st), [], 'installed: ok');
  t.same(
    apt.plan({ name: 'curl', update_cache: true }, st),
    [],
    'no cache refresh when nothing is installed and no cache_valid_time',
  );
  t.same(
    actions(apt.plan({ name: 'curl', update_cache: true, cache_valid_time: 50 }, st)),
    ['update the package cache'],
    'stale cache',
  );
  t.same(actions(apt.plan({ name: 'curl,jq' }, st)), ['install jq'], 'name=curl,jq: a list, as Ansible splits it');
  t.same(actions(apt.plan({ name: ['curl', 'jq'], state: 'absent' }, st)), ['remove curl']);
  t.same(actions(apt.plan({ name: 'curl', state: 'latest' }, { ...st, candidate: { curl: '7.89' } })), [
    'install curl',
  ]);
});

t.test('service plans', async (t) => {
  const s = parseService('loaded\ninactive\ndisabled\n');
  t.same(s, { exists: true, active: false, enabled: false });
  t.same(actions(service.plan({ name: 'x', state: 'started', enabled: true }, s)), ['enable x', 'start x']);
  t.same(
    service.plan({ name: 'x', state: 'started', enabled: true }, { exists: true, active: true, enabled: true }),
    [],
  );
  t.same(actions(service.plan({ name: 'x', state: 'stopped' }, { exists: true, active: true, enabled: true })), [
    'stop x',
  ]);
  t.ok(
    service.plan({ name: 'x', state: 'restarted' }, { exists: true, active: true, enabled: true })[0].always,
    'a restart is asked for every time',
  );
});

t.test('service: daemon_reload is not a change of its own (Ansible)', async (t) => {
  const up = { exists: true, active: true, enabled: true };
  t.same(service.plan({ name: 'x', state: 'started', enabled: true, daemon_reload: true }, up), []);
});

t.test('user plans', async (t) => {
  const M = '@@rmqplay-user@@';
  const none = { ...parseUser(''), pending: false };
  t.same(none, { exists: false, groups: [], nameIsGroup: false, pending: false });
  const add = user.plan(
    { name: 'app', group: 'app', shell: '/usr/sbin/nologin', create_home: false, system: true },
    none,
  );
  t.same(
    add.map((c) => c.data),
    ['useradd -g app -s /usr/sbin/nologin -M -r app'],
    'useradd with the options Ansible passes',
  );
  const sameGroup = { ...none, nameIsGroup: true };
  t.match(user.plan({ name: 'app' }, sameGroup)[0].data, /^useradd -N -m app$/, 'a group of that name: -N');
  const out = [`${M} passwd app:x:998:998::/home/app:/bin/sh`, `${M} primary app`, `${M} groups app adm`].join('\n');
  const have = { ...parseUser(out), pending: false };
  t.match(have, { exists: true, uid: 998, group: 'app', groups: ['adm'], home: '/home/app', shell: '/bin/sh' });
  t.same(user.plan({ name: 'app', shell: '/bin/sh', groups: 'adm' }, have), [], 'as wanted: nothing');
  t.same(actions(user.plan({ name: 'app', shell: '/bin/bash', groups: ['adm', 'sudo'], append: true }, have)), [
    'set user app: shell /bin/bash, groups +sudo',
  ]);
  t.same(actions(user.plan({ name: 'app', state: 'absent' }, have)), ['remove user app']);
});

t.test('command plans and word splitting', async (t) => {
  t.same(command.plan({ cmd: 'touch /x', creates: '/x' }, { skip: '/x exists' }), []);
  t.equal(command.plan({ cmd: 'touch /x' }, { skip: false }).length, 1);
  t.same(splitArgs(`echo "a b" 'c d' e`), ['echo', 'a b', 'c d', 'e']);
});

t.test('rabbitmq_cookie: compared by hash, restart only on a running node', async (t) => {
  const cookie = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const same = { exists: true, sha: sha256(cookie), mode: '0400', owner: 'rabbitmq', userExists: true, active: true };
  t.same(rabbitmq_cookie.plan({ cookie }, same), []);
  const diff = rabbitmq_cookie.plan({ cookie }, { ...same, sha: 'other' });
  t.match(diff[0].action, /stop rabbitmq-server, write, start/);
  t.notMatch(JSON.stringify(diff.map((c) => c.action)), cookie, 'the cookie is not in the plan text');
  t.match(
    rabbitmq_cookie.plan(
      { cookie },
      { exists: false, sha: '', mode: '', owner: '', userExists: false, active: false },
    )[0].action,
    /^write the Erlang cookie$/,
  );
  t.match(rabbitmq_cookie.plan({ cookie }, { ...same, mode: '0644' })[0].action, /mode 0400/);
});

t.test('rabbitmq_cluster: member when the seed is among the disk nodes', async (t) => {
  t.same(
    rabbitmq_cluster.plan(
      { seed: 'node1' },
      { self: 'rabbit@node2', seed: 'rabbit@node1', disk: ['rabbit@node1', 'rabbit@node2'], running: [] },
    ),
    [],
  );
  t.same(
    rabbitmq_cluster.plan(
      { seed: 'node1' },
      { self: 'rabbit@node1', seed: 'rabbit@node1', disk: ['rabbit@node1'], running: [] },
    ),
    [],
    'the seed itself',
  );
  t.same(
    actions(
      rabbitmq_cluster.plan(
        { seed: 'node1' },
        { self: 'rabbit@node2', seed: 'rabbit@node1', disk: ['rabbit@node2'], running: [] },
      ),
    ),
    ['join rabbit@node2 to the cluster of rabbit@node1'],
  );
});

t.test('rabbitmq_user, vhost, policy, plugins, feature flags, restart', async (t) => {
  const u = {
    exists: true,
    tags: ['administrator'],
    passwordOk: true,
    perms: [{ vhost: '/', configure: '.*', write: '.*', read: '.*' }],
  };
  t.same(
    rabbitmq_user.plan({ name: 'a', password: 'pw', tags: ['administrator'], permissions: [{ vhost: '/' }] }, u),
    [],
  );
  const changes = rabbitmq_user.plan(
    { name: 'a', password: 'secretpw', tags: [], permissions: [{ vhost: 'ha' }] },
    { ...u, passwordOk: false },
  );
  t.same(actions(changes), [
    'change the password of a',
    'tags of a: none',
    'permissions of a on ha: .* .* .*',
    'clear permissions of a on /',
  ]);
  t.notMatch(actions(changes).join(' '), 'secretpw', 'the password is not in the plan text');
  // What erl_call applies: the function rabbitmqctl's command calls, its arguments, the CLI's acting user.
  t.same(
    changes.map((c) => c.data?.call),
    [
      ['rabbit_auth_backend_internal', 'change_password', ['a', 'secretpw', 'rmq-cli']],
      ['rabbit_auth_backend_internal', 'set_tags', ['a', [], 'rmq-cli']],
      ['rabbit_auth_backend_internal', 'set_permissions', ['a', 'ha', '.*', '.*', '.*', 'rmq-cli']],
      ['rabbit_auth_backend_internal', 'clear_permissions', ['a', '/', 'rmq-cli']],
    ],
  );
  t.same(
    changes.map((c) => c.data?.ctl.replace(/^printf .* \| /, '')),
    [
      'rabbitmqctl change_password a',
      'rabbitmqctl set_user_tags a',
      "rabbitmqctl set_permissions -p ha a '.*' '.*' '.*'",
      'rabbitmqctl clear_permissions -p / a',
    ],
    'and the rabbitmqctl command it stands for, the password on stdin',
  );
  t.same(actions(rabbitmq_vhost.plan({ name: 'ha', default_queue_type: 'quorum' }, { exists: false })), [
    'create vhost ha (default queue type quorum)',
  ]);
  t.throws(
    () => rabbitmq_vhost.plan({ name: 'ha', default_queue_type: 'quorum' }, { exists: true, dqt: 'classic' }),
    /cannot change it in place/,
  );
  const pol = {
    vhost: 'ha',
    name: 'p',
    pattern: '.*',
    'apply-to': 'queues',
    definition: { 'delivery-limit': 50 },
    priority: 0,
  };
  t.same(
    rabbitmq_policy.plan(
      { name: 'p', vhost: 'ha', pattern: '.*', apply_to: 'queues', definition: { 'delivery-limit': 50 } },
      pol,
    ),
    [],
  );
  t.equal(
    rabbitmq_policy.plan(
      { name: 'p', vhost: 'ha', pattern: '.*', apply_to: 'queues', definition: { 'delivery-limit': 5 } },
      pol,
    ).length,
    1,
  );
  t.same(parsePlugins(pluginsFile(['b', 'a'])), ['a', 'b']);
  t.same(
    rabbitmq_plugins.plan({ names: ['rabbitmq_management'] }, { current: ['rabbitmq_management'], active: true }),
    [],
  );
  t.equal(rabbitmq_plugins.plan({ names: ['rabbitmq_management'] }, { current: null, active: false }).length, 1);
  t.same(rabbitmq_feature_flags.plan({}, []), []);
  t.same(
    rabbitmq_restart.plan({}, { active: true, since: 100, newest: 90, newestFile: '/etc/rabbitmq/rabbitmq.conf' }),
    [],
    'config older than the node: no restart',
  );
  t.match(
    rabbitmq_restart.plan({}, { active: true, since: 100, newest: 110, newestFile: '/etc/rabbitmq/rabbitmq.conf' })[0]
      .action,
    /changed after the node started/,
  );
  const notInstalled = {
    installed: false,
    active: false,
    since: 0,
    newest: 110,
    newestFile: '/etc/rabbitmq/rabbitmq.conf',
  };
  t.same(rabbitmq_restart.plan({}, notInstalled), [], 'package not installed (a pending handler): nothing to restart');
  t.match(
    rabbitmq_restart.plan({}, { ...notInstalled, installed: true })[0].action,
    /the node is not running/,
    'installed and stopped: started',
  );
});

t.test("rabbitmqctl's JSON is read after the log lines it may print first", async (t) => {
  const { json } = await import('../../dist/lib/modules/rabbitmq/_rabbitmq.js');
  const logged = '16:38:31.762 [error] Feature flags: error on node rabbit@node3: {:badrpc, :nodedown}\n';
  t.same(json(`${logged}{"running_nodes":["rabbit@node1"]}\n`, 'cluster_status'), { running_nodes: ['rabbit@node1'] });
  t.same(json('[{"name":"/"}]', 'list_vhosts'), [{ name: '/' }]);
  t.throws(() => json(`${logged}Error: unable to perform an operation on node`, 'x'), /did not answer with JSON/);
});
