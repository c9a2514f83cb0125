// One task on one host: render the arguments and validate them again, when, then for each loop item
// check → plan → (record in check mode | apply → re-check), changed_when/failed_when, until/retries.
// It returns typed outcomes; the scheduler decides what they mean for the play and reports them.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { Become, Host, hostWith } from '../connection/host.js';
import { LocalHost } from '../connection/local.js';
import { withBecomeErrors } from '../connection/become.js';
import { q } from '../connection/quote.js';
import { factVars } from '../modules/builtin/setup.js';
import { evalExpr } from '../language/expr.js';
import { holdsTemplate, renderDeep, renderString } from '../language/template.js';
import { taskTypes } from '../modules/index.js';
import { Change, Pending } from '../modules/pending.js';
import { Args, RunShared, TaskCtx, TaskType } from '../modules/task.js';
import { ConnectError, SkipTask, TaskError, UnknownState } from '../util/errors.js';
import { assignOwn, overlay, setOwn } from '../util/objects.js';
import { collectAllStrings, collectSecrets, redact } from '../util/secrets.js';
import { Barrier } from '../util/semaphore.js';
import { findFile, findFirst, firstFoundNames, Play, readIncludeVars, Task } from './playbook.js';
import { Lookahead } from './lookahead.js';
import { argumentErrors } from './schema.js';
import { OMIT, PlayVars } from './variables.js';

export type Status = 'ok' | 'changed' | 'unknown' | 'failed' | 'skipped' | 'unreachable';

/** One loop item (or the task itself, without a loop) on one host. */
export interface ItemOutcome {
  status: Status;
  result: Record<string, unknown>;
  changes: Change<unknown>[];
  ms: number;
  /** Why it was skipped or unknown. */
  reason?: string;
  msg?: string;
  /** A failure that ignore_errors turned into ok. */
  ignored?: boolean;
  /** Present in loops; the label (loop_control) is shown instead of the value. */
  item?: { value: unknown; label?: unknown };
}

/** The task on one host, all items together. */
export interface TaskOutcome {
  /** The status the recap counts: the task's own, or the loop's as a whole. */
  status: Status;
  ignored: boolean;
  /** What `register` stores. */
  registered: Record<string, unknown>;
  /** A changed (or, in check mode, unknown) item: its handlers are notified. */
  notify: boolean;
}

/** The host as the executor sees it: the connection, the check-mode overlay and the facts it may add to. */
export interface HostRun {
  name: string;
  host: Host;
  pending: Pending;
  facts: Record<string, unknown>;
  /** Gathered facts (setup, or any result that carries ansible_facts); kept in `facts` when not given. */
  gathered?: Record<string, unknown>;
  /** The rendezvous of the hosts running this task (TaskCtx.barrier). */
  barrier?: Barrier;
}

export interface ExecEnv {
  check: boolean;
  play: Play;
  vars: PlayVars;
  playbookDir: string;
  /** The connection of another inventory host (delegate_to). */
  connection(name: string): Promise<Host>;
  /** The check-mode overlay of another host of the play. */
  pendingOf(name: string): Pending;
  /** What the tasks of the run share (TaskCtx.shared): told of every change applied, on any host. */
  shared: RunShared;
  /** Checks run ahead of their turn (lookahead.ts): told of every change and every variable set. */
  lookahead?: Lookahead;
}

const isTrue = (v: boolean | string | undefined) => v === true || (typeof v === 'string' && /^(true|yes|1)$/i.test(v));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export { isTrue };

/** Runs a task on one host with its loop; `onItem` hears each item as it ends. */
export async function runOnHost(
  t: Task,
  hr: HostRun,
  env: ExecEnv,
  onItem: (o: ItemOutcome) => void,
): Promise<TaskOutcome> {
  let items: unknown[] | undefined;
  try {
    if (t.loop !== undefined) items = loopItems(t, env.vars.forTask(t, hr.name), env.playbookDir);
  } catch (e) {
    const o = failure(t, e as Error, 0);
    onItem(o);
    return finish(t, hr, env, o.status, o.ignored ?? false, o.result, false);
  }
  if (!items) {
    const o = await runItem(t, hr, env, {}, t.id);
    onItem(o);
    const notify = o.status === 'changed' || o.status === 'unknown';
    return finish(t, hr, env, o.status, o.ignored ?? false, o.result, notify);
  }
  const results: Record<string, unknown>[] = [];
  let anyChanged = false;
  let anyFailed = false;
  let allSkipped = true;
  let notify = false;
  const { pause } = t.loopControl;
  for (const [index, value] of items.entries()) {
    if (index > 0 && pause) await sleep(Number(pause) * 1000);
    const loop = loopVars(t, index, value);
    const o = await runItem(t, hr, env, loop, itemSlot(t, index));
    o.item = { value, label: labelOf(t, env, hr.name, loop) };
    onItem(o);
    results.push({ ...o.result, item: value });
    // An unreachable host ends its loop; nothing is registered.
    if (o.status === 'unreachable') return { status: 'unreachable', ignored: false, registered: {}, notify: false };
    if (o.status !== 'skipped') allSkipped = false;
    anyChanged ||= o.status === 'changed';
    anyFailed ||= o.status === 'failed' && !o.ignored;
    notify ||= o.status === 'changed' || o.status === 'unknown';
  }
  const status: Status = anyFailed ? 'failed' : allSkipped ? 'skipped' : anyChanged ? 'changed' : 'ok';
  const registered = { results, changed: anyChanged, failed: anyFailed, skipped: allSkipped };
  return finish(t, hr, env, status, false, registered, notify);
}

/** The variables one loop item adds: the loop variable, and loop_control's index_var. */
function loopVars(t: Task, index: number, value: unknown): Record<string, unknown> {
  const loop: Record<string, unknown> = { [t.loopVar]: value, ansible_loop_var: t.loopVar };
  const { indexVar } = t.loopControl;
  if (indexVar) Object.assign(loop, { [indexVar]: index, ansible_index_var: indexVar });
  return loop;
}

/** Which item of the task a read run ahead is for (lookahead.ts): the task's id, with the item's index. */
const itemSlot = (t: Task, index: number) => `${t.id}#${index}`;

function finish(
  t: Task,
  hr: HostRun,
  env: ExecEnv,
  status: Status,
  ignored: boolean,
  registered: Record<string, unknown>,
  notify: boolean,
): TaskOutcome {
  // A no_log task's result is secret wherever it goes next (a debug of the registered variable).
  if (t.noLog) collectAllStrings(registered);
  if (t.register) {
    setOwn(hr.facts, t.register, registered);
    env.lookahead?.changedVars();
  }
  return { status, ignored, registered, notify };
}

/** loop_control.label rendered for an item; undefined when there is none (or it cannot render). */
function labelOf(t: Task, env: ExecEnv, host: string, loop: Record<string, unknown>): unknown {
  if (t.loopControl.label === undefined) return undefined;
  try {
    return renderString(t.loopControl.label, env.vars.forTask(t, host, loop));
  } catch {
    return t.loopControl.label;
  }
}

/** The items of a task's loop: loop: as it is, with_X as Ansible's X lookup makes them. */
export function loopItems(t: Task, vars: Record<string, unknown>, playbookDir: string): unknown[] | undefined {
  if (t.loop === undefined) return undefined;
  const l = renderDeep(t.loop, vars);
  const kind = t.loopKind ?? 'loop';
  const list = () => (Array.isArray(l) ? l : [l]);
  switch (kind) {
    case 'loop':
      if (!Array.isArray(l)) throw new TaskError(`loop must be a list, got ${typeof l}`);
      return l;
    case 'list':
      return list();
    case 'items':
      // Flattened one level, as Ansible's items lookup does.
      return list().flatMap((x) => (Array.isArray(x) ? x : [x]));
    case 'indexed_items':
      return list()
        .flatMap((x) => (Array.isArray(x) ? x : [x]))
        .map((x, i) => [i, x]);
    case 'dict':
      if (!l || typeof l !== 'object' || Array.isArray(l)) throw new TaskError('with_dict expects a mapping');
      return Object.entries(l).map(([key, value]) => ({ key, value }));
    case 'nested':
      return product(list().map((x) => (Array.isArray(x) ? x : [x])));
    case 'together':
      return together(list().map((x) => (Array.isArray(x) ? x : [x])));
    case 'sequence':
      return sequence(l);
    case 'subelements':
      return subelements(l);
    case 'fileglob':
      return list().flatMap((p) => fileglob(String(p), t, playbookDir));
    case 'first_found':
      return firstFound(l, t, playbookDir);
    default:
      throw new TaskError(`unknown loop with_${kind}`);
  }
}

function product(lists: unknown[][]): unknown[][] {
  return lists.reduce<unknown[][]>((acc, l) => acc.flatMap((a) => l.map((x) => [...a, x])), [[]]);
}

/** with_together: the lists zipped, the shorter ones filled with null. */
function together(lists: unknown[][]): unknown[][] {
  const n = Math.max(0, ...lists.map((l) => l.length));
  return Array.from({ length: n }, (_, i) => lists.map((l) => (i < l.length ? l[i] : null)));
}

/** with_sequence: start/end/stride/count/format as a mapping, as `start=1 end=5`, or as `1-5/2:%02d`. */
export function sequence(spec: unknown): string[] {
  let o: Record<string, unknown>;
  if (typeof spec === 'string') {
    const short = /^\s*(\S+)-(\S+?)(?:\/(\S+?))?(?::(\S+))?\s*$/.exec(spec);
    o = {};
    if (short && !spec.includes('='))
      Object.assign(o, { start: short[1], end: short[2], stride: short[3], format: short[4] });
    else for (const m of spec.matchAll(/(\w+)=(\S+)/g)) o[m[1]] = m[2];
  } else if (spec && typeof spec === 'object' && !Array.isArray(spec)) o = spec as Record<string, unknown>;
  else throw new TaskError('with_sequence expects "start=1 end=5" or a mapping');
  const num = (k: string, d?: number) => {
    if (o[k] === undefined || o[k] === null) return d;
    const n = Number(o[k]);
    if (!Number.isInteger(n)) throw new TaskError(`with_sequence: ${k} must be an integer, got ${String(o[k])}`);
    return n;
  };
  const start = num('start', 1)!;
  const stride = num('stride', 1)!;
  const count = num('count');
  const end = count !== undefined ? start + (count - 1) * stride : num('end');
  if (end === undefined) throw new TaskError('with_sequence: give end or count');
  if (stride === 0) return [];
  if ((stride > 0 && end < start) || (stride < 0 && end > start))
    throw new TaskError('with_sequence: to count backwards, make stride negative');
  const format = o.format === undefined ? '%d' : String(o.format);
  const out: string[] = [];
  for (let i = start; stride > 0 ? i <= end : i >= end; i += stride) out.push(printfInt(format, i));
  return out;
}

/** printf with one integer: %d, %5d, %05d, %x, %X, %o, %s; %% is a percent sign. */
function printfInt(format: string, n: number): string {
  return format.replace(/%(0?)(\d*)([dixXos%])/g, (_m, zero: string, width: string, conv: string) => {
    if (conv === '%') return '%';
    const radix = conv === 'x' || conv === 'X' ? 16 : conv === 'o' ? 8 : 10;
    let s = Math.abs(n).toString(radix);
    if (conv === 'X') s = s.toUpperCase();
    const sign = n < 0 ? '-' : '';
    const w = Number(width || 0) - sign.length;
    return sign + (zero ? s.padStart(w, '0') : s).padStart(w, ' ');
  });
}

/** with_subelements: [list, 'key', {skip_missing}] → [element, subelement] pairs. */
function subelements(spec: unknown): unknown[][] {
  if (!Array.isArray(spec) || spec.length < 2 || typeof spec[1] !== 'string')
    throw new TaskError('with_subelements expects [list, "key"] or [list, "key", {skip_missing: true}]');
  const [outer, path, flags] = spec as [unknown, string, { skip_missing?: unknown } | undefined];
  const elems = Array.isArray(outer) ? outer : outer && typeof outer === 'object' ? Object.values(outer) : [];
  const out: unknown[][] = [];
  for (const e of elems) {
    let sub: unknown = e;
    for (const k of path.split('.'))
      sub = sub && typeof sub === 'object' && Object.hasOwn(sub, k) ? (sub as Record<string, unknown>)[k] : undefined;
    if (sub === undefined) {
      if (flags?.skip_missing === true) continue;
      throw new TaskError(`with_subelements: an element has no "${path}" (skip_missing: true skips it)`);
    }
    if (!Array.isArray(sub)) throw new TaskError(`with_subelements: "${path}" must be a list`);
    for (const x of sub) out.push([e, x]);
  }
  return out;
}

/** with_fileglob on the controller: files (not folders) whose name matches, in the first folder where the
 *  pattern's folder exists (role files/, beside the task file, the playbook's files/, the playbook's). */
function fileglob(pattern: string, t: Task, playbookDir: string): string[] {
  const here = dirname(t.file);
  const bases = isAbsolute(pattern)
    ? ['/']
    : [
        ...(t.role ? [join(t.role.path, 'files')] : []),
        join(here, 'files'),
        here,
        join(playbookDir, 'files'),
        playbookDir,
      ];
  const dirOf = bases.map((b) => resolve(b, dirname(pattern))).find((d) => existsSync(d));
  if (!dirOf) return [];
  const re = globRegExp(basename(pattern));
  return readdirSync(dirOf)
    .filter((n) => re.test(n) && statSync(join(dirOf, n)).isFile())
    .sort()
    .map((n) => join(dirOf, n));
}

function globRegExp(glob: string): RegExp {
  let re = '';
  for (const c of glob) {
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[' || c === ']') re += c;
    else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function firstFound(spec: unknown, t: Task, playbookDir: string): string[] {
  const names = firstFoundNames(spec);
  const hit = findFirst(playbookDir, t, names);
  if (hit) return [hit];
  const skip = [spec].flat().some((e) => e && typeof e === 'object' && (e as { skip?: unknown }).skip === true);
  if (skip) return [];
  throw new TaskError(`with_first_found: none of ${names.join(', ')} found`);
}

/** One item: when, then the task; every error becomes an outcome. */
async function runItem(
  t: Task,
  hr: HostRun,
  env: ExecEnv,
  loop: Record<string, unknown>,
  slot: string,
): Promise<ItemOutcome> {
  const start = Date.now();
  try {
    const vars = env.vars.forTask(t, hr.name, loop);
    const skip = whenFalseReason(t, vars);
    if (skip) {
      const reason = `conditional result was false (${skip})`;
      return {
        status: 'skipped',
        result: { skipped: true, changed: false, skip_reason: skip },
        changes: [],
        ms: 0,
        reason,
      };
    }
    if (t.includeVars) return { ...includeVars(t, hr, env, vars), ms: Date.now() - start };
    const o = await withRetries(t, hr, env, vars, slot);
    return { ...o, ms: Date.now() - start, msg: messageOf(o.result) };
  } catch (e) {
    const ms = Date.now() - start;
    if (e instanceof UnknownState)
      return { status: 'unknown', result: { reason: e.message }, changes: [], ms, reason: e.message };
    if (e instanceof SkipTask) {
      return {
        status: 'skipped',
        result: { skipped: true, skip_reason: e.message },
        changes: [],
        ms,
        reason: e.message,
      };
    }
    return failure(t, e as Error, ms);
  }
}

/** include_vars on the controller: the files' variables, their templates rendered against the host's
 *  variables (and each other) once, then kept as data for the rest of the play. */
function includeVars(t: Task, hr: HostRun, env: ExecEnv, vars: Record<string, unknown>): Step {
  const spec = renderDeep(t.includeVars, vars) as Record<string, unknown>;
  let loaded: Record<string, unknown>;
  try {
    loaded = readIncludeVars(env.playbookDir, t, spec);
  } catch (e) {
    throw new TaskError(`include_vars: ${(e as Error).message}`);
  }
  const scope = overlay(vars);
  for (const [k, raw] of Object.entries(loaded)) {
    let busy = false;
    const get = () => {
      if (busy) throw new TaskError(`include_vars: variables refer to each other in a loop: ${k}`);
      busy = true;
      try {
        const value = renderDeep(raw, scope);
        Object.defineProperty(scope, k, { value, enumerable: true, configurable: true });
        return value;
      } finally {
        busy = false;
      }
    };
    Object.defineProperty(scope, k, { get, enumerable: true, configurable: true });
  }
  const values: Record<string, unknown> = {};
  for (const k of Object.keys(loaded)) setOwn(values, k, scope[k]);
  collectSecrets(values);
  assignOwn(hr.facts, values);
  env.lookahead?.changedVars();
  return { status: 'ok', result: { changed: false, ansible_facts: values }, changes: [] };
}

function failure(t: Task, e: Error, ms: number): ItemOutcome {
  const unreachable = e instanceof ConnectError;
  const ignored = !unreachable && isTrue(t.ignoreErrors);
  const msg = redact(e.message);
  const extra = (e as { result?: object }).result ?? {};
  const result = { failed: true, changed: false, msg, ...extra };
  return { status: unreachable ? 'unreachable' : 'failed', result, changes: [], ms, msg, ignored };
}

/** A task's message for people: a string as it is, anything else as JSON (debug: var). */
function messageOf(result: Record<string, unknown>): string | undefined {
  const m = result.msg;
  if (m === undefined || m === '') return undefined;
  return typeof m === 'string' ? m : JSON.stringify(m);
}

/** The first `when` condition that is false, or undefined when all hold. */
export function whenFalseReason(t: Task, vars: Record<string, unknown>): string | undefined {
  for (const c of t.when) {
    let ok: boolean;
    try {
      ok = evalExpr(c, vars);
    } catch (e) {
      throw new TaskError(`cannot evaluate when "${c}": ${(e as Error).message}`);
    }
    if (!ok) return `when: ${c}`;
  }
  return undefined;
}

type Step = Pick<ItemOutcome, 'status' | 'result' | 'changes'>;

interface Prepared {
  type: TaskType<Args, unknown, unknown>;
  ctx: TaskCtx;
  args: Args;
  /** The host whose state the task reads and changes (delegate_to's, or its own). */
  target: string;
  /** What the check depends on besides the host and the variables: a read run ahead is used only when equal. */
  key: string;
}

/** until/retries/delay around check → plan → apply. */
async function withRetries(
  t: Task,
  hr: HostRun,
  env: ExecEnv,
  vars: Record<string, unknown>,
  slot: string,
): Promise<Step> {
  const p = await prepare(t, hr, env, vars);
  const retries = t.until !== undefined ? Number(t.retries ?? 3) : 0;
  const delayMs = Number(t.delay ?? 5) * 1000;
  for (let attempt = 0; ; attempt++) {
    let outcome: Step;
    try {
      outcome = await once(t, p, hr, env, attempt === 0 ? slot : undefined);
    } catch (e) {
      const retryable = !(e instanceof UnknownState) && !(e instanceof ConnectError);
      if (attempt < retries && retryable) {
        await sleep(delayMs);
        readAgain(p, env);
        continue;
      }
      throw e;
    }
    if (t.until === undefined || p.ctx.checkMode) return outcome;
    if (evalExpr(t.until, resultVars(t, vars, outcome.result))) {
      return { ...outcome, result: { ...outcome.result, attempts: attempt + 1 } };
    }
    if (attempt >= retries) throw new TaskError(`condition "${t.until}" still false after ${attempt + 1} attempts`);
    await sleep(delayMs);
    readAgain(p, env);
  }
}

/** A retry waits for the world to change: what the tasks share, and the reads run ahead, are read again. */
function readAgain(p: Prepared, env: ExecEnv): void {
  p.ctx.shared.changed();
  env.lookahead?.changedHost(p.target);
}

/** Renders and validates the arguments, and builds what the task sees. */
async function prepare(t: Task, hr: HostRun, env: ExecEnv, vars: Record<string, unknown>): Promise<Prepared> {
  return prepareOn(t, hr, env, vars, await targetHost(t, hr, env, vars));
}

/** prepare, on a target host already known. */
function prepareOn(
  t: Task,
  hr: HostRun,
  env: ExecEnv,
  vars: Record<string, unknown>,
  target: { host: Host; name: string },
): Prepared {
  const type = taskTypes.get(t.type!)!;
  let args: Args;
  try {
    args = renderDeep(t.args, vars) as Args;
  } catch (e) {
    throw new TaskError(`cannot render the arguments: ${(e as Error).message}`);
  }
  for (const [k, v] of Object.entries(args)) if (v === OMIT) delete args[k];
  const find: TaskCtx['findFile'] = (kind, name) => findFile(env.playbookDir, t.file, t.role, kind, name);
  if (templated(t.args ?? {})) {
    // The same schema as before connecting, now that templated values are known.
    const problems = argumentErrors(type.name, args);
    if (problems.length) throw new TaskError(`${type.name}: after rendering, ${problems.join('; ')}`);
    // The task type's own rules too (they were skipped before connecting for templated values).
    const problem = type.validate?.(args, find);
    if (problem) throw new TaskError(`${type.name}: after rendering, ${problem}`);
  }
  const { host, name } = target;
  const check = t.checkMode === undefined ? env.check : isTrue(t.checkMode);
  const environment = environmentOf(t, env.play, vars);
  const ctx: TaskCtx = {
    host: withEnvironment(withBecomeErrors(host), environment),
    // A task delegated to another host reads and records that host's pending changes.
    pending: check ? (name === hr.name ? hr.pending : env.pendingOf(name)) : new Pending(),
    pendingOf: (h) => (check ? env.pendingOf(h) : new Pending()),
    become: become(t, env.play, vars),
    checkMode: check,
    vars,
    taskId: t.id,
    taskName: t.name,
    findFile: find,
    barrier: () => hr.barrier?.arrive() ?? Promise.resolve(),
    shared: env.shared,
  };
  const key = JSON.stringify([args, ctx.become, environment, check]);
  return { type, ctx, args, target: name, key };
}

/** Whether a task's arguments hold a template. Those that hold none were checked whole when the playbook was
 *  loaded (schema and the type's own rules), and render the same on every host: they are not checked again. */
function templated(args: Args): boolean {
  let t = templatedArgs.get(args);
  if (t === undefined) templatedArgs.set(args, (t = holdsTemplate(args)));
  return t;
}
const templatedArgs = new WeakMap<Args, boolean>();

/** Starts the task's check on the host ahead of its turn (lookahead.ts), for each item of its loop, when its
 *  type reads only that host and the task has no delegate_to, until, include_vars or loop pause; a `when` that
 *  is false now, or arguments that do not render, start nothing (the task, in its turn, says why). */
export function readAhead(t: Task, hr: HostRun, env: ExecEnv): void {
  const ahead = env.lookahead;
  const type = taskTypes.get(t.type ?? '');
  const first = t.loop === undefined ? t.id : itemSlot(t, 0);
  if (!ahead || !type?.readAhead || ahead.has(hr.name, first)) return;
  if (t.delegateTo || t.until !== undefined || t.includeVars || t.loopControl.pause) return;
  let items: unknown[] | undefined;
  try {
    if (t.loop !== undefined) items = loopItems(t, env.vars.forTask(t, hr.name), env.playbookDir);
  } catch {
    return;
  }
  const slots = items ? items.map((value, i) => ({ slot: itemSlot(t, i), loop: loopVars(t, i, value) })) : [];
  if (!items) slots.push({ slot: t.id, loop: {} });
  for (const { slot, loop } of slots) {
    let p: Prepared;
    try {
      const vars = env.vars.forTask(t, hr.name, loop);
      if (whenFalseReason(t, vars)) continue;
      p = prepareOn(t, hr, env, vars, { host: hr.host, name: hr.name });
    } catch {
      continue;
    }
    const allowed = typeof type.readAhead === 'function' ? type.readAhead(p.args) : type.readAhead;
    if (!allowed) return;
    const ctx: TaskCtx = { ...p.ctx, host: batched(p.ctx.host) };
    ahead.start(hr.name, slot, p.key, () => p.type.check(ctx, p.args));
  }
}

/** A Host whose commands may share a round trip with the other reads queued with them. */
function batched(host: Host): Host {
  return hostWith(host, {
    run: (script, opts) => host.run(script, { ...opts, batch: true }),
    stat: (path, bytes, opts) => host.stat?.(path, bytes, { ...opts, batch: true }) ?? Promise.resolve(undefined),
    get: (path, opts) => host.get(path, { ...opts, batch: true }),
  });
}

/** The host a task runs on: its own, or delegate_to's (localhost and local_action: the controller). */
async function targetHost(
  t: Task,
  hr: HostRun,
  env: ExecEnv,
  vars: Record<string, unknown>,
): Promise<{ host: Host; name: string }> {
  if (!t.delegateTo) return { host: hr.host, name: hr.name };
  const target = String(renderString(t.delegateTo, vars));
  if (target === hr.name) return { host: hr.host, name: hr.name };
  if (target === 'localhost' || target === '127.0.0.1') return { host: new LocalHost(), name: 'localhost' };
  return { host: await env.connection(target), name: target };
}

/** environment: the play's, the blocks' and the task's, each a mapping or a template that yields one. */
function environmentOf(t: Task, play: Play, vars: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const layer of [play.environment, ...t.environment]) {
    if (layer === undefined || layer === null) continue;
    const value = renderDeep(layer, vars);
    if (!value || typeof value !== 'object' || Array.isArray(value))
      throw new TaskError('environment must be a mapping of variable names to values');
    for (const [k, v] of Object.entries(value)) {
      if (v === OMIT) continue;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new TaskError(`environment: "${k}" is not a variable name`);
      setOwn(out, k, v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
    }
  }
  return out;
}

/** A Host whose commands run with the task's environment exported first (inside sudo, when it becomes). */
function withEnvironment(host: Host, environment: Record<string, string>): Host {
  const names = Object.keys(environment);
  if (!names.length) return host;
  const exports = names.map((k) => `export ${k}=${q(environment[k])}\n`).join('');
  // The environment changes what programs do, not what a path is: stat passes through.
  return hostWith(host, { run: (script, opts) => host.run(exports + script, opts) });
}

function become(t: Task, play: Play, vars: Record<string, unknown>): Become | undefined {
  const on = t.become ?? play.become ?? vars.ansible_become;
  if (!isTrue(on as boolean | string | undefined)) return undefined;
  const method = t.becomeMethod ?? play.becomeMethod ?? vars.ansible_become_method;
  if (method !== undefined && String(renderString(String(method), vars)) !== 'sudo')
    throw new TaskError(`become_method: ${String(method)} is not supported: rmqplay becomes through sudo only`);
  const pw = vars.ansible_become_password ?? vars.ansible_become_pass;
  const user = String(t.becomeUser ?? play.becomeUser ?? vars.ansible_become_user ?? 'root');
  return { user, password: pw === undefined ? undefined : String(pw) };
}

/** check → plan → (record | apply → re-check), then verify, changed_when and failed_when. The first attempt
 *  uses the state read ahead for it, when there is one still valid (lookahead.ts). */
async function once(t: Task, p: Prepared, hr: HostRun, env: ExecEnv, slot?: string): Promise<Step> {
  const { type, ctx, args } = p;
  const ahead = slot && p.target === hr.name ? env.lookahead?.take(hr.name, slot, p.key) : undefined;
  // A read ahead that failed says nothing: the check runs again, and its own error is the task's.
  const state = ahead ? await ahead.catch(() => type.check(ctx, args)) : await type.check(ctx, args);
  const changes = type.plan(args, state);
  let result: Record<string, unknown> = { changed: changes.length > 0, ...(type.result?.(args, state) ?? {}) };
  // As in Ansible, facts a result carries (setup's) become the host's facts, in check mode too: a read.
  const carried = result.ansible_facts;
  if (carried && typeof carried === 'object' && !Array.isArray(carried))
    assignOwn(hr.gathered ?? hr.facts, factVars(carried as Record<string, unknown>));
  if (type.facts) {
    const facts = type.facts(args);
    collectSecrets(facts);
    assignOwn(hr.facts, facts);
  }
  if (carried || type.facts) env.lookahead?.changedVars();
  if (ctx.checkMode) {
    if (changes.length) {
      env.lookahead?.changedHost(p.target);
      env.lookahead?.changedHost(hr.name);
    }
    return predict(t, hr, changes, result);
  }
  let failedWhenOverride = false;
  if (changes.length) {
    // What the run's tasks read before (a RabbitMQ node's state) is read again after any change: told before
    // (a read during the apply may see half of it) and after.
    ctx.shared.changed();
    env.lookahead?.beginChange(p.target);
    try {
      const r = await type.apply(ctx, changes, args);
      if (r) result = { ...result, ...r };
    } catch (e) {
      const partial = (e as { result?: Record<string, unknown> }).result;
      if (!t.failedWhen || !partial) throw e;
      result = { ...result, ...partial };
      failedWhenOverride = true;
    } finally {
      ctx.shared.changed();
      env.lookahead?.endChange(p.target);
    }
    await recheck(p, changes);
  }
  if (type.verify) result = { ...result, ...(await type.verify(ctx, args, state)) };
  // Built only for a task that has the conditions to read it (a copy of every variable).
  const evalVars = t.changedWhen || t.failedWhen ? resultVars(t, ctx.vars, result) : {};
  const changed = t.changedWhen ? t.changedWhen.every((c) => evalExpr(c, evalVars)) : changes.length > 0;
  if (t.failedWhen && t.failedWhen.some((c) => evalExpr(c, evalVars))) {
    const stderr = result.stderr ? String(result.stderr).trim().split('\n').slice(-2).join(' | ') : '';
    const why = `failed_when matched: ${t.failedWhen.join(' or ')}${stderr ? ` (stderr: ${stderr})` : ''}`;
    throw Object.assign(new TaskError(why), { result });
  }
  if (!t.failedWhen && failedWhenOverride) throw new TaskError('the task failed');
  return { status: changed ? 'changed' : 'ok', result: { ...result, changed }, changes: changed ? changes : [] };
}

/** Variables for changed_when, failed_when and until: the result by its register name and its fields. */
function resultVars(t: Task, vars: Record<string, unknown>, result: Record<string, unknown>): Record<string, unknown> {
  const out = overlay(vars);
  if (t.register) setOwn(out, t.register, result);
  return assignOwn(out, result);
}

/** Check mode: the changes are recorded as pending for later tasks, never applied. */
function predict(t: Task, hr: HostRun, changes: Change<unknown>[], result: Record<string, unknown>): Step {
  // changed_when: false declares a read-only command: nothing pending, nothing to report.
  const literal = t.changedWhen?.every((c) => typeof c === 'boolean' || /^(true|false)$/i.test(String(c)));
  if (t.changedWhen && changes.length) {
    if (!literal)
      throw new UnknownState('changed_when depends on the output of a command that check mode does not run');
    if (!evalExpr(t.changedWhen[0], {})) return { status: 'ok', result: { ...result, changed: false }, changes: [] };
  }
  if (changes.length) hr.pending.record(t.name, changes);
  return { status: changes.length ? 'changed' : 'ok', result, changes };
}

/** After apply, the task must want nothing more (changes asked for every time excepted). */
async function recheck(p: Prepared, applied: Change<unknown>[]): Promise<void> {
  if (applied.every((c) => c.always)) return;
  const again = p.type.plan(p.args, await p.type.check(p.ctx, p.args)).filter((c) => !c.always);
  if (!again.length) return;
  const wants = again.map((c) => c.action).join('; ');
  throw new TaskError(`not idempotent: after applying, the task still wants to: ${wants}`);
}
