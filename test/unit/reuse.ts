// Users reuse the shipped pieces from a playbook of their own, anywhere: the rabbitmq role
// (defaults and the restart handler) and the task files resolve from the package.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allTasks, loadPlaybook } from '../../dist/lib/core/playbook.js';

t.test('a playbook elsewhere imports the shipped role and task files', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-reuse-'));
  const pb = join(dir, 'mine.yml');
  const playbook = [
    '- hosts: rabbitmq',
    '  roles: [rabbitmq]',
    '  tasks:',
    '    - import_tasks: tasks/rabbitmq/cluster.yml',
    '    - import_tasks: tasks/rabbitmq/verify.yml',
    '',
  ].join('\n');
  writeFileSync(pb, playbook);
  const loaded = loadPlaybook(pb);
  const play = loaded.plays[0];
  t.equal(play.roles[0].name, 'rabbitmq');
  t.equal(play.roles[0].defaults.rabbitmq_group, 'rabbitmq', 'the role defaults are there');
  t.same(
    play.handlers.map((h) => h.name),
    ['restart rabbitmq'],
    'and its handler',
  );
  t.same(
    allTasks(play)
      .filter((x) => !x.handler)
      .map((x) => x.type),
    ['rabbitmq_cluster', 'rabbitmq_health', 'amqp_verify'],
  );
});
