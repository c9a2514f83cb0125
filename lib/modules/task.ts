// The task contract (DESIGN.md section 2): check reads, plan decides, apply does.
import { Become, Host, RunResult } from '../connection/host.js';
import { Change, Pending } from './pending.js';
import { TaskError } from '../util/errors.js';

export type Args = Record<string, any>;

export interface TaskCtx {
  host: Host;
  /** Changes earlier tasks would make on this host (check mode); empty in a real run. */
  pending: Pending;
  /** The pending changes of another host of the play (check mode); empty in a real run. */
  pendingOf(host: string): Pending;
  become?: Become;
  checkMode: boolean;
  /** All variables of this host at this task (for tasks that need the play's hosts). */
  vars: Record<string, unknown>;
  /** The task's location (file:line:column) and name, for messages. */
  taskId: string;
  taskName: string;
  /** Where playbook-relative files (templates, copy src) are looked up. */
  findFile(kind: 'templates' | 'files', name: string): string;
  /** Waits until every host running this task has called barrier too, or has finished the task
   *  (the Erlang cookie: every node stopped and rewritten before any starts). */
  barrier(): Promise<void>;
  /** What the tasks of this run share (one read of a RabbitMQ node), dropped when any task applies a change. */
  shared: RunShared;
}

/** Values read once per run and shared by its tasks (a promise: tasks that ask while it is being read wait
 *  for the same read). The executor calls changed() before and after any task applies changes on any host,
 *  and before a retry: every value is read again after that, so nothing planned from it is ever stale. */
export class RunShared {
  private values = new Map<string, Promise<unknown>>();

  /** The value of key: read once, until the next change. A read that fails is not kept. */
  get<T>(key: string, read: () => Promise<T>): Promise<T> {
    const kept = this.values.get(key);
    return kept ? (kept as Promise<T>) : this.refresh(key, read);
  }

  /** Reads key again now (a task waiting for the world to change), and keeps what it reads. */
  refresh<T>(key: string, read: () => Promise<T>): Promise<T> {
    const value = read();
    this.values.set(key, value);
    value.catch(() => {
      if (this.values.get(key) === value) this.values.delete(key);
    });
    return value;
  }

  /** Something may have changed: every value is read again when next asked for. */
  changed(): void {
    this.values.clear();
  }
}

/** A: the arguments, S: what check reads, D: the data a change carries to apply. */
export interface TaskType<A extends Args = Args, S = unknown, D = unknown> {
  name: string;
  /** JSON schema of the arguments, checked before any connection. */
  schema: Record<string, unknown>;
  /** The argument a free-form string fills (`command: ls` → cmd). */
  freeForm?: string;
  /** Arguments that name template files: found and checked for undefined variables before any
   *  connection, as every template is. */
  templateArgs?: (keyof A & string)[];
  /** The check only reads this host (its commands, ctx.pending, ctx.vars, controller files: no shared read, no
   *  barrier, no effect), so the scheduler may run it ahead while earlier tasks run (lib/core/lookahead.ts).
   *  A function decides by the arguments. */
  readAhead?: boolean | ((args: A) => boolean);
  check(ctx: TaskCtx, args: A): Promise<S>;
  plan(args: A, state: S): Change<D>[];
  apply(ctx: TaskCtx, changes: Change<D>[], args: A): Promise<Record<string, unknown> | void>;
  /** Result fields when nothing changes (registered), e.g. a command's output is not known. */
  result?(args: A, state: S): Record<string, unknown>;
  /** A proof run in a real run only, after apply (amqp_verify publishes and consumes): its
   *  result is registered, a failure fails the task, and it is never reported as a change. */
  verify?(ctx: TaskCtx, args: A, state: S): Promise<Record<string, unknown>>;
  /** Variables this task defines for later tasks (set_fact). */
  facts?(args: A): Record<string, unknown>;
  /** Extra static checks of arguments before any connection (templates exist, ...). */
  validate?(args: A, find: TaskCtx['findFile']): string | undefined;
}

/** Runs a script and throws a TaskError naming the command when it fails. */
export async function mustRun(ctx: TaskCtx, script: string, what: string, timeoutMs?: number): Promise<RunResult> {
  const r = await ctx.host.run(script, { become: ctx.become, timeoutMs });
  if (r.code !== 0)
    throw new TaskError(
      `${what} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ')}`,
      {
        command: script.length > 300 ? script.slice(0, 300) + '…' : script,
        code: r.code,
        stderr: r.stderr,
        stdout: r.stdout,
      },
    );
  return r;
}

/** Ansible accepts modes as '0644', '644', 0644 (YAML octal, read as a number) or 'u=rw,g=r'. */
export function normMode(mode: unknown): string | undefined {
  if (mode === undefined || mode === null) return undefined;
  if (typeof mode === 'number') return mode.toString(8).padStart(4, '0');
  const s = String(mode);
  if (/^[0-7]{3,4}$/.test(s)) return s.padStart(4, '0');
  return s;
}
