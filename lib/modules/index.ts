// The task types by their YAML key. Users add their own with registerTask.
import { builtinModules } from './builtin/index.js';
import { rabbitmqModules } from './rabbitmq/index.js';
import { TaskType } from './task.js';

export const taskTypes = new Map<string, TaskType<any, any, any>>();

export function registerTask(t: TaskType<any, any, any>): void {
  taskTypes.set(t.name, t);
}

for (const t of [...builtinModules, ...rabbitmqModules]) registerTask(t);

/** ansible.builtin.copy and ansible.legacy.copy are copy. */
export function taskTypeName(key: string): string {
  return key.replace(/^ansible\.(builtin|legacy)\./, '').replace(/^community\.rabbitmq\./, '');
}
