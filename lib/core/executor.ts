// One task on one host: render the arguments and validate them again, when, then for each loop item
// check → plan → (record in check mode | apply → re-check), changed_when/failed_when, until/retries.
// It returns typed outcomes; the scheduler decides what they mean for the play and reports them.
import { Become, Host } from '../connection/host.js';
import { LocalHost } from '../connection/local.js';
import { withBecomeErrors } from '../connection/become.js';
import { evalExpr } from '../language/expr.js';
import { renderDeep, renderString } from '../language/template.js';
import { taskTypes } from '../modules/index.js';
import { Change, Pending } from '../modules/pending.js';
import { Args, TaskCtx, TaskType } from '../modules/task.js';
import { ConnectError, SkipTask, TaskError, UnknownState } from '../util/errors.js';
import { assignOwn, overlay, setOwn } from '../util/objects.js';
import { collectAllStrings, collectSecrets, redact } from '../util/secrets.js';
import { findFile, Play, Task } from './playbook.js';
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
  /** Present in loops. */
  item?: { value: unknown };
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
    items = loopItems(t, env.vars.forTask(t, hr.name));
  } catch (e) {
    const o = failure(t, e as Error, 0);
    onItem(o);
    return finish(t, hr, o.status, o.ignored ?? false, o.result, false);
  }
  if (!items) {
    const o = await runItem(t, hr, env, {});
    onItem(o);
    return finish(t, hr, o.status, o.ignored ?? false, o.result, o.status === 'changed' || o.status === 'unknown');
  }
  const results: Record<string, unknown>[] = [];
  let anyChanged = false;
  let anyFailed = false;
  let allSkipped = true;
  let notify = false;
  for (const value of items) {
    const o = await runItem(t, hr, env, { [t.loopVar]: value, ansible_loop_var: t.loopVar });
    o.item = { value };
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
  return finish(t, hr, status, false, registered, notify);
}

function finish(
  t: Task,
  hr: HostRun,
  status: Status,
  ignored: boolean,
  registered: Record<string, unknown>,
  notify: boolean,
): TaskOutcome {
  // A no_log task's result is secret wherever it goes next (a debug of the registered variable).
  if (t.noLog) collectAllStrings(registered);
  if (t.register) setOwn(hr.facts, t.register, registered);
  return { status, ignored, registered, notify };
}

function loopItems(t: Task, vars: Record<string, unknown>): unknown[] | undefined {
  if (t.loop === undefined) return undefined;
  const l = renderDeep(t.loop, vars);
  if (!Array.isArray(l)) throw new TaskError(`loop must be a list, got ${typeof l}`);
  return l;
}

/** One item: when, then the task; every error becomes an outcome. */
async function runItem(t: Task, hr: HostRun, env: ExecEnv, loop: Record<string, unknown>): Promise<ItemOutcome> {
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
    const o = await withRetries(t, hr, env, vars);
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
}

/** until/retries/delay around check → plan → apply. */
async function withRetries(t: Task, hr: HostRun, env: ExecEnv, vars: Record<string, unknown>): Promise<Step> {
  const p = await prepare(t, hr, env, vars);
  const retries = t.until !== undefined ? Number(t.retries ?? 3) : 0;
  const delayMs = Number(t.delay ?? 5) * 1000;
  for (let attempt = 0; ; attempt++) {
    let outcome: Step;
    try {
      outcome = await once(t, p, hr);
    } catch (e) {
      const retryable = !(e instanceof UnknownState) && !(e instanceof ConnectError);
      if (attempt < retries && retryable) {
        await sleep(delayMs);
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
  }
}

/** Renders and validates the arguments, and builds what the task sees. */
async function prepare(t: Task, hr: HostRun, env: ExecEnv, vars: Record<string, unknown>): Promise<Prepared> {
  const type = taskTypes.get(t.type!)!;
  let args: Args;
  try {
    args = renderDeep(t.args, vars) as Args;
  } catch (e) {
    throw new TaskError(`cannot render the arguments: ${(e as Error).message}`);
  }
  for (const [k, v] of Object.entries(args)) if (v === OMIT) delete args[k];
  // The same schema as before connecting, now that templated values are known.
  const problems = argumentErrors(type.name, args);
  if (problems.length) throw new TaskError(`${type.name}: after rendering, ${problems.join('; ')}`);
  const find: TaskCtx['findFile'] = (kind, name) => findFile(env.playbookDir, t.file, t.role, kind, name);
  // The task type's own rules too (they were skipped before connecting for templated values).
  const problem = type.validate?.(args, find);
  if (problem) throw new TaskError(`${type.name}: after rendering, ${problem}`);
  const host = await targetHost(t, hr, env, vars);
  const check = t.checkMode === undefined ? env.check : isTrue(t.checkMode);
  const ctx: TaskCtx = {
    host: withBecomeErrors(host),
    pending: check ? hr.pending : new Pending(),
    pendingOf: (h) => (check ? env.pendingOf(h) : new Pending()),
    become: become(t, env.play, vars),
    checkMode: check,
    vars,
    taskId: t.id,
    taskName: t.name,
    findFile: find,
  };
  return { type, ctx, args };
}

async function targetHost(t: Task, hr: HostRun, env: ExecEnv, vars: Record<string, unknown>): Promise<Host> {
  if (!t.delegateTo) return hr.host;
  const target = String(renderString(t.delegateTo, vars));
  if (target === 'localhost' || target === '127.0.0.1') return new LocalHost();
  return env.connection(target);
}

function become(t: Task, play: Play, vars: Record<string, unknown>): Become | undefined {
  const on = t.become ?? play.become ?? vars.ansible_become;
  if (!isTrue(on as boolean | string | undefined)) return undefined;
  const pw = vars.ansible_become_password ?? vars.ansible_become_pass;
  const user = String(t.becomeUser ?? play.becomeUser ?? vars.ansible_become_user ?? 'root');
  return { user, password: pw === undefined ? undefined : String(pw) };
}

/** check → plan → (record | apply → re-check), then verify, changed_when and failed_when. */
async function once(t: Task, p: Prepared, hr: HostRun): Promise<Step> {
  const { type, ctx, args } = p;
  const state = await type.check(ctx, args);
  const changes = type.plan(args, state);
  let result: Record<string, unknown> = { changed: changes.length > 0, ...(type.result?.(args, state) ?? {}) };
  if (type.facts) {
    const facts = type.facts(args);
    collectSecrets(facts);
    assignOwn(hr.facts, facts);
  }
  if (ctx.checkMode) return predict(t, hr, changes, result);
  let failedWhenOverride = false;
  if (changes.length) {
    try {
      const r = await type.apply(ctx, changes, args);
      if (r) result = { ...result, ...r };
    } catch (e) {
      const partial = (e as { result?: Record<string, unknown> }).result;
      if (!t.failedWhen || !partial) throw e;
      result = { ...result, ...partial };
      failedWhenOverride = true;
    }
    await recheck(p, changes);
  }
  if (type.verify) result = { ...result, ...(await type.verify(ctx, args, state)) };
  const evalVars = resultVars(t, ctx.vars, result);
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
