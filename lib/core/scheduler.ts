// Runs plays: hosts and batches (serial), strategies, tags, blocks, handlers, run_once. Each task
// goes to the executor on every host in parallel (bounded by forks); the outcomes decide the hosts'
// states and are told to the reporter as typed events.
import { Host } from '../connection/host.js';
import { Pending } from '../modules/pending.js';
import { RunShared } from '../modules/task.js';
import { formatWhere, RunEnd } from '../util/errors.js';
import { collectSecrets, redact } from '../util/secrets.js';
import { Barrier, Semaphore } from '../util/semaphore.js';
import { setOwn } from '../util/objects.js';
import { Connect, Connections } from './connections.js';
import { loadHandlerState, PendingOnHost, saveHandlerState, shownPath } from './handlerstate.js';
import { renderString } from '../language/template.js';
import {
  ExecEnv,
  HostRun,
  isTrue,
  ItemOutcome,
  loopItems,
  readAhead,
  runOnHost,
  TaskOutcome,
  whenFalseReason,
} from './executor.js';
import { Inventory } from './inventory.js';
import { Lookahead } from './lookahead.js';
import { matchHosts } from './patterns.js';
import { allTasks, inheritFrom, loadIncludedTasks, LoadedPlaybook, mentionsFactDeep, Play, Task } from './playbook.js';
import { RunEvents, TaskEvent } from './report.js';
import { InventoryVars, PlayVars } from './variables.js';

export interface RunOptions {
  check: boolean;
  diff: boolean;
  limit?: string;
  tags: string[];
  skipTags: string[];
  extraVars: Record<string, unknown>;
  /** -e with JSON: data, never rendered. */
  extraData?: Record<string, unknown>;
  forks: number;
  forceHandlers: boolean;
  /** -u and --private-key from the command line. */
  login?: { user?: string; privateKey?: string };
  /** -c/--connection from the command line: below the connection keyword and ansible_connection. */
  connection?: string;
  /** Makes a Host for an inventory host; SSH by default, replaceable in tests. */
  connect?: Connect;
  /** The file that keeps handlers left pending by a failed run (core/handlerstate.ts); none: not kept. */
  handlerState?: string;
}

interface HostState {
  name: string;
  host?: Host;
  failed: boolean;
  unreachable: boolean;
  /** end_play, end_host, any_errors_fatal or max_fail_percentage ended the play here. */
  ended: boolean;
  facts: Record<string, unknown>;
  /** Gathered facts: data, kept across plays as Ansible keeps them. */
  gathered: Record<string, unknown>;
  pending: Pending;
  notified: Set<string>;
  /** Notifications whose handler failed here: not run again in this run, kept for the next. */
  handlerFailed: Set<string>;
}

/** The play being run: its hosts and variables. */
interface PlayRun {
  play: Play;
  hosts: string[];
  vars: PlayVars;
  env: ExecEnv;
}

export class Scheduler {
  private states = new Map<string, HostState>();
  private sem: Semaphore;
  private connections: Connections;
  private inv: InventoryVars;
  /** Handlers an earlier run left pending, by host; taken out as a play takes them over. */
  private carried = new Map<string, PendingOnHost>();
  private started = new Date().toISOString();
  /** Shared by the tasks of every play of this run (TaskCtx.shared). */
  private shared = new RunShared();

  constructor(
    private pb: LoadedPlaybook,
    private inventory: Inventory,
    private opts: RunOptions,
    private events: RunEvents,
  ) {
    this.sem = new Semaphore(Math.max(1, opts.forks));
    this.inv = new InventoryVars(inventory);
    collectSecrets(opts.extraVars);
    collectSecrets(opts.extraData);
    for (const v of this.inv.hostVars.values()) collectSecrets(v);
    this.connections = new Connections((h) => this.inv.hostVars.get(h) ?? {}, opts.connect, opts);
    if (opts.handlerState) this.carried = loadHandlerState(opts.handlerState);
  }

  /** Runs every play; says whether a task failed or a host was unreachable. */
  async run(): Promise<RunEnd> {
    for (const w of this.pb.warnings ?? []) process.stderr.write(`[WARNING]: ${w}\n`);
    this.warnUndefinedPending();
    try {
      for (const play of this.pb.plays) await this.runPlay(play);
    } finally {
      await this.connections.closeAll();
      this.saveHandlers();
    }
    const states = [...this.states.values()];
    return { failed: states.some((s) => s.failed), unreachable: states.some((s) => s.unreachable) };
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
        gathered: {},
        pending: new Pending(),
        notified: new Set(),
        handlerFailed: new Set(),
      };
      this.states.set(name, s);
    }
    return s;
  }

  private isActive(h: string): boolean {
    const s = this.state(h);
    return !s.failed && !s.unreachable && !s.ended;
  }

  private active(hosts: string[]): string[] {
    return hosts.filter((h) => this.isActive(h));
  }

  private async runPlay(play: Play): Promise<void> {
    collectPlaySecrets(play);
    const hosts = this.playHosts(play);
    this.events.play(play.name, hosts);
    if (!hosts.length) {
      this.events.message('skipping: no hosts matched');
      return;
    }
    const flags = { ...this.opts, extraData: this.opts.extraData ?? {}, playbookDir: this.pb.dir };
    const facts = {
      facts: (h: string) => this.state(h).facts,
      gathered: (h: string) => this.state(h).gathered,
      activeHosts: () => this.active(hosts),
    };
    const vars = new PlayVars(this.inv, play, hosts, flags, facts);
    const env: ExecEnv = {
      check: this.opts.check,
      play,
      vars,
      playbookDir: this.pb.dir,
      connection: (name) => this.connections.get(name),
      pendingOf: (name) => this.state(name).pending,
      shared: this.shared,
      lookahead: new Lookahead(),
    };
    const run: PlayRun = { play, hosts, vars, env };
    for (const h of hosts) this.state(h).ended = false;
    for (const batch of batches(hosts, play.serial)) {
      await this.connectAll(run, batch);
      if (this.needsFacts(play, batch)) await this.runTask(run, gatherTask(play), this.active(batch));
      await this.runCarriedHandlers(run, this.active(batch));
      for (const section of play.sections) {
        await this.runList(run, section, batch);
        await this.flushHandlers(run, batch);
      }
      // any_errors_fatal or max_fail_percentage ended the play: no further batches.
      if (hosts.every((h) => this.state(h).ended)) break;
    }
  }

  /** Facts are gathered when gather_facts is on and the play reads one (in its strings, conditions,
   *  templates or variables, or in its hosts' inventory variables): a play that reads none pays nothing. */
  private needsFacts(play: Play, hosts: string[]): boolean {
    if (!play.gatherFacts) return false;
    return !!play.readsFacts || hosts.some((h) => mentionsFactDeep(this.inv.hostVars.get(h)));
  }

  private playHosts(play: Play): string[] {
    let hosts = matchHosts(this.inventory, play.hosts);
    if (this.opts.limit) {
      const lim = new Set(matchHosts(this.inventory, this.opts.limit));
      hosts = hosts.filter((h) => lim.has(h));
    }
    return hosts.filter((h) => !this.state(h).failed && !this.state(h).unreachable);
  }

  private async connectAll(run: PlayRun, hosts: string[]): Promise<void> {
    const connectOne = async (h: string) => {
      const s = this.state(h);
      try {
        s.host = await this.connections.get(h, this.remoteUser(run, undefined, h), this.connection(run, undefined, h));
      } catch (e) {
        s.unreachable = true;
        const where = formatWhere(run.play.where);
        const msg = redact((e as Error).message);
        const ev = { play: run.play.name, task: 'connect', task_id: where, host: h, handler: false };
        this.events.result({ ...ev, status: 'unreachable', changes: [], ms: 0, msg });
        this.events.hostDone(h, 'unreachable', false);
      }
    };
    await Promise.all(hosts.map((h) => this.sem.run(() => connectOne(h))));
  }

  private selected(run: PlayRun, t: Task): boolean {
    const tags = new Set([...t.tags, ...run.play.tags]);
    const asked = this.opts.tags;
    if (tags.has('never') && !asked.some((x) => tags.has(x))) return false;
    if (this.opts.skipTags.some((x) => tags.has(x))) return false;
    const chosen = asked.some((x) => tags.has(x) || x === 'all');
    if (asked.length && !tags.has('always') && !chosen) return !!t.block;
    return true;
  }

  private async runList(run: PlayRun, tasks: Task[], hosts: string[]): Promise<void> {
    if (run.play.strategy === 'free' && hosts.length > 1) {
      await Promise.all(hosts.map((h) => this.runListLinear(run, tasks, [h])));
    } else await this.runListLinear(run, tasks, hosts);
  }

  private async runListLinear(run: PlayRun, tasks: Task[], hosts: string[]): Promise<void> {
    for (const [index, t] of tasks.entries()) {
      const act = this.active(hosts);
      if (!act.length) return;
      if (!this.selected(run, t)) continue;
      if (t.block) await this.runBlock(run, t, act);
      else if (t.meta) await this.runMeta(run, t, act);
      else if (t.include) await this.runInclude(run, t, act);
      else {
        await this.readAhead(run, tasks, index, act);
        await this.runTask(run, t, act);
        this.endPlayOnFailures(run, act);
      }
    }
  }

  /** Starts, on each host, the checks of this task and of those that follow it in its list (up to READ_AHEAD,
   *  and not past a block, an include or a meta task), while it runs: lookahead.ts says when they are used.
   *  Between hosts it lets the event loop turn, so a host's reads are on their way while the next ones' are made. */
  private async readAhead(run: PlayRun, tasks: Task[], index: number, hosts: string[]): Promise<void> {
    const next: Task[] = [];
    // This task too: its check goes with the others, in the same round trip.
    for (const t of tasks.slice(index)) {
      if (next.length >= READ_AHEAD || t.block || t.meta || t.include) break;
      if (!this.selected(run, t)) continue;
      const sameUser = t.remoteUser === undefined || t.remoteUser === run.play.remoteUser;
      const sameConnection = t.connection === undefined || t.connection === run.play.connection;
      // throttle limits how many hosts run the task at once: its reads wait for their turn too.
      const throttled = t.throttle !== undefined;
      if (sameUser && sameConnection && !isTrue(t.runOnce) && !t.handler && !throttled) next.push(t);
    }
    if (!next.length) return;
    for (const [i, h] of hosts.entries()) {
      if (i > 0) await new Promise((turn) => setImmediate(turn));
      const s = this.state(h);
      if (!s.host) continue;
      const hr = this.hostRun(h, s.host);
      for (const t of next) readAhead(t, hr, run.env);
    }
  }

  /** The host as the executor sees it, on this connection: its check-mode overlay and facts are the run's. */
  private hostRun(name: string, host: Host, barrier?: Barrier): HostRun {
    const s = this.state(name);
    return { name, host, pending: s.pending, facts: s.facts, gathered: s.gathered, barrier };
  }

  /** any_errors_fatal and max_fail_percentage end the play for every host. */
  private endPlayOnFailures(run: PlayRun, act: string[]): void {
    const { play, hosts } = run;
    const fatal = play.anyErrorsFatal && act.some((h) => this.state(h).failed);
    const down = hosts.filter((h) => this.state(h).failed || this.state(h).unreachable).length;
    const tooMany = play.maxFailPercentage !== undefined && (down / hosts.length) * 100 > play.maxFailPercentage;
    if (fatal || tooMany) for (const h of hosts) this.state(h).ended = true;
  }

  private async runBlock(run: PlayRun, t: Task, hosts: string[]): Promise<void> {
    const entering = hosts.filter((h) => this.blockWhen(run, t, h));
    if (!entering.length) return;
    const failedBefore = new Set(entering.filter((h) => this.state(h).failed));
    await this.runList(run, withInherited(t.block!, t), entering);
    const failedIn = entering.filter((h) => this.state(h).failed && !failedBefore.has(h));
    if (failedIn.length && t.rescue?.length) {
      for (const h of failedIn) this.state(h).failed = false;
      await this.runList(run, withInherited(t.rescue, t), failedIn);
      for (const h of failedIn) if (!this.state(h).failed) this.events.rescued(h);
    }
    if (t.always?.length) {
      const failedNow = entering.filter((h) => this.state(h).failed);
      await this.asIfNotFailed(failedNow, () => {
        const reachable = entering.filter((h) => !this.state(h).unreachable);
        return this.runList(run, withInherited(t.always!, t), reachable);
      });
    }
  }

  /** Runs hosts that failed as if they had not (always:, handlers), then marks them failed again. */
  private async asIfNotFailed(failed: string[], fn: () => Promise<void>): Promise<void> {
    for (const h of failed) this.state(h).failed = false;
    try {
      await fn();
    } finally {
      for (const h of failed) this.state(h).failed = true;
    }
  }

  private blockWhen(run: PlayRun, t: Task, host: string): boolean {
    if (!t.when.length) return true;
    const vars = run.vars.forTask(t, host);
    return whenFalseReason(t, vars) === undefined;
  }

  private async runMeta(run: PlayRun, t: Task, hosts: string[]): Promise<void> {
    const all = run.hosts;
    if (t.meta === 'flush_handlers') await this.flushHandlers(run, hosts);
    else if (t.meta === 'end_play') for (const h of all) this.state(h).ended = true;
    else if (t.meta === 'end_host') for (const h of hosts) this.state(h).ended = true;
    else if (t.meta === 'clear_host_errors') for (const h of all) this.state(h).failed = false;
  }

  /** Handlers in definition order, each on the hosts that notified its name or a topic it listens
   *  to. A notification is consumed at the end of the flush, so that every handler listening to it
   *  runs; one that a handler makes for an earlier handler waits for the next flush. */
  private async flushHandlers(run: PlayRun, hosts: string[]): Promise<void> {
    const force = this.opts.forceHandlers || run.play.forceHandlers;
    const consumed = new Map<string, Set<string>>(hosts.map((h) => [h, new Set()]));
    for (const hd of run.play.handlers) {
      const names = [hd.name, ...hd.listen];
      const targets = hosts.filter((h) => {
        const s = this.state(h);
        const notified = names.some((n) => s.notified.has(n));
        const canRun = !s.unreachable && (!s.failed || force);
        return notified && canRun && !s.ended;
      });
      if (!targets.length) continue;
      for (const h of targets) for (const n of names) if (this.state(h).notified.has(n)) consumed.get(h)!.add(n);
      const wasFailed = targets.filter((h) => this.state(h).failed);
      await this.asIfNotFailed(wasFailed, async () => {
        await this.runTask(run, hd, targets);
        // A handler that failed (or lost its host) is still owed: kept for the next run, not retried in this one.
        for (const h of targets) {
          const s = this.state(h);
          if (s.failed || s.unreachable) for (const n of names) if (s.notified.has(n)) s.handlerFailed.add(n);
        }
      });
    }
    for (const [h, names] of consumed) for (const n of names) this.state(h).notified.delete(n);
  }

  /** include_tasks resolved at run time: on each host (and loop item) its file name is rendered and the file
   *  loaded and checked; hosts that resolve to the same file and item run its tasks together. A file that
   *  is bad input fails the hosts that resolved to it, with its errors' file:line. */
  private async runInclude(run: PlayRun, t: Task, hosts: string[]): Promise<void> {
    const groups = new Map<string, { hosts: string[]; tasks: Task[] }>();
    const base = { play: run.play.name, task: t.name, task_id: t.id, handler: false };
    this.events.taskStart(t.name, hosts.length, false);
    for (const h of hosts) {
      const vars = run.vars.forTask(t, h);
      try {
        if (whenFalseReason(t, vars)) continue;
        const items = loopItems(t, vars, run.env.playbookDir);
        for (const [index, item] of (items ?? [undefined]).entries()) {
          const loop = items ? { [t.loopVar]: item, ansible_loop_var: t.loopVar } : {};
          if (items && t.loopControl.indexVar) Object.assign(loop, { [t.loopControl.indexVar]: index });
          const name = String(renderString(t.include!.name, run.vars.forTask(t, h, loop)));
          const key = JSON.stringify([name, index, item ?? null]);
          let g = groups.get(key);
          if (!g) {
            const tasks = loadIncludedTasks(this.pb.dir, t, name);
            g = { hosts: [], tasks: tasks.map((c) => inheritFrom(c, { ...t, data: { ...t.data, ...loop } })) };
            groups.set(key, g);
          }
          g.hosts.push(h);
          this.events.result({ ...base, host: h, status: 'ok', changes: [], ms: 0, msg: `included: ${name}` });
        }
      } catch (e) {
        const msg = redact((e as Error).message);
        this.events.result({ ...base, host: h, status: 'failed', changes: [], ms: 0, msg });
        this.events.hostDone(h, 'failed', false);
        this.state(h).failed = true;
      }
    }
    this.events.taskEnd();
    for (const g of groups.values()) await this.runList(run, g.tasks, this.active(g.hosts));
  }

  private async runTask(run: PlayRun, t: Task, hosts: string[]): Promise<void> {
    this.events.taskStart(t.name, hosts.length, !!t.handler);
    try {
      // throttle: at most that many hosts at once for this task, within forks.
      const limit = t.throttle === undefined ? undefined : new Semaphore(Math.max(1, Number(t.throttle) || 1));
      const barrier = new Barrier();
      const onHost = (h: string) => this.sem.run(() => this.onHost(run, t, h, barrier));
      if (isTrue(t.runOnce)) await this.runOnce(run, t, hosts);
      else await Promise.all(hosts.map((h) => (limit ? limit.run(() => onHost(h)) : onHost(h))));
    } finally {
      this.events.taskEnd();
    }
  }

  /** run_once: the first host runs it; every host gets its result and its notifications. */
  private async runOnce(run: PlayRun, t: Task, hosts: string[]): Promise<void> {
    const first = hosts[0];
    const out = await this.sem.run(() => this.onHost(run, t, first));
    if (t.register) for (const h of hosts) setOwn(this.state(h).facts, t.register, out.registered);
    if (out.status === 'changed' && !this.state(first).failed) for (const h of hosts) this.notify(t, h);
  }

  /** remote_user of the task, else of the play, rendered for the host; undefined when neither sets one. */
  private remoteUser(run: PlayRun, t: Task | undefined, host: string): string | undefined {
    const raw = t?.remoteUser ?? run.play.remoteUser;
    if (raw === undefined || raw === null) return undefined;
    if (!String(raw).includes('{{')) return String(raw);
    return String(renderString(String(raw), run.vars.forTask(t ?? gatherTask(run.play), host)));
  }

  /** connection of the task, else of the play, rendered for the host; undefined when neither sets one. */
  private connection(run: PlayRun, t: Task | undefined, host: string): string | undefined {
    const raw = t?.connection ?? run.play.connection;
    if (raw === undefined || raw === null) return undefined;
    if (!String(raw).includes('{{')) return String(raw);
    return String(renderString(String(raw), run.vars.forTask(t ?? gatherTask(run.play), host)));
  }

  /** The task's connection: the play's, or another when the task's remote_user or connection is not the play's. */
  private async taskHost(run: PlayRun, t: Task, host: string): Promise<{ host: Host; env: ExecEnv }> {
    const s = this.state(host);
    const sameUser = t.remoteUser === undefined || t.remoteUser === run.play.remoteUser;
    const sameConnection = t.connection === undefined || t.connection === run.play.connection;
    if (sameUser && sameConnection) return { host: s.host!, env: run.env };
    const user = this.remoteUser(run, t, host);
    const env: ExecEnv = { ...run.env, connection: (name) => this.connections.get(name, user) };
    return { host: await this.connections.get(host, user, this.connection(run, t, host)), env };
  }

  private async onHost(run: PlayRun, t: Task, host: string, barrier = new Barrier()): Promise<TaskOutcome> {
    const s = this.state(host);
    const base = { play: run.play.name, task: t.name, task_id: t.id, host, handler: !!t.handler };
    let conn: { host: Host; env: ExecEnv };
    try {
      conn = await this.taskHost(run, t, host);
    } catch (e) {
      const msg = redact((e as Error).message);
      this.events.result({ ...base, status: 'unreachable', changes: [], ms: 0, msg });
      this.events.hostDone(host, 'unreachable', false);
      s.unreachable = true;
      return { status: 'unreachable', ignored: false, registered: { unreachable: true, msg }, notify: false };
    }
    const hr = this.hostRun(host, conn.host, barrier);
    barrier.enter();
    const out = await runOnHost(t, hr, conn.env, (o) => this.events.result(lineOf(t, base, o))).finally(() =>
      barrier.leave(),
    );
    this.events.hostDone(host, out.status, out.ignored);
    if (out.status === 'unreachable') s.unreachable = true;
    else if (out.status === 'failed' && !out.ignored && !isTrue(t.ignoreErrors)) s.failed = true;
    if (out.notify) this.notify(t, host);
    return out;
  }

  private notify(t: Task, host: string): void {
    for (const n of t.notify) this.state(host).notified.add(n);
  }

  /** Handlers an earlier run left pending on these hosts, that this play defines (by name or listen), run before
   *  its tasks: they become the hosts' notifications and are flushed at once. */
  private async runCarriedHandlers(run: PlayRun, hosts: string[]): Promise<void> {
    const defined = new Set(run.play.handlers.flatMap((hd) => [hd.name, ...hd.listen]));
    const file = shownPath(this.opts.handlerState ?? '');
    const owed: string[] = [];
    for (const h of hosts) {
      const c = this.carried.get(h);
      const mine = c?.notified.filter((n) => defined.has(n)) ?? [];
      if (!c || !mine.length) continue;
      c.notified = c.notified.filter((n) => !defined.has(n));
      if (!c.notified.length) this.carried.delete(h);
      for (const n of mine) this.state(h).notified.add(n);
      this.events.handlers({ action: 'run', host: h, notified: mine, file, since: c.since, playbook: c.playbook });
      owed.push(h);
    }
    if (owed.length) await this.flushHandlers(run, owed);
  }

  /** Before any play: pending handlers that no play of this playbook on that host defines are kept, and said. */
  private warnUndefinedPending(): void {
    if (!this.carried.size) return;
    const defined = new Map<string, Set<string>>();
    for (const play of this.pb.plays) {
      const names = play.handlers.flatMap((hd) => [hd.name, ...hd.listen]);
      for (const h of this.playHosts(play)) {
        const set = defined.get(h) ?? new Set<string>();
        for (const n of names) set.add(n);
        defined.set(h, set);
      }
    }
    const file = shownPath(this.opts.handlerState ?? '');
    for (const [h, c] of this.carried) {
      const here = defined.get(h);
      if (!here) continue;
      const orphans = c.notified.filter((n) => !here.has(n));
      if (orphans.length)
        this.events.handlers({
          action: 'kept',
          host: h,
          notified: orphans,
          file,
          since: c.since,
          playbook: c.playbook,
        });
    }
  }

  /** After the run: what no handler acted on (the host failed or was cut off, or the handler failed) is written
   *  for the next run, with what earlier runs left and this one did not take over; check mode writes nothing. */
  private saveHandlers(): void {
    const path = this.opts.handlerState;
    if (!path || this.opts.check) return;
    const file = shownPath(path);
    const before = loadHandlerState(path);
    const next = new Map<string, PendingOnHost>(this.carried);
    for (const [h, s] of this.states) {
      const left = [...new Set([...(next.get(h)?.notified ?? []), ...s.notified, ...s.handlerFailed])];
      if (!left.length) continue;
      const fresh = [...new Set([...s.notified, ...s.handlerFailed])];
      const earlier = before.get(h);
      const playbook = fresh.length || !earlier ? shownPath(this.pb.file) : earlier.playbook;
      // One of them owed since an earlier run (not run since, or run and failed again): since then.
      const since = earlier && left.some((n) => earlier.notified.includes(n)) ? earlier.since : this.started;
      next.set(h, { notified: left, since, playbook });
      if (fresh.length) this.events.handlers({ action: 'saved', host: h, notified: fresh, file });
    }
    for (const h of before.keys())
      if (!next.has(h)) this.events.handlers({ action: 'cleared', host: h, notified: before.get(h)!.notified, file });
    saveHandlerState(path, this.inventory.sources, next);
  }
}

/** How many of the next tasks' checks a host runs ahead (lookahead.ts). */
const READ_AHEAD = 32;

const NO_LOG_MESSAGE = "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

function lineOf(t: Task, base: Omit<TaskEvent, 'status' | 'changes' | 'ms'>, o: ItemOutcome): TaskEvent {
  const shown = o.item?.label ?? o.item?.value;
  const item = o.item === undefined ? {} : { item: t.noLog ? '(hidden: no_log)' : shown };
  const msg = t.noLog && o.msg ? NO_LOG_MESSAGE : o.msg;
  const changes = t.noLog ? o.changes.map(() => 'hidden (no_log)') : o.changes.map((c) => c.action);
  const diffs = t.noLog ? [] : o.changes.flatMap((c) => (c.diff ? [c.diff] : []));
  const { status, ms, reason, ignored } = o;
  return { ...base, ...item, status, changes, ms, reason, msg, ignored, diffs };
}

function withInherited(tasks: Task[], parent: Task): Task[] {
  return tasks.map((c) => ({ ...inheritFrom(c, parent), tags: [...parent.tags, ...c.tags] }));
}

/** Ansible's "Gathering Facts": a setup task at the play's line, run on every host of the batch. */
function gatherTask(play: Play): Task {
  return {
    id: formatWhere(play.where),
    where: play.where,
    file: play.file,
    name: 'Gathering Facts',
    type: 'setup',
    args: {},
    when: [],
    loopVar: 'item',
    loopControl: {},
    environment: [],
    notify: [],
    listen: [],
    tags: ['always'],
    vars: {},
  };
}

/** Variables with secret names, wherever the play defines them: vars, vars files, roles, tasks, blocks. */
function collectPlaySecrets(play: Play): void {
  collectSecrets(play.vars);
  collectSecrets(play.varsFiles);
  for (const r of play.roles) for (const vars of [r.defaults, r.vars, r.params]) collectSecrets(vars);
  for (const t of allTasks(play)) {
    collectSecrets(t.vars);
    if (t.role) for (const vars of [t.role.defaults, t.role.vars]) collectSecrets(vars);
  }
}

/** serial: batches of hosts, by count or percentage; the last size repeats. */
export function batches(hosts: string[], serial?: (number | string)[]): string[][] {
  if (!serial || !serial.length) return [hosts];
  const out: string[][] = [];
  let i = 0;
  let k = 0;
  while (i < hosts.length) {
    const spec = serial[Math.min(k++, serial.length - 1)];
    const percent = typeof spec === 'string' && spec.endsWith('%');
    const size = percent ? Math.floor((hosts.length * parseFloat(spec)) / 100) : Number(spec) || hosts.length;
    const n = Math.max(1, size);
    out.push(hosts.slice(i, i + n));
    i += n;
  }
  return out;
}
