// Loads a playbook with its imports, roles and task files, validates everything against the
// schema and checks every variable reference, before any connection is opened.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { displayPath, PlaybookError, PlaybookErrors, Where, formatWhere } from '../util/errors.js';
import { exprVars } from '../language/expr.js';
import { explain, PLAY_KEYS, TASK_KEYWORDS, validator } from './schema.js';
import { didYouMean } from '../util/similar.js';
import { taskTypeName, taskTypes } from '../modules/index.js';
import { templateVars } from '../language/template.js';
import { isUnsafe, loadYamlFile, posAtPath, posOf } from '../language/yaml.js';
import { freeFormArgs } from '../language/kv.js';
import { isSecretName } from '../util/secrets.js';
import { isFactName } from '../modules/builtin/setup.js';
import { PACKAGE_ROOT } from '../util/package.js';
import { connectionKind, CONNECTIONS } from '../connection/host.js';
import { reservedNames, reservedWarning } from './reserved.js';

export { PACKAGE_ROOT };

export interface Role {
  name: string;
  path: string;
  defaults: Record<string, unknown>;
  vars: Record<string, unknown>;
  params: Record<string, unknown>;
}

export interface Task {
  id: string;
  where: Where;
  name: string;
  file: string;
  type?: string;
  args?: Record<string, unknown>;
  when: (string | boolean)[];
  loop?: unknown;
  /** How the loop's value becomes items: loop (as it is) or the with_ lookup it came from. */
  loopKind?: string;
  loopVar: string;
  loopControl: LoopControl;
  /** environment: layers (block's, then the task's), each a mapping or a template; the play's comes first. */
  environment: unknown[];
  becomeMethod?: string;
  /** The login user (Ansible's remote_user): above -u, below ansible_user (core/connections.ts). */
  remoteUser?: string;
  /** The connection keyword (local, ssh): above -c, below ansible_connection (core/connections.ts). */
  connection?: string;
  throttle?: number | string;
  /** include_tasks resolved at run time (a templated name, or a loop): its tasks when the name is static. */
  include?: { name: string; keyword: string; tasks?: Task[] };
  /** include_vars: its arguments (file, dir, name...). */
  includeVars?: Record<string, unknown>;
  /** Variables that are data for this task and its children: the loop item of a dynamic include. */
  data?: Record<string, unknown>;
  register?: string;
  notify: string[];
  listen: string[];
  tags: string[];
  become?: boolean | string;
  becomeUser?: string;
  runOnce?: boolean | string;
  delegateTo?: string;
  ignoreErrors?: boolean | string;
  changedWhen?: (string | boolean)[];
  failedWhen?: (string | boolean)[];
  until?: string | boolean;
  retries?: number | string;
  delay?: number | string;
  checkMode?: boolean | string;
  vars: Record<string, unknown>;
  block?: Task[];
  rescue?: Task[];
  always?: Task[];
  meta?: string;
  role?: Role;
  handler?: boolean;
  noLog?: boolean;
}

export interface LoopControl {
  label?: string;
  indexVar?: string;
  pause?: number | string;
}

/** The with_ lookups rmqplay runs (with_items, with_dict, ...). */
export const LOOP_KINDS = [
  'items',
  'list',
  'dict',
  'nested',
  'together',
  'sequence',
  'subelements',
  'fileglob',
  'first_found',
  'indexed_items',
];

export interface Play {
  name: string;
  where: Where;
  file: string;
  hosts: string;
  vars: Record<string, unknown>;
  varsFiles: Record<string, unknown>;
  serial?: (number | string)[];
  become?: boolean | string;
  becomeUser?: string;
  becomeMethod?: string;
  remoteUser?: string;
  /** The connection keyword (local, ssh): above -c, below ansible_connection (core/connections.ts). */
  connection?: string;
  environment?: unknown;
  /** gather_facts (on unless false): facts are gathered only when the play reads one (readsFacts). */
  gatherFacts: boolean;
  /** Set by checkVariables: some string, condition or template of the play reads a fact. */
  readsFacts?: boolean;
  strategy: 'linear' | 'free';
  anyErrorsFatal: boolean;
  maxFailPercentage?: number;
  forceHandlers: boolean;
  sections: Task[][];
  handlers: Task[];
  roles: Role[];
  tags: string[];
}

const MAGIC = [
  'inventory_hostname',
  'inventory_hostname_short',
  'groups',
  'group_names',
  'hostvars',
  'ansible_play_hosts',
  'ansible_play_hosts_all',
  'play_hosts',
  'ansible_play_batch',
  'ansible_check_mode',
  'ansible_diff_mode',
  'playbook_dir',
  'inventory_dir',
  'role_path',
  'omit',
  'ansible_version',
  'ansible_forks',
  'item',
  'ansible_loop_var',
  'ansible_index_var',
];

/** Keywords that are written with an ansible.builtin. prefix too. */
const SPECIAL_KEYWORDS = ['import_tasks', 'include_tasks', 'import_role', 'include_role', 'include_vars', 'include'];

interface RoleRef {
  name: string;
  tasksFrom?: string;
  defaultsFrom?: string;
  varsFrom?: string;
  handlersFrom?: string;
}

class Loader {
  errors: PlaybookError[] = [];
  warnings: string[] = [];
  /** Roles and handlers that import_role/include_role bring into the play being loaded. */
  playRoles: Role[] = [];
  playHandlers: Task[] = [];
  private handlerFiles = new Set<string>();
  constructor(public playbookDir: string) {}

  err(where: Where | undefined, file: string, reason: string): void {
    this.errors.push(new PlaybookError(where ?? { file }, reason));
  }

  /** A play's or task's connection: a connection rmqplay has, or a template (checked when rendered). */
  connectionKeyword(v: string | undefined, where: Where | undefined, file: string): string | undefined {
    if (v === undefined || v.includes('{{') || connectionKind(v)) return v;
    const known = Object.keys(CONNECTIONS).join(', ');
    this.err(where, file, `connection: ${v} is not a connection rmqplay has; write one of ${known}`);
    return undefined;
  }

  warn(where: Where | undefined, file: string, text: string): void {
    const w = `${formatWhere(where ?? { file })}: ${text}`;
    if (!this.warnings.includes(w)) this.warnings.push(w);
  }

  private reservedSeen = new Set<string>();
  /** Ansible's warning for a play-level variable with a reserved name (core/reserved.ts): once per name. */
  warnReserved(vars: unknown, file: string, where?: Where): void {
    for (const name of reservedNames(vars)) {
      if (this.reservedSeen.has(name)) continue;
      this.reservedSeen.add(name);
      this.warn(posOf(vars, name) ?? where, file, reservedWarning(name));
    }
  }

  /** A role's folder: roles/ beside the file, beside the playbook, beside the current role, the package's. */
  findRole(name: string, from: string, current?: Role): string | undefined {
    const dirs = [
      resolve(dirname(from), 'roles', name),
      resolve(this.playbookDir, 'roles', name),
      ...(current ? [resolve(current.path, '..', name)] : []),
      join(PACKAGE_ROOT, 'playbooks', 'roles', name),
    ];
    return dirs.find((d) => existsSync(d));
  }

  /** A role's tasks (tasks_from), its defaults, vars and handlers; the handlers join the play's. */
  loadRole(
    ref: RoleRef,
    from: string,
    where: Where | undefined,
    current: Role | undefined,
    extra: { vars?: Record<string, unknown>; params?: Record<string, unknown>; when?: (string | boolean)[] },
    tags: string[],
    seen: string[],
  ): { role: Role; tasks: Task[]; varSources: [unknown, string][] } | undefined {
    const dir = this.findRole(ref.name, from, current);
    if (!dir) {
      const looked = "roles/ beside the playbook or in the package's playbooks/roles/";
      this.err(where, from, `role "${ref.name}" not found in ${looked}`);
      return undefined;
    }
    const fileIn = (sub: string, base = 'main') =>
      [base, `${base}.yml`, `${base}.yaml`].map((m) => join(dir, sub, m)).find((f) => existsSync(f) && !isDir(f));
    // Where each variable was written (defaults, vars, the role entry's vars), for warnings.
    const varSources: [unknown, string][] = [];
    const readVars = (sub: string, base?: string) => {
      const f = fileIn(sub, base);
      if (base && base !== 'main' && !f) this.err(where, from, `role "${ref.name}": ${sub}/${base} not found`);
      const d = f ? loadYamlFile(f) : null;
      if (f && d) varSources.push([d, f]);
      return (d && typeof d === 'object' ? d : {}) as Record<string, unknown>;
    };
    if (extra.vars) varSources.push([extra.vars, from]);
    const role: Role = {
      name: ref.name,
      path: dir,
      defaults: readVars('defaults', ref.defaultsFrom),
      vars: { ...readVars('vars', ref.varsFrom), ...extra.vars },
      params: extra.params ?? {},
    };
    const tf = fileIn('tasks', ref.tasksFrom);
    if (ref.tasksFrom && !tf) this.err(where, from, `role "${ref.name}": tasks/${ref.tasksFrom} not found`);
    const tasks = tf ? this.loadTaskFile(tf, role, false, extra.when ?? [], tags, seen) : [];
    const hf = fileIn('handlers', ref.handlersFrom);
    // A role imported twice brings its handlers once.
    if (hf && !this.handlerFiles.has(hf)) {
      this.handlerFiles.add(hf);
      this.playHandlers.push(...this.loadTaskFile(hf, role, true));
    }
    return { role, tasks, varSources };
  }

  /** A task file: in the current role's tasks/, then where imports are looked for. */
  findTaskFile(from: string, role: Role | undefined, name: string): string | undefined {
    const inRole = role ? join(role.path, 'tasks', name) : undefined;
    return inRole && existsSync(inRole) ? inRole : this.resolveImport(from, name);
  }

  /** Spellings Ansible accepts, rewritten in place to the one rmqplay reads: ansible.builtin.include_role,
   *  the legacy include:, local_action: and action:. */
  desugar(raw: Record<string, any>, file: string, where: Where): boolean {
    for (const k of Object.keys(raw)) {
      const short = k.replace(/^ansible\.(builtin|legacy)\./, '');
      if (short === k || !SPECIAL_KEYWORDS.includes(short)) continue;
      raw[short] = raw[k];
      delete raw[k];
    }
    if (raw.include !== undefined) {
      const instead = 'write include_tasks: (resolved at run time) or import_tasks: (static) instead';
      const text = `"include:" was removed in ansible-core 2.16: ${instead}; it runs as include_tasks`;
      this.warn(posOf(raw, 'include') ?? where, file, text);
      raw.include_tasks = raw.include;
      delete raw.include;
    }
    for (const key of ['local_action', 'action']) {
      const v = raw[key];
      if (v === undefined) continue;
      let module: string | undefined;
      let args: unknown;
      if (typeof v === 'string') [, module, args] = /^\s*(\S+)\s*([\s\S]*)$/.exec(v) ?? [];
      else if (v && typeof v === 'object' && typeof v.module === 'string') {
        const { module: m, ...rest } = v;
        module = m;
        args = rest;
      }
      if (!module) {
        this.err(posOf(raw, key) ?? where, file, `${key}: name the task type ("${key}: copy src=a dest=b")`);
        return false;
      }
      delete raw[key];
      raw[module] = args === '' ? null : args;
      if (key === 'local_action') raw.delegate_to = 'localhost';
    }
    return true;
  }

  checkBecomeMethod(method: unknown, where: Where | undefined, file: string): void {
    if (typeof method !== 'string' || method.includes('{{') || method === 'sudo') return;
    this.err(where, file, `become_method: ${method} is not supported: rmqplay becomes through sudo only`);
  }

  /** Finds an imported file: relative to the importing file, then the package's playbooks/. */
  resolveImport(from: string, name: string): string | undefined {
    const cands = isAbsolute(name)
      ? [name]
      : [resolve(dirname(from), name), resolve(this.playbookDir, name), join(PACKAGE_ROOT, 'playbooks', name)];
    return cands.find((c) => existsSync(c));
  }

  loadPlaybook(file: string, seen: string[] = []): Play[] {
    if (seen.includes(file)) {
      this.err(undefined, file, `import loop: ${[...seen, file].join(' → ')}`);
      return [];
    }
    const data = loadYamlFile(file);
    if (!Array.isArray(data)) {
      this.err(
        posOf(data) ?? { file, line: 1, column: 1 },
        file,
        'a playbook is a list of plays (each starting with "- hosts: ...") or of import_playbook entries',
      );
      return [];
    }
    const plays: Play[] = [];
    data.forEach((entry, i) => {
      const where = posOf(data, i) ?? { file };
      if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
        this.err(where, file, 'each entry of a playbook is a play (a mapping with hosts:)');
        return;
      }
      if ('include' in entry && !('hosts' in entry)) {
        const text = '"include:" of a playbook was removed in ansible-core 2.16: write import_playbook: instead';
        this.warn(posOf(entry, 'include'), file, text);
        entry.import_playbook = entry.include;
        delete entry.include;
      }
      if ('import_playbook' in entry) {
        if (!this.schemaCheck('import_playbook', entry, file)) return;
        const target = this.resolveImport(file, entry.import_playbook);
        if (!target) {
          const looked = `looked beside ${file} and in the package's playbooks/`;
          this.err(
            posOf(entry, 'import_playbook'),
            file,
            `import_playbook: ${entry.import_playbook} not found (${looked})`,
          );
          return;
        }
        for (const p of this.loadPlaybook(target, [...seen, file])) {
          if (entry.vars) p.vars = { ...p.vars, ...entry.vars };
          plays.push(p);
        }
        return;
      }
      const p = this.loadPlay(entry as Record<string, any>, file, where);
      if (p) plays.push(p);
    });
    return plays;
  }

  schemaCheck(
    ref: string,
    value: unknown,
    file: string,
    base: (string | number)[] = [],
    root: unknown = value,
    known?: string[],
  ): boolean {
    const v = validator(ref);
    if (v(value)) return true;
    for (const e of explain(v.errors)) {
      const leaf = e.path[e.path.length - 1];
      const msg = e.message.startsWith('unknown key') && known ? `${e.message}${didYouMean(leaf, known)}` : e.message;
      const where = posAtPath(root, [...base, ...e.path]);
      const at = e.path.length ? `"${e.path.join('.')}": ` : '';
      this.err(where, file, `${at}${msg}`);
    }
    return false;
  }

  loadPlay(raw: Record<string, any>, file: string, where: Where): Play | undefined {
    if (!this.schemaCheck('play', raw, file, [], raw, Object.keys(PLAY_KEYS))) return undefined;
    this.warnReserved(raw.vars, file, posOf(raw, 'vars'));
    const varsFiles: Record<string, unknown> = {};
    for (const vf of [raw.vars_files ?? []].flat()) {
      const target = this.resolveImport(file, vf);
      if (!target) {
        this.err(posOf(raw, 'vars_files'), file, `vars_files: ${vf} not found`);
        continue;
      }
      const data = loadYamlFile(target);
      this.warnReserved(data, target);
      if (data && typeof data === 'object' && !Array.isArray(data)) Object.assign(varsFiles, data);
      else if (data !== null)
        this.err(posOf(data) ?? { file: target, line: 1 }, target, 'a vars file is a mapping of names to values');
    }
    const roles: Role[] = [];
    const roleTasks: Task[] = [];
    this.playRoles = [];
    this.playHandlers = [];
    this.handlerFiles = new Set();
    for (const r of raw.roles ?? []) {
      const name = typeof r === 'string' ? r : (r.role ?? r.name);
      const params =
        typeof r === 'object'
          ? Object.fromEntries(
              Object.entries(r)
                .filter(([k]) => !['role', 'name', 'tags', 'when'].includes(k))
                .map(([k, v]) => (k === 'vars' ? [] : [k, v]))
                .filter((x) => x.length),
            )
          : {};
      const asObject = typeof r === 'object' ? r : {};
      const extra = { vars: asObject.vars, params, when: [asObject.when ?? []].flat() };
      const loaded = this.loadRole(
        { name },
        file,
        posOf(r) ?? posOf(raw, 'roles'),
        undefined,
        extra,
        [asObject.tags ?? []].flat(),
        [file],
      );
      if (!loaded) continue;
      for (const [v, f] of loaded.varSources) this.warnReserved(v, f);
      roles.push(loaded.role);
      roleTasks.push(...loaded.tasks);
    }
    const list = (key: string, handler = false) =>
      this.loadTaskList(raw[key] ?? [], file, [key], raw, undefined, handler);
    const serial = raw.serial === undefined ? undefined : [raw.serial].flat();
    const sections = [list('pre_tasks'), [...roleTasks, ...list('tasks')], list('post_tasks')];
    const playHandlers = list('handlers', true);
    if (raw.become_method !== undefined) this.checkBecomeMethod(raw.become_method, posOf(raw, 'become_method'), file);
    const play: Play = {
      name: raw.name ?? String([raw.hosts].flat().join(',')),
      where,
      file,
      hosts: [raw.hosts].flat().join(':'),
      vars: raw.vars ?? {},
      varsFiles,
      serial,
      become: raw.become,
      becomeUser: raw.become_user,
      becomeMethod: raw.become_method,
      remoteUser: raw.remote_user,
      connection: this.connectionKeyword(raw.connection, where, file),
      environment: raw.environment,
      gatherFacts: !isFalse(raw.gather_facts),
      strategy: raw.strategy ?? 'linear',
      anyErrorsFatal: raw.any_errors_fatal === true,
      maxFailPercentage: raw.max_fail_percentage !== undefined ? Number(raw.max_fail_percentage) : undefined,
      forceHandlers: raw.force_handlers === true,
      sections,
      handlers: [...this.playHandlers, ...playHandlers],
      roles: [...roles, ...this.playRoles],
      tags: [raw.tags ?? []].flat(),
    };
    return play;
  }

  loadTaskFile(
    file: string,
    role?: Role,
    handler = false,
    when: (string | boolean)[] = [],
    tags: string[] = [],
    seen: string[] = [],
  ): Task[] {
    if (seen.includes(file)) {
      this.err(undefined, file, `import loop: ${[...seen, file].join(' → ')}`);
      return [];
    }
    const data = loadYamlFile(file);
    if (data === null) return [];
    if (!Array.isArray(data)) {
      this.err(posOf(data) ?? { file, line: 1, column: 1 }, file, 'a task file is a list of tasks');
      return [];
    }
    return this.loadTaskList(data, file, [], data, role, handler, when, tags, [...seen, file]);
  }

  loadTaskList(
    list: unknown[],
    file: string,
    base: (string | number)[],
    root: unknown,
    role?: Role,
    handler = false,
    inheritedWhen: (string | boolean)[] = [],
    inheritedTags: string[] = [],
    seen: string[] = [file],
  ): Task[] {
    const out: Task[] = [];
    if (!Array.isArray(list)) return out;
    list.forEach((raw, i) => {
      const where = posAtPath(root, [...base, i]) ?? { file };
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
        this.err(where, file, 'a task is a mapping: a task type key (file, copy, apt...) and keywords');
        return;
      }
      const t = this.loadTask(
        raw as Record<string, any>,
        file,
        where,
        role,
        handler,
        inheritedWhen,
        inheritedTags,
        seen,
      );
      if (t) out.push(...t);
    });
    return out;
  }

  loadTask(
    raw: Record<string, any>,
    file: string,
    where: Where,
    role: Role | undefined,
    handler: boolean,
    inheritedWhen: (string | boolean)[],
    inheritedTags: string[],
    seen: string[],
  ): Task[] | undefined {
    if (!this.desugar(raw, file, where)) return;
    const keys = Object.keys(raw);
    const actionKeys = keys.filter((k) => !(k in TASK_KEYWORDS));
    const ok = this.schemaCheck(
      'taskKeywords',
      Object.fromEntries(keys.filter((k) => k in TASK_KEYWORDS).map((k) => [k, raw[k]])),
      file,
      [],
      raw,
    );
    const when = [...inheritedWhen, ...[raw.when ?? []].flat()];
    const tags = [...inheritedTags, ...[raw.tags ?? []].flat()];
    const loopKeys = keys.filter((k) => k === 'loop' || k.startsWith('with_'));
    const badLoop = loopKeys.find((k) => k.startsWith('with_') && !LOOP_KINDS.includes(k.slice('with_'.length)));
    if (badLoop) {
      const runs = LOOP_KINDS.map((k) => `with_${k}`).join(', ');
      this.err(posOf(raw, badLoop), file, `unknown loop "${badLoop}": rmqplay runs loop: and ${runs}`);
      return;
    }
    if (loopKeys.length > 1) {
      this.err(posOf(raw, loopKeys[1]), file, `a task has one loop, found "${loopKeys[0]}" and "${loopKeys[1]}"`);
      return;
    }
    const loopKey = loopKeys[0];
    if (raw.become_method !== undefined) this.checkBecomeMethod(raw.become_method, posOf(raw, 'become_method'), file);
    const lc = raw.loop_control ?? {};
    const common = (): Task => ({
      id: formatWhere(where),
      where,
      file,
      name: raw.name ?? '',
      when,
      loop: loopKey === undefined ? undefined : raw[loopKey],
      loopKind: loopKey === undefined || loopKey === 'loop' ? loopKey : loopKey.slice('with_'.length),
      loopVar: lc.loop_var ?? 'item',
      loopControl: { label: lc.label, indexVar: lc.index_var, pause: lc.pause },
      environment: raw.environment === undefined ? [] : [raw.environment],
      becomeMethod: raw.become_method,
      remoteUser: raw.remote_user,
      connection: this.connectionKeyword(raw.connection, where, file),
      throttle: raw.throttle,
      register: raw.register,
      notify: [raw.notify ?? []].flat(),
      listen: [raw.listen ?? []].flat(),
      tags,
      become: raw.become,
      becomeUser: raw.become_user,
      runOnce: raw.run_once,
      delegateTo: raw.delegate_to,
      ignoreErrors: raw.ignore_errors,
      changedWhen: raw.changed_when === undefined ? undefined : [raw.changed_when].flat(),
      failedWhen: raw.failed_when === undefined ? undefined : [raw.failed_when].flat(),
      until: raw.until,
      retries: raw.retries,
      delay: raw.delay,
      checkMode: raw.check_mode,
      vars: raw.vars ?? {},
      role,
      handler,
      noLog: raw.no_log === undefined ? undefined : !isFalse(raw.no_log),
    });
    const beside = (keyword: string) => {
      if (!actionKeys.length) return false;
      const k = actionKeys[0];
      this.err(
        posOf(raw, k),
        file,
        `unknown keyword "${k}" beside ${keyword}${didYouMean(k, Object.keys(TASK_KEYWORDS))}`,
      );
      return true;
    };
    const tasksKey = ['import_tasks', 'include_tasks'].find((k) => raw[k] !== undefined);
    if (tasksKey) {
      if (beside(tasksKey)) return;
      const spec = raw[tasksKey];
      const name = String(typeof spec === 'object' && spec ? spec.file : spec);
      const templated = name.includes('{{');
      if (tasksKey === 'import_tasks' && loopKey) {
        this.err(posOf(raw, loopKey), file, 'import_tasks is static and cannot loop: write include_tasks');
        return;
      }
      const target = templated ? undefined : this.findTaskFile(file, role, name);
      if (!templated && !target) {
        const looked = `looked beside ${file}, beside the playbook and in the package's playbooks/`;
        this.err(posOf(raw, tasksKey), file, `${tasksKey}: ${name} not found (${looked})`);
        return;
      }
      if (!templated && !loopKey) {
        const tasks = this.loadTaskFile(target!, role, handler, when, tags, seen);
        return tasks.map((c) => inheritFrom(c, common()));
      }
      if (handler) {
        this.err(posOf(raw, tasksKey), file, `${tasksKey} with a loop or a templated name cannot be a handler`);
        return;
      }
      // Resolved at run time on each host; a static name is loaded now too, so that it is checked now.
      const t = common();
      t.name = raw.name ?? `${tasksKey}: ${name}`;
      t.include = { name, keyword: tasksKey };
      if (target) t.include.tasks = this.loadTaskFile(target, role, handler, [], [], seen);
      return [t];
    }
    const roleKey = ['import_role', 'include_role'].find((k) => raw[k] !== undefined);
    if (roleKey) {
      if (beside(roleKey)) return;
      let spec = raw[roleKey];
      // `import_role: name=r tasks_from=x`, the k=v form Ansible accepts too.
      if (typeof spec === 'string') {
        try {
          spec = freeFormArgs(spec);
        } catch (e) {
          this.err(posOf(raw, roleKey), file, `${roleKey}: ${(e as Error).message}`);
          return;
        }
      }
      if (!this.schemaCheck('roleImport', spec, file, [roleKey], raw)) return;
      if (String(spec.name).includes('{{') || loopKey) {
        const what = loopKey ? 'a loop' : 'a templated role name';
        this.err(
          posOf(raw, roleKey),
          file,
          `${roleKey} with ${what} is not supported: name the role, loop in its tasks`,
        );
        return;
      }
      const ref = {
        name: spec.name,
        tasksFrom: spec.tasks_from,
        defaultsFrom: spec.defaults_from,
        varsFrom: spec.vars_from,
        handlersFrom: spec.handlers_from,
      };
      const loaded = this.loadRole(ref, file, posOf(raw, roleKey), role, { when }, tags, seen);
      if (!loaded) return;
      // As in Ansible, an imported role's defaults and vars are the play's; an included one's are its own.
      if (roleKey === 'import_role' || spec.public === true) this.playRoles.push(loaded.role);
      if (roleKey === 'import_role') for (const [v, f] of loaded.varSources) this.warnReserved(v, f);
      const tasks = loaded.tasks.map((c) => inheritFrom(c, common()));
      if (roleKey === 'import_role') return tasks;
      // Ansible reports an include_role on each host (ok, or skipped by its when) before the role's tasks.
      const msg = `included: role ${spec.name}`;
      const mark: Task = { ...common(), type: 'debug', args: { msg }, notify: [], register: undefined };
      return [mark, ...tasks];
    }
    if (raw.include_vars !== undefined) {
      if (beside('include_vars')) return;
      const spec = typeof raw.include_vars === 'string' ? { file: raw.include_vars } : raw.include_vars;
      if (!this.schemaCheck('includeVars', spec, file, ['include_vars'], raw)) return;
      const t = common();
      t.name = raw.name ?? 'include_vars';
      t.includeVars = spec;
      try {
        includeVarsNames(this.playbookDir, t);
      } catch (e) {
        this.err(posOf(raw, 'include_vars'), file, `include_vars: ${(e as Error).message}`);
        return;
      }
      return [t];
    }
    if (raw.block) {
      if (actionKeys.length) {
        this.err(
          posOf(raw, actionKeys[0]),
          file,
          `unknown keyword "${actionKeys[0]}" in a block${didYouMean(actionKeys[0], Object.keys(TASK_KEYWORDS))}`,
        );
        return;
      }
      const t = common();
      t.name = raw.name ?? 'block';
      t.when = when;
      const sub = (k: string) => this.loadTaskList(raw[k] ?? [], file, [k], raw, role, handler, [], [], seen);
      t.block = sub('block');
      t.rescue = sub('rescue');
      t.always = sub('always');
      return [t];
    }
    if (raw.meta) {
      if (actionKeys.length) {
        this.err(posOf(raw, actionKeys[0]), file, `unknown keyword "${actionKeys[0]}"`);
        return;
      }
      const t = common();
      t.meta = raw.meta;
      t.name = raw.name ?? `meta: ${raw.meta}`;
      return [t];
    }
    if (actionKeys.length === 0) {
      this.err(where, file, `task has no task type: add one of ${[...taskTypes.keys()].sort().join(', ')}`);
      return;
    }
    const known = actionKeys.filter((k) => taskTypes.has(taskTypeName(k)));
    const unknown = actionKeys.filter((k) => !taskTypes.has(taskTypeName(k)));
    if (known.length === 0) {
      const k = unknown[0];
      const typeNames = [...taskTypes.keys()];
      const hint = didYouMean(k, [...typeNames, ...Object.keys(TASK_KEYWORDS)]);
      this.err(
        posOf(raw, k),
        file,
        `unknown task type or keyword "${k}"${hint}; task types: ${typeNames.sort().join(', ')}`,
      );
      return;
    }
    if (unknown.length || known.length > 1) {
      const k = unknown[0] ?? known[1];
      this.err(
        posOf(raw, k),
        file,
        unknown.length
          ? `unknown keyword "${k}"${didYouMean(k, Object.keys(TASK_KEYWORDS))}`
          : `a task has one task type, found "${known[0]}" and "${known[1]}"`,
      );
      return;
    }
    if (!ok) return;
    const key = known[0];
    const type = taskTypes.get(taskTypeName(key))!;
    let args: Record<string, unknown>;
    const rawArgs = raw[key];
    if (typeof rawArgs === 'string') {
      try {
        args = freeFormArgs(rawArgs, type.freeForm);
      } catch (e) {
        this.err(posOf(raw, key), file, `${key}: ${(e as Error).message}`);
        return;
      }
    } else if (isUnsafe(rawArgs) && type.freeForm) args = { [type.freeForm]: rawArgs };
    else if (rawArgs === null || rawArgs === undefined) args = {};
    else if (typeof rawArgs === 'object' && !Array.isArray(rawArgs)) args = { ...rawArgs };
    else {
      this.err(posOf(raw, key), file, `the arguments of ${key} must be a mapping`);
      return;
    }
    if (raw.args) Object.assign(args, raw.args);
    const v = validator(`tasks/${type.name}`);
    if (!v(args)) {
      const errs = explain(v.errors).filter((e) => !isTemplated(args, e.path));
      for (const e of errs) {
        const props = Object.keys((type.schema.properties as object) ?? {});
        const leaf = e.path[e.path.length - 1];
        const msg = e.message.startsWith('unknown key')
          ? `${key}: unknown argument "${leaf}"${didYouMean(leaf, props)}; allowed: ${props.join(', ')}`
          : `${key}${e.path.length ? '.' + e.path.join('.') : ''}: ${e.message}`;
        this.err(posAtPath(raw, [key, ...e.path]) ?? posOf(raw, key), file, msg);
      }
      if (errs.length) return;
    }
    const t = common();
    t.type = type.name;
    t.args = args;
    t.name = raw.name ?? `${type.name}`;
    try {
      const problem = type.validate?.(args as never, (kind, name) =>
        findFile(this.playbookDir, file, role, kind, name),
      );
      if (problem) this.err(posOf(raw, key), file, problem);
    } catch (e) {
      this.err(posOf(raw, key), file, (e as Error).message);
    }
    return [t];
  }
}

/** A child task under a block or an import: what it does not set itself, it takes from its parent. */
export function inheritFrom(c: Task, p: Task): Task {
  return {
    ...c,
    vars: { ...p.vars, ...c.vars },
    become: c.become ?? p.become,
    becomeUser: c.becomeUser ?? p.becomeUser,
    becomeMethod: c.becomeMethod ?? p.becomeMethod,
    remoteUser: c.remoteUser ?? p.remoteUser,
    connection: c.connection ?? p.connection,
    ignoreErrors: c.ignoreErrors ?? p.ignoreErrors,
    noLog: c.noLog ?? p.noLog,
    delegateTo: c.delegateTo ?? p.delegateTo,
    checkMode: c.checkMode ?? p.checkMode,
    runOnce: c.runOnce ?? p.runOnce,
    environment: [...p.environment, ...c.environment],
    data: p.data || c.data ? { ...p.data, ...c.data } : undefined,
  };
}

/** false, "false", "no", "off", "0": Ansible's false. */
export function isFalse(v: unknown): boolean {
  return v === false || (typeof v === 'string' && /^(false|no|off|0)$/i.test(v.trim()));
}

const isDir = (p: string) => statSync(p).isDirectory();

/** A vars file of include_vars: the role's vars/, beside the task file (or its vars/), beside the playbook. */
function findVarsPath(playbookDir: string, t: Task, name: string): string {
  if (isAbsolute(name)) {
    if (existsSync(name)) return name;
    throw new Error(`${name} not found`);
  }
  const here = dirname(t.file);
  const cands = [
    ...(t.role ? [join(t.role.path, 'vars', name), join(t.role.path, name)] : []),
    resolve(here, 'vars', name),
    resolve(here, name),
    resolve(playbookDir, 'vars', name),
    resolve(playbookDir, name),
  ];
  const hit = cands.find((c) => existsSync(c));
  if (!hit) throw new Error(`"${name}" not found; looked in: ${[...new Set(cands)].join(', ')}`);
  return hit;
}

/** The files of include_vars dir: (recursively, sorted), filtered as its arguments say. */
function varsDirFiles(dir: string, spec: Record<string, unknown>): string[] {
  const exts = [spec.extensions ?? ['yml', 'yaml', 'json']].flat().map(String);
  const matching = spec.files_matching === undefined ? undefined : new RegExp(String(spec.files_matching));
  const ignored = [spec.ignore_files ?? []].flat().map(String);
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (exts.some((x) => e.name.endsWith(`.${x}`)) && !ignored.includes(e.name))
        if (!matching || matching.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** What include_vars loads, for its (rendered) arguments: the variables, under `name` when given. */
export function readIncludeVars(playbookDir: string, t: Task, spec: Record<string, unknown>): Record<string, unknown> {
  const source = spec.file ?? spec._raw_params;
  const files =
    source !== undefined
      ? [findVarsPath(playbookDir, t, String(source))]
      : varsDirFiles(findVarsPath(playbookDir, t, String(spec.dir)), spec);
  const out: Record<string, unknown> = {};
  for (const f of files) {
    const data = loadYamlFile(f);
    if (data === null) continue;
    if (typeof data !== 'object' || Array.isArray(data)) throw new Error(`${f}: a vars file is a mapping of names`);
    Object.assign(out, data);
  }
  return spec.name === undefined ? out : { [String(spec.name)]: out };
}

/** The names include_vars defines, known before connecting: from the file, or from every candidate of
 *  a `{{ item }}` file name looped over a static list (the usual OS-specific vars pattern). */
export function includeVarsNames(playbookDir: string, t: Task): string[] {
  const spec = t.includeVars ?? {};
  if (spec.name !== undefined) return String(spec.name).includes('{{') ? [] : [String(spec.name)];
  const source = spec.file ?? spec._raw_params ?? spec.dir;
  if (typeof source !== 'string') return [];
  if (!source.includes('{{')) return Object.keys(readIncludeVars(playbookDir, t, spec));
  const itemOnly = new RegExp(`^\\{\\{\\s*${t.loopVar}\\s*\\}\\}$`).test(source.trim());
  const cands = t.loopKind === 'first_found' ? firstFoundNames(t.loop) : t.loop;
  if (!itemOnly || !Array.isArray(cands) || holdsTemplateText(cands)) return [];
  const names = new Set<string>();
  for (const c of cands) {
    try {
      for (const k of Object.keys(readIncludeVars(playbookDir, t, { ...spec, file: String(c) }))) names.add(k);
    } catch {
      /* a candidate that does not exist */
    }
  }
  return [...names];
}

/** The file names a with_first_found lists: plain names, or files (times paths) of its mappings. */
export function firstFoundNames(spec: unknown): string[] {
  const out: string[] = [];
  for (const e of [spec ?? []].flat()) {
    if (typeof e === 'string') out.push(e);
    else if (e && typeof e === 'object') {
      const o = e as Record<string, unknown>;
      const files = [o.files ?? []].flat().map(String);
      const paths = [o.paths ?? []].flat().map(String);
      for (const f of files) out.push(...(paths.length ? paths.map((p) => join(p, f)) : [f]));
    }
  }
  return out;
}

function holdsTemplateText(v: unknown): boolean {
  return JSON.stringify(v ?? null).includes('{{');
}

function isTemplated(args: Record<string, unknown>, path: string[]): boolean {
  let cur: unknown = args;
  for (const p of path) cur = (cur as Record<string, unknown>)?.[p];
  return typeof cur === 'string' && cur.includes('{{');
}

/** template/copy src lookup: role templates/ or files/, beside the task file, beside the playbook, the package's. */
export function findFile(
  playbookDir: string,
  taskFile: string,
  role: Role | undefined,
  kind: 'templates' | 'files',
  name: string,
): string {
  if (isAbsolute(name)) {
    if (existsSync(name)) return name;
    throw new Error(`${name} not found`);
  }
  // Each task looks its file up on each host: the path found is kept while it exists (a file made during the run
  // at a place looked at earlier is not seen; Ansible looks each time).
  const key = [playbookDir, taskFile, role?.path, kind, name].join('\0');
  const known = found.get(key);
  if (known !== undefined && existsSync(known)) return known;
  const cands = [
    ...(role ? [join(role.path, kind, name)] : []),
    resolve(dirname(taskFile), name),
    resolve(dirname(taskFile), kind, name),
    resolve(dirname(taskFile), '..', kind, name),
    resolve(dirname(taskFile), '..', '..', kind, name),
    resolve(playbookDir, kind, name),
    resolve(playbookDir, '..', kind, name),
    join(PACKAGE_ROOT, kind, name),
  ];
  const hit = cands.find((c) => existsSync(c));
  if (!hit)
    throw new Error(
      `${kind === 'templates' ? 'template' : 'file'} "${name}" not found; looked in: ${[...new Set(cands)].join(', ')}`,
    );
  found.set(key, hit);
  return hit;
}
const found = new Map<string, string>();

export interface LoadedPlaybook {
  file: string;
  dir: string;
  plays: Play[];
  /** Things that run but should be written otherwise (the legacy include:), with file:line. */
  warnings?: string[];
}

/** PLAYBOOK as given: an existing path, else playbooks/PLAYBOOK, else the package's shipped
 *  playbooks; `note` says which one was used when it is not the path as given. */
export function resolvePlaybookPath(arg: string, cwd = process.cwd()): { path: string; note?: string } {
  const given = resolve(cwd, arg);
  if (existsSync(given)) return { path: given };
  const candidates = isAbsolute(arg) ? [] : [resolve(cwd, 'playbooks', arg), join(PACKAGE_ROOT, 'playbooks', arg)];
  const hit = candidates.find((c) => existsSync(c));
  if (!hit) {
    const looked = [given, ...candidates].map(displayPath).join(', ');
    throw new PlaybookError({ file: arg }, `playbook not found (looked for ${looked})`);
  }
  return { path: hit, note: `${arg}: using ${displayPath(hit)}` };
}

/** `extraVars`: the -e variables, for the reserved-name warning (Ansible checks them with each play's). */
export function loadPlaybook(file: string, extraVars?: Record<string, unknown>): LoadedPlaybook {
  const abs = resolvePlaybookPath(file).path;
  const loader = new Loader(dirname(abs));
  loader.warnReserved(extraVars, '-e');
  const plays = loader.loadPlaybook(abs);
  if (loader.errors.length) throw new PlaybookErrors(loader.errors);
  return { file: abs, dir: dirname(abs), plays, warnings: loader.warnings };
}

/** include_tasks at run time: the file a host's rendered name names, loaded and checked as at load time.
 *  Bad input there is thrown as one error that gives each problem's file:line. */
export function loadIncludedTasks(playbookDir: string, from: Task, name: string): Task[] {
  const loader = new Loader(playbookDir);
  const keyword = from.include?.keyword ?? 'include_tasks';
  const target = loader.findTaskFile(from.file, from.role, name);
  if (!target) throw new PlaybookError(from.where, `${keyword}: ${name} not found (looked beside ${from.file})`);
  const tasks = loader.loadTaskFile(target, from.role, false, [], [], [from.file]);
  if (loader.errors.length) {
    const problems = loader.errors.map((e) => e.message).join('; ');
    throw new PlaybookError(from.where, `${keyword}: bad input in ${name}: ${problems}`);
  }
  return tasks;
}

/** Every task of a play, handlers and blocks included, in order. */
export function allTasks(play: Play): Task[] {
  const out: Task[] = [];
  const walk = (ts: Task[]) => {
    for (const t of ts) {
      out.push(t);
      if (t.include?.tasks) walk(t.include.tasks);
      if (t.block) {
        walk(t.block);
        walk(t.rescue ?? []);
        walk(t.always ?? []);
      }
    }
  };
  for (const s of play.sections) walk(s);
  walk(play.handlers);
  return out;
}

const SECRET_HOME =
  'a secret: keep it in group_vars/<group>/vault.yml beside the inventory (rmqplay lab up writes one for the lab)';
const VARIABLE_HOMES = 'define it in the inventory (group_vars/, host_vars/), in vars:, vars_files: or with -e';

/** Strict variables: every name a template or condition reads must be defined somewhere. */
export function checkVariables(
  pb: LoadedPlaybook,
  play: Play,
  inventoryNames: Set<string>,
  extra: Record<string, unknown>,
): PlaybookError[] {
  const errors: PlaybookError[] = [];
  const tasks = allTasks(play);
  const known = new Set<string>([
    ...MAGIC,
    ...inventoryNames,
    ...Object.keys(play.vars),
    ...Object.keys(play.varsFiles),
    ...Object.keys(extra),
  ]);
  const roleNames = (r: Role) => [...Object.keys(r.defaults), ...Object.keys(r.vars), ...Object.keys(r.params)];
  for (const r of play.roles) for (const k of roleNames(r)) known.add(k);
  for (const t of tasks) {
    if (t.register) known.add(t.register);
    for (const k of Object.keys(t.vars)) known.add(k);
    for (const k of definedVars(pb, t)) known.add(k);
    known.add(t.loopVar);
    if (t.loopControl.indexVar) known.add(t.loopControl.indexVar);
    if (t.role) for (const k of roleNames(t.role)) known.add(k);
  }
  // Facts are defined where they are gathered: this play, an earlier one, or a setup task.
  const factsKnown = pb.plays.some((p) => p.gatherFacts || allTasks(p).some((x) => x.type === 'setup'));
  let readsFacts = false;
  const noteFacts = (text: unknown) => {
    readsFacts ||= typeof text === 'string' && mentionsFact(text);
  };
  const need = (names: string[], t: Task | undefined, what: string, where: Where) => {
    for (const n of names) {
      readsFacts ||= isFactName(n);
      if (known.has(n) || (factsKnown && isFactName(n))) continue;
      const where2 = isSecretName(n) ? SECRET_HOME : VARIABLE_HOMES;
      errors.push(
        new PlaybookError(
          where,
          `undefined variable "${n}" in ${what}${t ? ` of task "${t.name}"` : ''}${didYouMean(n, known)}: ${where2}`,
        ),
      );
    }
  };
  const scan = (value: unknown, t: Task, what: string): void => {
    if (isUnsafe(value)) return;
    if (typeof value === 'string') {
      noteFacts(value);
      try {
        need(templateVars(value), t, what, t.where);
      } catch (e) {
        errors.push(
          new PlaybookError(t.where, `template syntax error in ${what}: ${(e as Error).message.split('\n')[0]}`),
        );
      }
    } else if (Array.isArray(value)) value.forEach((v) => scan(v, t, what));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) scan(v, t, `${what}.${k}`);
  };
  const varsScan = (vars: Record<string, unknown>, where: Where, what: string) => {
    for (const [k, v] of Object.entries(vars))
      if (typeof v === 'string') {
        try {
          need(templateVars(v), undefined, `${what} "${k}"`, posOf(vars, k) ?? where);
        } catch {
          /* reported at use */
        }
      }
  };
  varsScan(play.vars, play.where, 'play variable');
  for (const t of tasks) {
    scan(t.args, t, t.type ?? 'task');
    scan(t.name, t, 'name');
    scan(t.loop, t, 'loop');
    scan(t.delegateTo, t, 'delegate_to');
    scan(t.environment, t, 'environment');
    scan(t.loopControl.label, t, 'loop_control.label');
    scan(t.include?.name, t, 'include_tasks');
    scan(t.includeVars, t, 'include_vars');
    for (const problem of firstFoundProblems(pb, t)) errors.push(new PlaybookError(t.where, problem));
    for (const c of [
      ...t.when,
      ...(t.changedWhen ?? []),
      ...(t.failedWhen ?? []),
      ...(t.until !== undefined ? [t.until] : []),
    ]) {
      noteFacts(c);
      try {
        need(exprVars(c), t, 'a condition', t.where);
      } catch (e) {
        errors.push(new PlaybookError(t.where, `cannot read condition "${c}": ${(e as Error).message}`));
      }
    }
    for (const src of templateFiles(t)) {
      try {
        const f = findFile(pb.dir, t.file, t.role, 'templates', src);
        const text = readFileSync(f, 'utf8');
        noteFacts(text);
        // An included template is checked as part of the one that includes it (its facts too).
        const find = (name: string) => {
          const inc = findFile(pb.dir, t.file, t.role, 'templates', name);
          noteFacts(readFileSync(inc, 'utf8'));
          return inc;
        };
        need(templateVars(text, f, find), t, `template ${f}`, t.where);
      } catch (e) {
        errors.push(new PlaybookError(t.where, (e as Error).message));
      }
    }
  }
  if (play.environment !== undefined) varsScan({ environment: play.environment }, play.where, 'play keyword');
  // Variables render when read: one that holds a fact makes its readers read facts.
  const varLayers = [play.varsFiles, extra, ...play.roles.flatMap((r) => [r.defaults, r.vars, r.params])];
  for (const t of tasks) varLayers.push(t.vars, ...(t.role ? [t.role.defaults, t.role.vars] : []));
  play.readsFacts = readsFacts || varLayers.some(mentionsFactDeep);
  return errors;
}

/** Whether a text names a fact (as hostvars[h].ansible_default_ipv4 does, which a root name does not tell). */
function mentionsFact(text: string): boolean {
  for (const m of text.matchAll(/\bansible_[A-Za-z0-9_]+/g)) if (isFactName(m[0])) return true;
  return false;
}

/** Whether any string in a value names a fact. */
export function mentionsFactDeep(value: unknown): boolean {
  if (typeof value === 'string') return mentionsFact(value);
  if (Array.isArray(value)) return value.some(mentionsFactDeep);
  if (value && typeof value === 'object') return Object.values(value).some(mentionsFactDeep);
  return false;
}

/** with_first_found over names known before connecting: one of them must exist, unless skip is asked. */
function firstFoundProblems(pb: LoadedPlaybook, t: Task): string[] {
  if (t.loopKind !== 'first_found' || holdsTemplateText(t.loop)) return [];
  const skip = [t.loop].flat().some((e) => e && typeof e === 'object' && (e as { skip?: unknown }).skip === true);
  const names = firstFoundNames(t.loop);
  if (skip || findFirst(pb.dir, t, names)) return [];
  return [`with_first_found: none of ${names.join(', ')} found`];
}

/** The first file of with_first_found that exists, as Ansible looks for it (files/, templates/, vars/). */
export function findFirst(playbookDir: string, t: Task, names: string[]): string | undefined {
  for (const n of names) {
    const found = [
      () => findFile(playbookDir, t.file, t.role, 'files', n),
      () => findFile(playbookDir, t.file, t.role, 'templates', n),
      () => findVarsPath(playbookDir, t, n),
    ];
    for (const f of found) {
      try {
        return f();
      } catch {
        /* not there: the next place */
      }
    }
  }
  return undefined;
}

/** Variables a task defines for later tasks (set_fact, include_vars), as its type declares them. */
function definedVars(pb: LoadedPlaybook, t: Task): string[] {
  if (t.includeVars) return includeVarsNames(pb.dir, t);
  const type = t.type ? taskTypes.get(t.type) : undefined;
  return type?.facts ? Object.keys(type.facts(t.args ?? {})) : [];
}

/** The template files a task reads (its type's templateArgs), where the name is not templated. */
function templateFiles(t: Task): string[] {
  const type = t.type ? taskTypes.get(t.type) : undefined;
  const names = (type?.templateArgs ?? []).map((a) => t.args?.[a]);
  return names.filter((n): n is string => typeof n === 'string' && !n.includes('{{'));
}

/** Every notify names a handler of the play (by name or listen), as Ansible requires. */
export function checkNotify(play: Play): PlaybookError[] {
  const handlers = new Set(play.handlers.flatMap((h) => [h.name, ...h.listen]));
  const errors: PlaybookError[] = [];
  for (const t of allTasks(play)) {
    for (const n of t.notify) {
      if (handlers.has(n) || n.includes('{{')) continue;
      const known = handlers.size
        ? `${didYouMean(n, handlers)}; handlers of this play: ${[...handlers].join(', ')}`
        : '';
      const why = handlers.size ? known : ': this play has no handlers';
      errors.push(new PlaybookError(t.where, `notify: no handler "${n}" in play "${play.name}"${why}`));
    }
  }
  return errors;
}
