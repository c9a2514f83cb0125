// Issue 8, point 2: arguments are validated after rendering, against the same schema as before
// connecting (a templated port, timeout, priority or cookie reached the shell unchecked), and the value
// of a secret is not printed by the error. Run on the local host: nothing may run, no file may appear.
import t from 'tap';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { events, rmqplay } from '../helpers.js';

t.test('templated arguments that break the schema fail before anything runs', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'rmqplay-args-'));
  const marker = join(out, 'pwned');
  const evil = `1; touch ${marker}`;
  const extra = JSON.stringify({ evil, out, short_cookie: 'tooShort!', closed_port: '1' });
  const r = rmqplay([
    'test/fixtures/security/templated-args.yml',
    '-i',
    'test/fixtures/local/inventory.ini',
    '-e',
    extra,
  ]);
  const evs = events(
    rmqplay([
      'test/fixtures/security/templated-args.yml',
      '-i',
      'test/fixtures/local/inventory.ini',
      '-e',
      extra,
      '--json',
    ]).stdout,
  );
  t.equal(r.status, 0, 'failures were ignored: the run ends 0');
  const msg = (name: string) => evs.find((e) => e.event === 'task' && e.task === name)?.msg ?? '';
  t.match(msg('a port that is a command'), /wait_for: after rendering, "port": must be integer/);
  t.match(msg('a timeout that is a command'), /wait_for: after rendering, "timeout": must be (integer|number)/);
  t.match(msg('a priority that is a command'), /rabbitmq_policy: after rendering, "priority": must be integer/);
  t.match(msg("a cookie that breaks the cookie's rule"), /rabbitmq_cookie: after rendering, "cookie": must/);
  t.notMatch(r.stdout + r.stderr, /tooShort!/, 'the cookie is not printed');
  const converted = evs.find((e) => e.task === 'a port given as text of a number is a number');
  t.equal(converted?.status, 'ok', '"1" for an integer is converted, as Ansible does');
  t.notOk(existsSync(marker), 'no command ran');
  t.notOk(existsSync(join(out, 'cookie')), 'no cookie was written');
});
