// Bad Jinja exits 4 before any connection, with file:line:column and what is wrong: an unclosed {{, an
// unknown filter or test (with the nearest name), a bad {% %} in a .j2 template (with the template's line),
// and an undefined variable read by a .j2 template. The inventory points at a listener that counts connections.
import t from 'tap';
import { connectionCounter, events, rmqplay } from '../helpers.js';

const cases: [string, RegExp][] = [
  ['jinja-unclosed.yml', /file\.path: Jinja syntax error .*expected variable end.*"\{\{" or "\{%" is not closed/],
  ['jinja-unknown-filter.yml', /unknown filter "lenght" \(did you mean "length"\?\)/],
  ['jinja-unknown-test.yml', /unknown test "defind" \(did you mean "defined"\?\)/],
  [
    'jinja-bad-statement.yml',
    /bad-statement\.j2 has a syntax error: Jinja syntax error at line 4, column \d+: .*endfro/,
  ],
  ['jinja-undefined-in-j2.yml', /undefined variable "peer_port" in template \S*undefined-var\.j2/],
];

t.test('bad Jinja: exit 4, file:line:column, a reason, no connection', async (t) => {
  const { inv, stop } = await connectionCounter();
  for (const [file, reason] of cases) {
    const path = `test/fixtures/broken/${file}`;
    const text = rmqplay([path, '-i', inv]);
    t.equal(text.status, 4, `${file}: exit code 4`);
    t.match(text.stderr, new RegExp(`${path.replace(/[.]/g, '\\.')}:\\d+:\\d+: `), `${file}: names file:line:column`);
    t.match(text.stderr, reason, `${file}: says why`);
    t.notMatch(text.stderr, /Parse error on line/, `${file}: not a bare parser message`);
    const json = rmqplay([path, '-i', inv, '--json']);
    const err = events(json.stdout).find((e) => e.event === 'error') as unknown as { file: string; line: number };
    t.ok(err && err.file === path && err.line > 0, `${file}: a JSON error event with file and line`);
    t.notOk(
      events(json.stdout).some((e) => e.event === 'task'),
      `${file}: no task ran`,
    );
  }
  t.equal(await stop(), 0, 'no connection was opened to any host');
});
