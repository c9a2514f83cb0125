// Reads run ahead (issue 11). While a host runs one task, the scheduler starts the checks of the next tasks
// whose check only reads that host (TaskType.readAhead); their commands wait for the host's shell together and
// go as one batch, one round trip (RunOptions.batch). A task uses the state read ahead for it only when nothing
// could have changed that state since the read began:
// - no change was applied on the host (by any task, a handler, or a task delegated to it from another host),
//   none recorded in check mode and no retry, since the read was started, and none was being applied then;
// - no variable was set on any host (register, set_fact, facts, include_vars): a template reads them all;
// - its arguments, become, environment and check mode render the same now as then (its key).
// Otherwise, or when the read failed, the task checks again as it always does. Effects keep their order: only
// checks (reads) run ahead, never an apply.

interface Entry {
  key: string;
  state: Promise<unknown>;
}

export class Lookahead {
  /** Host → task id → the read started for it. */
  private entries = new Map<string, Map<string, Entry>>();
  /** Hosts with a change being applied: no read starts there until it ends. */
  private applying = new Map<string, number>();

  /** Starts `read` for the task on the host, unless one is kept already or a change is being applied there. */
  start(host: string, taskId: string, key: string, read: () => Promise<unknown>): void {
    if (this.applying.get(host)) return;
    let mine = this.entries.get(host);
    if (mine?.get(taskId)?.key === key) return;
    if (!mine) this.entries.set(host, (mine = new Map()));
    const state = read();
    state.catch(() => undefined);
    mine.set(taskId, { key, state });
  }

  /** Whether a read is kept for the task on the host (whatever its key). */
  has(host: string, taskId: string): boolean {
    return !!this.entries.get(host)?.has(taskId);
  }

  /** The read kept for the task on the host, when its key is the same; it is used once. */
  take(host: string, taskId: string, key: string): Promise<unknown> | undefined {
    const mine = this.entries.get(host);
    const entry = mine?.get(taskId);
    if (!entry) return undefined;
    mine!.delete(taskId);
    return entry.key === key ? entry.state : undefined;
  }

  /** A change is about to be applied on the host: every read kept for it is dropped, none starts until ended. */
  beginChange(host: string): void {
    this.applying.set(host, (this.applying.get(host) ?? 0) + 1);
    this.entries.delete(host);
  }

  endChange(host: string): void {
    const n = (this.applying.get(host) ?? 1) - 1;
    if (n > 0) this.applying.set(host, n);
    else this.applying.delete(host);
    this.entries.delete(host);
  }

  /** Something changed on the host at once (a change recorded in check mode, a retry): its reads are dropped. */
  changedHost(host: string): void {
    this.entries.delete(host);
  }

  /** A variable was set on some host: every read kept is dropped (a template may read any host's variables). */
  changedVars(): void {
    this.entries.clear();
  }
}
