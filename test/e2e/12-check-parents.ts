// On three lab hosts without /srv/a (issue 7): file makes /srv/a/b, then lineinfile create: true writes /srv/a/x.conf.
// --check exits 0, lists exactly the (host, task_id) pairs the run then changes, and touches nothing;
// again once converged and after one host drifted.
import t from 'tap';
import { events, fingerprint, freshLab, labHosts, labIsUp, pairs, rmqplay, ssh } from '../helpers.js';

const PB = 'test/fixtures/check-parents/parents.yml';
const PATHS = ['/srv', '/etc'];

// The hosts the previous tests left (a cluster), or fresh ones; either way without /srv/a.
const hosts = labIsUp(3) ? labHosts() : freshLab(3);
for (const h of hosts) ssh(h, 'rm -rf /srv/a');

function checkThenRun(t: any, state: string): { check: string[]; run: string[] } {
  const before = fingerprint(hosts, PATHS);
  const c = rmqplay([PB, '-i', 'lab', '--check', '--json']);
  t.equal(c.status, 0, `${state}: --check exits 0 ${c.status ? c.stdout.slice(-1500) + c.stderr : ''}`);
  t.same(fingerprint(hosts, PATHS), before, `${state}: /srv, /etc and the dpkg status are unchanged by --check`);
  const cev = events(c.stdout);
  t.same(pairs(cev, ['unknown']), [], `${state}: no unknown`);
  const r = rmqplay([PB, '-i', 'lab', '--json']);
  t.equal(r.status, 0, `${state}: the run exits 0 ${r.status ? r.stdout.slice(-1500) + r.stderr : ''}`);
  const check = pairs(cev, ['changed']);
  const run = pairs(events(r.stdout), ['changed']);
  t.same(check, run, `${state}: --check listed exactly the (host, task_id) pairs the run changed`);
  return { check, run };
}

t.test('before: /srv/a is not there', async (t) => {
  t.equal(hosts.length, 3);
  for (const h of hosts) t.equal(ssh(h, 'test ! -e /srv/a').status, 0, `${h.name}: no /srv/a`);
});

t.test('first run: both tasks change on every host, as --check said', async (t) => {
  const { run } = checkThenRun(t, 'first run');
  t.equal(run.length, 2 * hosts.length, 'two pairs per host');
  for (const h of hosts) {
    const r = ssh(h, 'test -d /srv/a/b && cat /srv/a/x.conf');
    t.equal(r.stdout, 'key = value\n', `${h.name}: /srv/a/b made and /srv/a/x.conf written`);
  }
});

t.test('converged hosts: --check predicts nothing', async (t) => {
  const { check } = checkThenRun(t, 'converged');
  t.same(check, []);
});

t.test('drifted host: /srv/a removed on one host', async (t) => {
  const h = hosts[2];
  t.equal(ssh(h, 'rm -rf /srv/a').status, 0);
  const { check } = checkThenRun(t, 'drifted');
  t.equal(check.length, 2, 'both tasks again');
  t.ok(
    check.every((p) => p.startsWith(`${h.name} `)),
    'only on the drifted host',
  );
});

t.test('clean up', async (t) => {
  for (const h of hosts) t.equal(ssh(h, 'rm -rf /srv/a').status, 0, `${h.name}: /srv/a removed`);
});
