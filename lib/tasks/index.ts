// The task types by their YAML key. Users add their own with registerTask.
import { TaskType } from '../task.js';
import { apt } from './apt.js';
import { assert } from './assert.js';
import { blockinfile } from './blockinfile.js';
import { command, shell } from './command.js';
import { copy } from './copy.js';
import { debug } from './debug.js';
import { file } from './file.js';
import { lineinfile } from './lineinfile.js';
import { service, systemd } from './service.js';
import { set_fact } from './set_fact.js';
import { template } from './template.js';
import { wait_for } from './wait_for.js';
import { amqp_verify } from './amqp_verify.js';
import { rabbitmq_cluster } from './rabbitmq_cluster.js';
import { rabbitmq_conf } from './rabbitmq_conf.js';
import { rabbitmq_cookie } from './rabbitmq_cookie.js';
import { rabbitmq_feature_flags } from './rabbitmq_feature_flags.js';
import { rabbitmq_health } from './rabbitmq_health.js';
import { rabbitmq_plugins } from './rabbitmq_plugins.js';
import { rabbitmq_policy } from './rabbitmq_policy.js';
import { rabbitmq_restart } from './rabbitmq_restart.js';
import { rabbitmq_user } from './rabbitmq_user.js';
import { rabbitmq_vhost } from './rabbitmq_vhost.js';

export const taskTypes = new Map<string, TaskType<any, any>>();

export function registerTask(t: TaskType<any, any>): void {
  taskTypes.set(t.name, t);
}

for (const t of [apt, assert, blockinfile, command, shell, copy, debug, file, lineinfile, service, systemd, set_fact, template, wait_for,
  amqp_verify, rabbitmq_cluster, rabbitmq_conf, rabbitmq_cookie, rabbitmq_feature_flags, rabbitmq_health, rabbitmq_plugins, rabbitmq_policy, rabbitmq_restart, rabbitmq_user, rabbitmq_vhost]) registerTask(t);

/** ansible.builtin.copy and ansible.legacy.copy are copy. */
export function taskTypeName(key: string): string {
  return key.replace(/^ansible\.(builtin|legacy)\./, '').replace(/^community\.rabbitmq\./, '');
}
