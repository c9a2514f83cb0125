// Ansible's reserved variable names (ansible/vars/reserved.py, ansible-core 2.14): the attributes of
// plays, roles, blocks and tasks, plus local_action and with_, and the globals of Ansible's Jinja
// environment. A play-level variable (play vars, vars_files, the play's roles' defaults and vars, -e)
// with one of these names gets Ansible's warning, once per name in a run; nothing fails.

const ATTRIBUTES = [
  'action',
  'always',
  'any_errors_fatal',
  'args',
  'async',
  'async_val',
  'become',
  'become_exe',
  'become_flags',
  'become_method',
  'become_user',
  'block',
  'changed_when',
  'check_mode',
  'collections',
  'connection',
  'debugger',
  'delay',
  'delegate_facts',
  'delegate_to',
  'diff',
  'environment',
  'fact_path',
  'failed_when',
  'force_handlers',
  'gather_facts',
  'gather_subset',
  'gather_timeout',
  'handlers',
  'hosts',
  'ignore_errors',
  'ignore_unreachable',
  'local_action',
  'loop',
  'loop_control',
  'loop_with',
  'max_fail_percentage',
  'module_defaults',
  'name',
  'no_log',
  'notify',
  'order',
  'poll',
  'port',
  'post_tasks',
  'pre_tasks',
  'register',
  'remote_user',
  'rescue',
  'retries',
  'roles',
  'run_once',
  'serial',
  'strategy',
  'tags',
  'tasks',
  'throttle',
  'timeout',
  'until',
  'vars',
  'vars_files',
  'vars_prompt',
  'when',
  'with_',
];
/** Ansible passes its Jinja environment's globals as more reserved names (task_queue_manager.py). */
const JINJA_GLOBALS = [
  'cycler',
  'dict',
  'joiner',
  'lipsum',
  'lookup',
  'namespace',
  'now',
  'q',
  'query',
  'range',
  'undef',
];

export const RESERVED_NAMES: ReadonlySet<string> = new Set([...ATTRIBUTES, ...JINJA_GLOBALS]);

/** The reserved names among a mapping's keys, in the order written ("vars" is Ansible's own: never). */
export function reservedNames(vars: unknown): string[] {
  if (!vars || typeof vars !== 'object' || Array.isArray(vars)) return [];
  return Object.keys(vars).filter((k) => k !== 'vars' && RESERVED_NAMES.has(k));
}

export function reservedWarning(name: string): string {
  return `Found variable using reserved name: ${name}`;
}
