// Loads a playbook with its imports, roles and task files, validates everything against the
// schema and checks every variable reference, before any connection is opened.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { displayPath, PlaybookError, PlaybookErrors, Where, formatWhere } from '../util/errors.js';
import { exprVars } from '../language/expr.js';
import { explain, PLAY_KEYS, TASK_KEYWORDS, validator } from './schema.js';
import { didYouMean } from '../util/similar.js';
import { taskTypeName, taskTypes } from '../modules/index.js';
import { templateVars } from '../language/template.js';
import { loadYamlFile, posAtPath, posOf } from '../language/yaml.js';
import { isSecretName } from '../util/secrets.js';

// dist/lib/core/playbook.js → the package's root folder.
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

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
  loopVar: string;
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
];

class Loader {
  errors: PlaybookError[] = [];
  constructor(public playbookDir: string) {}

  err(where: Where | undefined, file: string, reason: string): void {
    this.errors.push(new PlaybookError(where ?? { file }, reason));
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
    const varsFiles: Record<string, unknown> = {};
    for (const vf of [raw.vars_files ?? []].flat()) {
      const target = this.resolveImport(file, vf);
      if (!target) {
        this.err(posOf(raw, 'vars_files'), file, `vars_files: ${vf} not found`);
        continue;
      }
      const data = loadYamlFile(target);
      if (data && typeof data === 'object' && !Array.isArray(data)) Object.assign(varsFiles, data);
      else if (data !== null)
        this.err(posOf(data) ?? { file: target, line: 1 }, target, 'a vars file is a mapping of names to values');
    }
    const roles: Role[] = [];
    const roleTasks: Task[] = [];
    const handlers: Task[] = [];
    for (const r of raw.roles ?? []) {
      const name = typeof r === 'string' ? r : (r.role ?? r.name);
      const dir = [
        resolve(dirname(file), 'roles', name),
        resolve(this.playbookDir, 'roles', name),
        join(PACKAGE_ROOT, 'playbooks', 'roles', name),
      ].find((d) => existsSync(d));
      if (!dir) {
        this.err(
          posOf(r) ?? posOf(raw, 'roles'),
          file,
          `role "${name}" not found in roles/ beside the playbook or in the package's playbooks/roles/`,
        );
        continue;
      }
      const readVars = (sub: string) => {
        const f = ['main.yml', 'main.yaml'].map((m) => join(dir, sub, m)).find(existsSync);
        const d = f ? loadYamlFile(f) : null;
        return (d && typeof d === 'object' ? d : {}) as Record<string, unknown>;
      };
      const params =
        typeof r === 'object'
          ? Object.fromEntries(
              Object.entries(r)
                .filter(([k]) => !['role', 'name', 'tags', 'when'].includes(k))
                .map(([k, v]) => (k === 'vars' ? [] : [k, v]))
                .filter((x) => x.length),
            )
          : {};
      const role: Role = {
        name,
        path: dir,
        defaults: readVars('defaults'),
        vars: { ...readVars('vars'), ...(typeof r === 'object' ? r.vars : {}) },
        params,
      };
      roles.push(role);
      const tf = ['main.yml', 'main.yaml'].map((m) => join(dir, 'tasks', m)).find(existsSync);
      if (tf)
        roleTasks.push(
          ...this.loadTaskFile(
            tf,
            role,
            false,
            typeof r === 'object' ? [r.when ?? []].flat() : [],
            typeof r === 'object' ? [r.tags ?? []].flat() : [],
          ),
        );
      const hf = ['main.yml', 'main.yaml'].map((m) => join(dir, 'handlers', m)).find(existsSync);
      if (hf) handlers.push(...this.loadTaskFile(hf, role, true));
    }
    const list = (key: string, handler = false) =>
      this.loadTaskList(raw[key] ?? [], file, [key], raw, undefined, handler);
    const serial = raw.serial === undefined ? undefined : [raw.serial].flat();
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
      strategy: raw.strategy ?? 'linear',
      anyErrorsFatal: raw.any_errors_fatal === true,
      maxFailPercentage: raw.max_fail_percentage !== undefined ? Number(raw.max_fail_percentage) : undefined,
      forceHandlers: raw.force_handlers === true,
      sections: [list('pre_tasks'), [...roleTasks, ...list('tasks')], list('post_tasks')],
      handlers: [...handlers, ...list('handlers', true)],
      roles,
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
    if (raw.import_tasks || raw.include_tasks) {
      const name = raw.import_tasks ?? raw.include_tasks;
      if (actionKeys.length) {
        this.err(posOf(raw, actionKeys[0]), file, `unknown keyword "${actionKeys[0]}" beside import_tasks`);
        return;
      }
      if (String(name).includes('{{')) {
        this.err(
          posOf(raw, 'include_tasks'),
          file,
          'include_tasks with a templated file name is not supported: name the file',
        );
        return;
      }
      const target =
        (role ? [join(role.path, 'tasks', name)].filter(existsSync)[0] : undefined) ?? this.resolveImport(file, name);
      if (!target) {
        const keyword = raw.import_tasks ? 'import_tasks' : 'include_tasks';
        const looked = `looked beside ${file}, beside the playbook and in the package's playbooks/`;
        this.err(posOf(raw, keyword), file, `${keyword}: ${name} not found (${looked})`);
        return;
      }
      const tasks = this.loadTaskFile(target, role, handler, when, tags, seen);
      if (raw.vars) for (const t of tasks) t.vars = { ...raw.vars, ...t.vars };
      return tasks;
    }
    const common = (): Task => ({
      id: formatWhere(where),
      where,
      file,
      name: raw.name ?? '',
      when,
      loop: raw.loop ?? raw.with_items,
      loopVar: raw.loop_control?.loop_var ?? 'item',
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
      noLog: raw.no_log === true,
    });
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
    if (typeof rawArgs === 'string') args = type.freeForm ? { [type.freeForm]: rawArgs } : parseKv(rawArgs);
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

function isTemplated(args: Record<string, unknown>, path: string[]): boolean {
  let cur: unknown = args;
  for (const p of path) cur = (cur as Record<string, unknown>)?.[p];
  return typeof cur === 'string' && cur.includes('{{');
}

/** Ansible's k=v argument strings: `path=/x state=directory`. */
export function parseKv(s: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const re = /(\w+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S+)/g;
  let m;
  while ((m = re.exec(s))) out[m[1]] = m[2].replace(/^(["'])(.*)\1$/, '$2');
  return out;
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
  return hit;
}

export interface LoadedPlaybook {
  file: string;
  dir: string;
  plays: Play[];
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

export function loadPlaybook(file: string): LoadedPlaybook {
  const abs = resolvePlaybookPath(file).path;
  const loader = new Loader(dirname(abs));
  const plays = loader.loadPlaybook(abs);
  if (loader.errors.length) throw new PlaybookErrors(loader.errors);
  return { file: abs, dir: dirname(abs), plays };
}

/** Every task of a play, handlers and blocks included, in order. */
export function allTasks(play: Play): Task[] {
  const out: Task[] = [];
  const walk = (ts: Task[]) => {
    for (const t of ts) {
      out.push(t);
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
  for (const r of play.roles)
    for (const k of [...Object.keys(r.defaults), ...Object.keys(r.vars), ...Object.keys(r.params)]) known.add(k);
  for (const t of tasks) {
    if (t.register) known.add(t.register);
    for (const k of Object.keys(t.vars)) known.add(k);
    for (const k of definedVars(t)) known.add(k);
    known.add(t.loopVar);
  }
  const need = (names: string[], t: Task | undefined, what: string, where: Where) => {
    for (const n of names) {
      if (known.has(n)) continue;
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
    if (typeof value === 'string') {
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
    for (const c of [
      ...t.when,
      ...(t.changedWhen ?? []),
      ...(t.failedWhen ?? []),
      ...(t.until !== undefined ? [t.until] : []),
    ]) {
      try {
        need(exprVars(c), t, 'a condition', t.where);
      } catch (e) {
        errors.push(new PlaybookError(t.where, `cannot read condition "${c}": ${(e as Error).message}`));
      }
    }
    for (const src of templateFiles(t)) {
      try {
        const f = findFile(pb.dir, t.file, t.role, 'templates', src);
        need(templateVars(readFileSync(f, 'utf8'), f), t, `template ${f}`, t.where);
      } catch (e) {
        errors.push(new PlaybookError(t.where, (e as Error).message));
      }
    }
  }
  return errors;
}

/** Variables a task defines for later tasks (set_fact), as its type declares them. */
function definedVars(t: Task): string[] {
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
