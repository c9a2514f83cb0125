// The rendezvous of the hosts running one task (the Erlang cookie's stop all → write → start all).
import t from 'tap';
import { Barrier } from '../../dist/lib/util/semaphore.js';

const tick = () => new Promise((r) => setImmediate(r));

t.test('nobody passes until every running host has arrived or left', async (t) => {
  const b = new Barrier();
  const passed: string[] = [];
  for (let i = 0; i < 3; i++) b.enter();
  void b.arrive().then(() => passed.push('a'));
  void b.arrive().then(() => passed.push('b'));
  await tick();
  t.same(passed, [], 'two of three arrived: both wait');
  b.leave(); // the third finished the task without the barrier (its cookie was already right)
  await tick();
  t.same(passed.sort(), ['a', 'b'], 'the third left: both pass');
});

t.test('used again: a second round waits for the hosts still running', async (t) => {
  const b = new Barrier();
  b.enter();
  b.enter();
  await Promise.all([b.arrive(), b.arrive()]);
  let second = false;
  void b.arrive().then(() => (second = true));
  await tick();
  t.equal(second, false, 'one of two at the second barrier waits');
  b.leave();
  await tick();
  t.equal(second, true, 'the other left: it passes');
});

t.test('a host alone passes at once', async (t) => {
  const b = new Barrier();
  b.enter();
  await b.arrive();
  t.pass('no wait for one host');
});
