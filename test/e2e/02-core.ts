// The runner on three real hosts over SSH: 20 small tasks change things once, then nothing;
// --check lists exactly what the following run changes on fresh, converged and drifted hosts,
// and touches nothing.
import t from 'tap';
import { events, fingerprint, labHosts, labIsUp, freshLab, pairs, recap, rmqplay, ssh } from '../helpers.js';

const PB = 'test/fixtures/core/twenty.yml';
const PATHS = ['/etc', '/srv'];

const hosts = labIsUp(3) ? labHosts() : freshLab(3);
for (const h of hosts) ssh(h, 'rm -rf /srv/rmqplay-demo');

function checkThenRun(t: any, state: string): { check: string[]; run: string[] } {
  const before = fingerprint(hosts, PATHS);
  const c = rmqplay([PB, '-i', 'lab', '--check', '--json']);
  t.equal(c.status, 0, `${state}: --check exits 0`);
  t.same(fingerprint(hosts, PATHS), before, `${state}: /etc, /srv and the dpkg status are unchanged by --check`);
  const cev = events(c.stdout);
  t.same(pairs(cev, ['unknown']), [], `${state}: no unknown`);
  const r = rmqplay([PB, '-i', 'lab', '--json']);
  t.equal(r.status, 0, `${state}: the run exits 0`);
  const check = pairs(cev, ['changed']);
  const run = pairs(events(r.stdout), ['changed']);
  t.same(check, run, `${state}: --check listed exactly the (host, task_id) pairs the run changed`);
  return { check, run };
}

t.test('fresh hosts: everything changes, as predicted', async (t) => {
  const { run } = checkThenRun(t, 'fresh');
  t.ok(run.length >= 15 * 3, `many changes on fresh hosts (${run.length})`);
});

t.test('second run: changed=0 on every host', async (t) => {
  const r = rmqplay([PB, '-i', 'lab', '--json']);
  t.equal(r.status, 0);
  const rc = recap(events(r.stdout));
  for (const h of hosts) t.equal(rc[h.name]?.changed, 0, `${h.name}: changed=0`);
  for (const h of hosts) t.equal(rc[h.name]?.ok, 20, `${h.name}: ok=20`);
});

t.test('converged hosts: --check predicts nothing', async (t) => {
  const { check } = checkThenRun(t, 'converged');
  t.same(check, []);
});

t.test('drifted host: a file edited, a line removed, a directory deleted', async (t) => {
  const h = hosts[1];
  const drift = [
    'echo drift >> /srv/rmqplay-demo/conf/app.conf',
    "sed -i '/^timeout=/d' /srv/rmqplay-demo/conf/settings",
    'rm -rf /srv/rmqplay-demo/log',
  ].join(' && ');
  t.equal(ssh(h, drift).status, 0);
  const { check } = checkThenRun(t, 'drifted');
  t.same(
    check.map((p) => p.split(' ')[0]).filter((x, i, a) => a.indexOf(x) === i),
    [h.name],
    'only the drifted host changes',
  );
  t.equal(check.length, 3, 'the three drifted things, nothing else');
});

t.test('one SSH connection per host for the whole run', async (t) => {
  const r = rmqplay([PB, '-i', 'lab', '--json']);
  t.equal(r.status, 0);
  const conns = Number(/connections=(\d+)/.exec(r.stderr)?.[1] ?? NaN);
  t.equal(conns, hosts.length, 'as many SSH connections as hosts (RMQPLAY_STATS on stderr)');
});
