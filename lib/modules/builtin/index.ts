// Ansible's builtin task types that rmqplay implements, one file each, named after its YAML key.
import { TaskType } from '../task.js';
import { apt } from './apt.js';
import { assert } from './assert.js';
import { blockinfile } from './blockinfile.js';
import { command, shell } from './command.js';
import { copy } from './copy.js';
import { debug } from './debug.js';
import { file } from './file.js';
import { group } from './group.js';
import { lineinfile } from './lineinfile.js';
import { service, systemd } from './service.js';
import { set_fact } from './set_fact.js';
import { setup } from './setup.js';
import { template } from './template.js';
import { user } from './user.js';
import { wait_for } from './wait_for.js';

export const builtinModules: TaskType<any, any, any>[] = [
  apt,
  assert,
  blockinfile,
  command,
  shell,
  copy,
  debug,
  file,
  group,
  lineinfile,
  service,
  systemd,
  set_fact,
  setup,
  template,
  user,
  wait_for,
];
