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

export const taskTypes = new Map<string, TaskType<any, any>>();

export function registerTask(t: TaskType<any, any>): void {
  taskTypes.set(t.name, t);
}

for (const t of [apt, assert, blockinfile, command, shell, copy, debug, file, lineinfile, service, systemd, set_fact, template, wait_for]) registerTask(t);

/** ansible.builtin.copy and ansible.legacy.copy are copy. */
export function taskTypeName(key: string): string {
  return key.replace(/^ansible\.(builtin|legacy)\./, '').replace(/^community\.rabbitmq\./, '');
}
