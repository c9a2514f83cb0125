// Runs plays: hosts and batches, tasks on every host in parallel (bounded by forks),
// check → plan → apply → re-check, handlers, blocks, check mode with a pending overlay.
import { ConnectError, formatWhere, SkipTask, TaskError, UnknownState } from '../util/errors.js';
import { evalExpr } from '../language/expr.js';
import { Become, Host, RunResult } from '../connection/host.js';
import { Change, Pending } from '../modules/pending.js';
import { Inventory } from './inventory.js';
import { LocalHost } from '../connection/local.js';
import { matchHosts } from './patterns.js';
import { findFile, LoadedPlaybook, Play, Task } from './playbook.js';
import { Reporter, Status } from './report.js';
import { collectSecrets, redact } from '../util/secrets.js';
import { SshHost, sshTarget } from '../connection/ssh.js';
import { TaskCtx } from '../modules/task.js';
import { taskTypes } from '../modules/index.js';
import { renderDeep, renderString } from '../language/template.js';

export interface RunOptions {
  check: boolean;
  diff: boolean;
  limit?: string;
  tags: string[];
  skipTags: string[];
  extraVars: Record<string, unknown>;
  forks: number;
  forceHandlers: boolean;
  /** Makes a Host for an inventory host; SSH by default, replaceable in tests. */
  connect?: (name: string, vars: Record<string, unknown>) => Promise<Host>;
}

interface HostState {
  name: string;
  host?: Host;
  failed: boolean;
  unreachable: boolean;
  ended: boolean;
  facts: Record<string, unknown>;
  pending: Pending;
  notified: Set<string>;
  error?: string;
}

type Outcome = { status: Status; result: Record<string, unknown>; changes: Change[] };

class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

export async function defaultConnect(name: string, vars: Record<string, unknown>): Promise<Host> {
  if (vars.ansible_connection === 'local') return new LocalHost(name);
  const h = new SshHost(sshTarget(name, vars));
  await h.connect();
  return h;
}

export class Runner {
  states = new Map<string, HostState>();
  private sem: Semaphore;
  private connections = new Map<string, Promise<Host>>();
  private play!: Play;
  private playHosts: string[] = [];

  // The inventory is complete before a run starts: its merged variables and groups are computed
  // once here, not for every task on every host (they were O(groups x hosts) each time).
  private invVars = new Map<string, Record<string, unknown>>();
  private groups: Record<string, string[]> = {};
  private groupNames = new Map<string, string[]>();

  constructor(
    private pb: LoadedPlaybook,
    private inv: Inventory,
    private opts: RunOptions,
    private report: Reporter,
  ) {
    this.sem = new Semaphore(Math.max(1, opts.forks));
    collectSecrets(opts.extraVars);
    for (const g of inv.groups.keys()) this.groups[g] = inv.groupHosts(g);
    for (const h of inv.hosts.keys()) {
      this.invVars.set(h, inv.hostVars(h));
      this.groupNames.set(h, inv.groupNames(h));
      collectSecrets(this.invVars.get(h));
    }
  }

  /** Runs every play; returns the exit code (0 ok, 2 a task failed, 3 a host unreachable). */
  async run(): Promise<number> {
    try {
      for (const play of this.pb.plays) await this.runPlay(play);
    } finally {
      const hosts = await Promise.all([...this.connections.values()].map((c) => c.catch(() => undefined)));
      if (process.env.RMQPLAY_STATS) {
        const st = hosts.map((h) => (h as SshHost | undefined)?.stats).filter(Boolean) as SshHost['stats'][];
        const sum = (k: keyof SshHost['stats']) => st.reduce((a, s) => a + s[k], 0);
        process.stderr.write(
          `rmqplay: hosts=${hosts.length} connections=${sum('connects')} channels=${sum('channels')} commands=${sum('commands')}\n`,
        );
      }
      await Promise.all(hosts.map((h) => h?.close()));
    }
    this.report.finish();
    const states = [...this.states.values()];
    if (states.some((s) => s.failed)) return 2;
    if (states.some((s) => s.unreachable)) return 3;
    return 0;
  }

  private state(name: string): HostState {
    let s = this.states.get(name);
    if (!s) {
      s = {
        name,
        failed: false,
        unreachable: false,
        ended: false,
        facts: {},
        pending: new Pending(),
        notified: new Set(),
      };
      this.states.set(name, s);
    }
    return s;
  }

  private active(hosts: string[]): string[] {
    return hosts.filter((h) => {
      const s = this.state(h);
      return !s.failed && !s.unreachable && !s.ended;
    });
  }

  private async runPlay(play: Play): Promise<void> {
    this.play = play;
    collectSecrets(play.vars);
    collectSecrets(play.varsFiles);
    let hosts = matchHosts(this.inv, play.hosts);
    if (this.opts.limit) {
      const lim = new Set(matchHosts(this.inv, this.opts.limit));
      hosts = hosts.filter((h) => lim.has(h));
    }
    hosts = hosts.filter((h) => !this.state(h).failed && !this.state(h).unreachable);
    this.report.play(play.name, hosts);
    if (!hosts.length) {
      this.report.message('skipping: no hosts matched');
      return;
    }
    this.playHosts = hosts;
    for (const h of hosts) this.state(h).ended = false;
    for (const batch of batches(hosts, play.serial)) {
      await this.connectAll(batch);
      for (const section of play.sections) {
        await this.runList(section, batch);
        await this.flushHandlers(batch);
      }
      // any_errors_fatal or max_fail_percentage ended the play: no further batches.
      if (hosts.every((h) => this.state(h).ended)) break;
    }
  }

  private async connectAll(hosts: string[]): Promise<void> {
    await Promise.all(
      hosts.map((h) =>
        this.sem.run(async () => {
          const s = this.state(h);
          try {
            s.host = await this.connection(h);
          } catch (e) {
            s.unreachable = true;
            s.error = (e as Error).message;
            this.report.task({
              play: this.play.name,
              task: 'connect',
              task_id: formatWhere(this.play.where),
              host: h,
              handler: false,
              status: 'unreachable',
              changes: [],
              ms: 0,
              msg: redact((e as Error).message),
            });
          }
        }),
      ),
    );
  }

  private connection(name: string): Promise<Host> {
    let c = this.connections.get(name);
    if (!c) {
      // Only the connection variables are rendered here: others may need the play's variables.
      const vars = {
        ...this.invVars.get(name),
        inventory_hostname: name,
        inventory_hostname_short: name.split('.')[0],
      };
      const conn: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(vars)) if (k.startsWith('ansible_')) conn[k] = renderDeep(v, vars);
      c = (this.opts.connect ?? defaultConnect)(name, conn);
      this.connections.set(name, c);
      c.catch(() => this.connections.delete(name));
    }
    return c;
  }

  private selected(t: Task): boolean {
    const tags = new Set([...t.tags, ...this.play.tags]);
    if (tags.has('never') && !this.opts.tags.some((x) => tags.has(x))) return false;
    if (this.opts.skipTags.some((x) => tags.has(x))) return false;
    if (this.opts.tags.length && !tags.has('always') && !this.opts.tags.some((x) => tags.has(x) || x === 'all'))
      return !!t.block;
    return true;
  }

  private async runList(tasks: Task[], hosts: string[]): Promise<void> {
    if (this.play.strategy === 'free' && hosts.length > 1) {
      await Promise.all(hosts.map((h) => this.runListLinear(tasks, [h])));
    } else await this.runListLinear(tasks, hosts);
  }

  private async runListLinear(tasks: Task[], hosts: string[]): Promise<void> {
    for (const t of tasks) {
      const act = this.active(hosts);
      if (!act.length) return;
      if (!this.selected(t)) continue;
      if (t.block) {
        await this.runBlock(t, act);
        continue;
      }
      if (t.meta) {
        await this.runMeta(t, act);
        continue;
      }
      await this.runTask(t, act);
      if (this.play.anyErrorsFatal && act.some((h) => this.state(h).failed))
        for (const h of this.playHosts) this.state(h).ended = true;
      if (this.play.maxFailPercentage !== undefined) {
        const failed = this.playHosts.filter((h) => this.state(h).failed || this.state(h).unreachable).length;
        if ((failed / this.playHosts.length) * 100 > this.play.maxFailPercentage)
          for (const h of this.playHosts) this.state(h).ended = true;
      }
    }
  }

  private async runBlock(t: Task, hosts: string[]): Promise<void> {
    const entering = hosts.filter((h) => this.when(t, h, {}) === true);
    if (!entering.length) return;
    const failedBefore = new Set(entering.filter((h) => this.state(h).failed));
    await this.runList(withInherited(t.block!, t), entering);
    const failedIn = entering.filter((h) => this.state(h).failed && !failedBefore.has(h));
    if (failedIn.length && t.rescue?.length) {
      for (const h of failedIn) this.state(h).failed = false;
      await this.runList(withInherited(t.rescue, t), failedIn);
      // As in Ansible's recap, a rescued failure counts as rescued, not failed.
      for (const h of failedIn)
        if (!this.state(h).failed) {
          const r = this.report.host(h);
          r.rescued++;
          r.failed--;
        }
    }
    if (t.always?.length) {
      const failedNow = entering.filter((h) => this.state(h).failed);
      for (const h of failedNow) this.state(h).failed = false;
      await this.runList(
        withInherited(t.always, t),
        entering.filter((h) => !this.state(h).unreachable),
      );
      for (const h of failedNow) this.state(h).failed = true;
    }
  }

  private async runMeta(t: Task, hosts: string[]): Promise<void> {
    if (t.meta === 'flush_handlers') await this.flushHandlers(hosts);
    else if (t.meta === 'end_play') for (const h of this.playHosts) this.state(h).ended = true;
    else if (t.meta === 'end_host') for (const h of hosts) this.state(h).ended = true;
    else if (t.meta === 'clear_host_errors') for (const h of this.playHosts) this.state(h).failed = false;
  }

  private async flushHandlers(hosts: string[]): Promise<void> {
    for (const hd of this.play.handlers) {
      const names = [hd.name, ...hd.listen];
      const targets = hosts.filter((h) => {
        const s = this.state(h);
        const notified = names.some((n) => s.notified.has(n));
        const canRun = !s.unreachable && (!s.failed || this.opts.forceHandlers || this.play.forceHandlers);
        return notified && canRun && !s.ended;
      });
      if (!targets.length) continue;
      for (const h of targets) {
        const s = this.state(h);
        for (const n of names) s.notified.delete(n);
      }
      const wasFailed = targets.filter((h) => this.state(h).failed);
      for (const h of wasFailed) this.state(h).failed = false;
      await this.runTask(hd, targets);
      for (const h of wasFailed) this.state(h).failed = true;
    }
  }

  /** Variables of one host at one task, in Ansible's precedence order. */
  vars(t: Task, host: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    const s = this.state(host);
    const role = t.role;
    const magic = this.magic(host);
    // As in Ansible, the play's roles' defaults and vars are visible to the whole play.
    const roleDefaults = Object.assign({}, ...this.play.roles.map((r) => r.defaults), role?.defaults ?? {});
    const roleVars = Object.assign({}, ...this.play.roles.map((r) => r.vars), role?.vars ?? {});
    return {
      ...roleDefaults,
      ...this.invVars.get(host),
      ...this.play.vars,
      ...this.play.varsFiles,
      ...roleVars,
      ...t.vars,
      ...s.facts,
      ...(role?.params ?? {}),
      ...this.opts.extraVars,
      ...magic,
      ...extra,
    };
  }

  private magic(host: string): Record<string, unknown> {
    const hostvars: Record<string, unknown> = {};
    for (const [h, v] of this.invVars)
      hostvars[h] = {
        ...v,
        ...(this.states.get(h)?.facts ?? {}),
        inventory_hostname: h,
        inventory_hostname_short: h.split('.')[0],
      };
    const active = this.active(this.playHosts);
    return {
      inventory_hostname: host,
      inventory_hostname_short: host.split('.')[0],
      groups: this.groups,
      group_names: this.groupNames.get(host) ?? [],
      hostvars,
      ansible_play_hosts: active,
      play_hosts: active,
      ansible_play_batch: active,
      ansible_play_hosts_all: this.playHosts,
      ansible_check_mode: this.opts.check,
      ansible_diff_mode: this.opts.diff,
      playbook_dir: this.pb.dir,
      omit: '__omit_place_holder__',
      ansible_forks: this.opts.forks,
    };
  }

  private when(t: Task, host: string, extra: Record<string, unknown>): true | string {
    if (!t.when.length) return true;
    const vars = this.vars(t, host, extra);
    for (const c of t.when) {
      let ok: boolean;
      try {
        ok = evalExpr(c, vars);
      } catch (e) {
        throw new TaskError(`cannot evaluate when "${c}": ${(e as Error).message}`);
      }
      if (!ok) return `when: ${c}`;
    }
    return true;
  }

  private async runTask(t: Task, hosts: string[]): Promise<void> {
    this.report.taskStart(t.name, hosts.length, !!t.handler);
    try {
      if (isTrue(t.runOnce)) {
        const first = hosts[0];
        const res = await this.sem.run(() => this.onHost(t, first));
        if (t.register) for (const h of hosts) this.state(h).facts[t.register] = res;
        if (res?.changed && !this.state(first).failed)
          for (const h of hosts) for (const n of t.notify) this.state(h).notified.add(n);
        return;
      }
      await Promise.all(hosts.map((h) => this.sem.run(() => this.onHost(t, h))));
    } finally {
      this.report.taskEnd();
    }
  }

  /** One task on one host, with its loop; reports each item; returns the registered result. */
  private async onHost(t: Task, host: string): Promise<Record<string, unknown> | undefined> {
    const s = this.state(host);
    const base = { play: this.play.name, task: t.name, task_id: t.id, host, handler: !!t.handler };
    let items: unknown[] | undefined;
    try {
      if (t.loop !== undefined) {
        const l = renderDeep(t.loop, this.vars(t, host));
        if (!Array.isArray(l)) throw new TaskError(`loop must be a list, got ${typeof l}`);
        items = l;
      }
    } catch (e) {
      this.fail(t, s, base, undefined, e as Error, 0);
      return { failed: true, msg: (e as Error).message };
    }
    const results: Record<string, unknown>[] = [];
    let anyChanged = false,
      anyFailed = false,
      allSkipped = true;
    for (const item of items ?? [undefined]) {
      const extra = items ? { [t.loopVar]: item, ansible_loop_var: t.loopVar } : {};
      const start = Date.now();
      const ev = { ...base, ...(items ? { item: t.noLog ? '(hidden: no_log)' : item } : {}) };
      let outcome: Outcome;
      try {
        const w = this.when(t, host, extra);
        if (w !== true) {
          this.report.task(
            { ...ev, status: 'skipped', changes: [], ms: 0, reason: `conditional result was false (${w})` },
            !items,
          );
          results.push({ skipped: true, changed: false, skip_reason: w, ...(items ? { item } : {}) });
          continue;
        }
        allSkipped = false;
        outcome = await this.execute(t, s, extra);
      } catch (e) {
        if (e instanceof UnknownState) outcome = { status: 'unknown', result: { reason: e.message }, changes: [] };
        else if (e instanceof SkipTask)
          outcome = { status: 'skipped', result: { skipped: true, skip_reason: e.message }, changes: [] };
        else {
          const r = this.fail(t, s, ev, items ? item : undefined, e as Error, Date.now() - start, !!items);
          anyFailed = anyFailed || !r.ignored;
          results.push({ ...r.result, ...(items ? { item } : {}) });
          if (r.unreachable) return undefined;
          if (!r.ignored && !items) return r.result;
          continue;
        }
      }
      const ms = Date.now() - start;
      if (outcome.status === 'changed') anyChanged = true;
      results.push({ ...outcome.result, ...(items ? { item } : {}) });
      const reason =
        outcome.status === 'unknown' || outcome.status === 'skipped'
          ? String(outcome.result.reason ?? outcome.result.skip_reason ?? '')
          : undefined;
      const msg =
        typeof outcome.result.msg === 'string' && outcome.result.msg
          ? outcome.result.msg
          : outcome.result.msg !== undefined && t.type === 'debug'
            ? JSON.stringify(outcome.result.msg)
            : undefined;
      this.report.task(
        {
          ...ev,
          status: outcome.status,
          changes: t.noLog ? outcome.changes.map(() => 'hidden (no_log)') : outcome.changes.map((c) => c.action),
          ms,
          reason,
          msg,
          diffs: t.noLog ? [] : outcome.changes.flatMap((c) => (c.diff ? [c.diff] : [])),
        },
        !items,
      );
      if (outcome.status === 'unknown' || outcome.status === 'changed') for (const n of t.notify) s.notified.add(n);
    }
    if (items) {
      const agg: Status = anyFailed ? 'failed' : allSkipped ? 'skipped' : anyChanged ? 'changed' : 'ok';
      this.report.count(host, agg);
      if (anyFailed && !isTrue(t.ignoreErrors)) s.failed = true;
    }
    const reg = items ? { results, changed: anyChanged, failed: anyFailed, skipped: allSkipped } : (results[0] ?? {});
    if (t.register) s.facts[t.register] = reg;
    return reg;
  }

  private fail(
    t: Task,
    s: HostState,
    ev: Record<string, unknown> & { task: string; play: string; task_id: string; host: string; handler: boolean },
    item: unknown,
    e: Error,
    ms: number,
    inLoop = false,
  ): { result: Record<string, unknown>; ignored: boolean; unreachable: boolean } {
    const unreachable = e instanceof ConnectError;
    const ignored = !unreachable && isTrue(t.ignoreErrors);
    const msg = redact(e.message);
    this.report.task(
      { ...(ev as any), status: unreachable ? 'unreachable' : 'failed', changes: [], ms, msg, ignored },
      !inLoop,
    );
    if (unreachable) s.unreachable = true;
    else if (!ignored && !inLoop) s.failed = true;
    const result = { failed: true, changed: false, msg, ...((e as { result?: object }).result ?? {}) };
    if (t.register && !inLoop) s.facts[t.register] = result;
    return { result, ignored, unreachable };
  }

  private become(t: Task, vars: Record<string, unknown>): Become | undefined {
    const on = t.become ?? this.play.become ?? vars.ansible_become;
    if (!isTrue(on as boolean | string | undefined)) return undefined;
    const pw = vars.ansible_become_password ?? vars.ansible_become_pass;
    return {
      user: String(t.becomeUser ?? this.play.becomeUser ?? vars.ansible_become_user ?? 'root'),
      password: pw === undefined ? undefined : String(pw),
    };
  }

  /** check → plan → (apply → re-check), with retries/until, changed_when and failed_when. */
  private async execute(t: Task, s: HostState, extra: Record<string, unknown>): Promise<Outcome> {
    const vars = this.vars(t, s.name, extra);
    const type = taskTypes.get(t.type!)!;
    let args: Record<string, any>;
    try {
      args = renderDeep(t.args, vars) as Record<string, any>;
    } catch (e) {
      throw new TaskError(`cannot render the arguments: ${(e as Error).message}`);
    }
    for (const [k, v] of Object.entries(args)) if (v === '__omit_place_holder__') delete args[k];
    let host = s.host!;
    if (t.delegateTo) {
      const target = String(renderString(t.delegateTo, vars));
      host = target === 'localhost' || target === '127.0.0.1' ? new LocalHost() : await this.connection(target);
    }
    const check = t.checkMode === undefined ? this.opts.check : isTrue(t.checkMode);
    const ctx: TaskCtx = {
      host: sudoChecked(host),
      pending: check ? s.pending : new Pending(),
      pendingOf: (h) => (check ? this.state(h).pending : new Pending()),
      become: this.become(t, vars),
      checkMode: check,
      vars,
      taskId: t.id,
      taskName: t.name,
      findFile: (kind, name) => findFile(this.pb.dir, t.file, t.role, kind, name),
    };
    const retries = t.until !== undefined ? Number(t.retries ?? 3) : 0;
    const delay = Number(t.delay ?? 5);
    for (let attempt = 0; ; attempt++) {
      let outcome: Outcome;
      try {
        outcome = await this.once(t, type, ctx, args, check, s);
      } catch (e) {
        if (attempt < retries && !(e instanceof UnknownState) && !(e instanceof ConnectError)) {
          await sleep(delay * 1000);
          continue;
        }
        throw e;
      }
      if (t.until === undefined || check) return outcome;
      const ok = evalExpr(t.until, {
        ...vars,
        ...(t.register ? { [t.register]: outcome.result } : {}),
        ...outcome.result,
      });
      if (ok) return { ...outcome, result: { ...outcome.result, attempts: attempt + 1 } };
      if (attempt >= retries) throw new TaskError(`condition "${t.until}" still false after ${attempt + 1} attempts`);
      await sleep(delay * 1000);
    }
  }

  private async once(
    t: Task,
    type: typeof taskTypes extends Map<string, infer T> ? T : never,
    ctx: TaskCtx,
    args: Record<string, any>,
    check: boolean,
    s: HostState,
  ): Promise<Outcome> {
    const state = await type.check(ctx, args);
    const changes = type.plan(args, state);
    let result: Record<string, unknown> = { changed: changes.length > 0, ...(type.result?.(args, state) ?? {}) };
    if (type.facts) Object.assign(s.facts, type.facts(args));
    if (check) {
      // changed_when: false declares a read-only command: nothing pending, nothing to report.
      const literal =
        t.changedWhen && t.changedWhen.every((c) => typeof c === 'boolean' || /^(true|false)$/i.test(String(c)));
      if (t.changedWhen && changes.length) {
        if (!literal)
          throw new UnknownState('changed_when depends on the output of a command that check mode does not run');
        if (!evalExpr(t.changedWhen[0], {}))
          return { status: 'ok', result: { ...result, changed: false }, changes: [] };
      }
      if (changes.length) s.pending.record(t.name, changes);
      return { status: changes.length ? 'changed' : 'ok', result, changes };
    }
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
      if (!changes.every((c) => c.always)) {
        const again = type.plan(args, await type.check(ctx, args)).filter((c) => !c.always);
        if (again.length)
          throw new TaskError(
            `not idempotent: after applying, the task still wants to: ${again.map((c) => c.action).join('; ')}`,
          );
      }
    }
    if (type.verify) result = { ...result, ...(await type.verify(ctx, args, state)) };
    const evalVars = { ...ctx.vars, ...(t.register ? { [t.register]: result } : {}), ...result };
    let changed = changes.length > 0;
    if (t.changedWhen) changed = t.changedWhen.every((c) => evalExpr(c, evalVars));
    if (t.failedWhen) {
      const failed = t.failedWhen.some((c) => evalExpr(c, evalVars));
      if (failed)
        throw Object.assign(
          new TaskError(
            `failed_when matched: ${t.failedWhen.join(' or ')}${result.stderr ? ` (stderr: ${String(result.stderr).trim().split('\n').slice(-2).join(' | ')})` : ''}`,
          ),
          { result },
        );
    } else if (failedWhenOverride) throw new TaskError('the task failed');
    return { status: changed ? 'changed' : 'ok', result: { ...result, changed }, changes: changed ? changes : [] };
  }
}

/** A Host whose become (sudo) failures are task errors that say what to do, wherever a task
 *  reads or writes through it. */
function sudoChecked(host: Host): Host {
  const check = (r: RunResult, become?: Become): RunResult => {
    if (!become) return r;
    if (r.code === 97 && /sudo needs a password/.test(r.stderr)) throw new TaskError(r.stderr.trim());
    if (/incorrect password attempt|Sorry, try again/.test(r.stderr))
      throw new TaskError(
        `sudo did not accept ansible_become_password for becoming ${become.user}: check the password`,
      );
    return r;
  };
  return {
    name: host.name,
    run: async (script, opts) => check(await host.run(script, opts), opts?.become),
    put: (path, bytes, opts) => host.put(path, bytes, opts),
    get: (path, opts) => host.get(path, opts),
    close: () => host.close(),
  };
}

function withInherited(tasks: Task[], parent: Task): Task[] {
  return tasks.map((c) => ({
    ...c,
    vars: { ...parent.vars, ...c.vars },
    tags: [...parent.tags, ...c.tags],
    become: c.become ?? parent.become,
    becomeUser: c.becomeUser ?? parent.becomeUser,
    ignoreErrors: c.ignoreErrors ?? parent.ignoreErrors,
    notify: c.notify,
  }));
}

export function batches(hosts: string[], serial?: (number | string)[]): string[][] {
  if (!serial || !serial.length) return [hosts];
  const out: string[][] = [];
  let i = 0,
    k = 0;
  while (i < hosts.length) {
    const spec = serial[Math.min(k++, serial.length - 1)];
    const n =
      typeof spec === 'string' && spec.endsWith('%')
        ? Math.max(1, Math.floor((hosts.length * parseFloat(spec)) / 100))
        : Math.max(1, Number(spec) || hosts.length);
    out.push(hosts.slice(i, i + n));
    i += n;
  }
  return out;
}

const isTrue = (v: boolean | string | undefined) => v === true || (typeof v === 'string' && /^(true|yes|1)$/i.test(v));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
