// The parsing of Host.stat's batch read (lib/connection/pathstate.ts), on outputs the SSH host could get back:
// a find without -printf (BusyBox, BSD) prints nothing, which must give no state rather than "absent"; bytes
// that do not add up to the sizes found (a file changed between the two reads) give no state for the reads that
// asked for bytes. The real reads on a real sshd are in ssh-batch.ts.
import t from 'tap';
import { parsePathStates, pathStateScript } from '../../dist/lib/connection/pathstate.js';

const out = (...parts: (string | Buffer)[]) => ({
  code: 0,
  stdout: Buffer.concat(parts.map((p) => Buffer.from(p))).toString('base64'),
  stderr: '',
});
const record = (path: string, type: string, mode = '755', size = '4096', target = '') =>
  [path, type, mode, 'root', 'root', size, target].join('\0') + '\0';

t.test('pathstate: a find that printed nothing gives no state, not absent', async (t) => {
  const reads = [
    { path: '/etc/hostname', bytes: false },
    { path: '/nowhere', bytes: true },
  ];
  t.match(pathStateScript(reads), /find \/ \/etc\/hostname \/nowhere -maxdepth 0 -printf/, '/ is read first');
  t.same(parsePathStates(out('END\0'), reads), [undefined, undefined], 'nothing printed: no state');
  t.same(parsePathStates({ code: 127, stdout: '', stderr: 'find: not found' }, reads), [undefined, undefined]);
  const found = parsePathStates(out(record('/', 'd'), record('/etc/hostname', 'f', '644', '6'), 'END\0'), reads);
  t.same(found, [{ kind: 'file', mode: '644', owner: 'root', group: 'root', size: 6 }, { kind: 'absent' }]);
});

t.test(
  'pathstate: bytes that do not match the sizes found give no state to the reads that asked for them',
  async (t) => {
    const reads = [
      { path: '/a', bytes: true },
      { path: '/a', bytes: false },
      { path: '/b', bytes: true },
    ];
    const head = [record('/', 'd'), record('/a', 'f', '644', '3'), record('/b', 'f', '600', '2'), 'END\0'];
    const good = parsePathStates(out(...head, 'abc', 'de'), reads);
    t.same(
      good.map((x) => (x && 'bytes' in x ? x.bytes!.toString() : x?.kind)),
      ['abc', 'file', 'de'],
      'each file its own bytes, in order',
    );
    const changed = parsePathStates(out(...head, 'abcd', 'de'), reads);
    t.same(changed[0], undefined, 'a byte too many: no state for a read with bytes');
    t.same(changed[1], { kind: 'file', mode: '644', owner: 'root', group: 'root', size: 3 }, 'attributes still');
    t.same(changed[2], undefined);
  },
);
