// Output: console lines and a PLAY RECAP for people, or NDJSON events (--json) for machines.
// Everything printed goes through redact(): secrets never reach the terminal or a log.
import { createTwoFilesPatch } from 'diff';
import { redact, redactDeep } from '../util/secrets.js';
import { Status } from './executor.js';

/** One line of output: a task, or one loop item, on one host. */
export interface TaskEvent {
  play: string;
  task: string;
  task_id: string;
  host: string;
  item?: unknown;
  handler: boolean;
  status: Status;
  changes: string[];
  ms: number;
  msg?: string;
  reason?: string;
  ignored?: boolean;
  diffs?: { path: string; before: string; after: string }[];
}
export interface Recap {
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  unreachable: number;
  rescued: number;
  ignored: number;
  unknown: number;
}

/** Handlers left pending by a failed run (core/handlerstate.ts): run first in this run, saved for the next one,
 *  kept because this playbook has no handler of that name for the host, or cleared once run. */
export interface HandlersEvent {
  action: 'run' | 'saved' | 'kept' | 'cleared';
  host: string;
  /** Notification names: a handler's name or a topic handlers listen to. */
  notified: string[];
  /** The state file, as given (relative to the working folder when inside it). */
  file: string;
  /** When an earlier run left them pending, and which playbook it ran. */
  since?: string;
  playbook?: string;
}

/** What the scheduler tells as a run goes. The reporter alone keeps the recap's counts. */
export interface RunEvents {
  play(name: string, hosts: string[]): void;
  taskStart(name: string, hosts: number, handler: boolean): void;
  /** A result line; it is counted in the recap only through hostDone. */
  result(e: TaskEvent): void;
  /** A task is over on a host: its status (for a loop, the loop's as a whole) counts in the recap. */
  hostDone(host: string, status: Status, ignored: boolean): void;
  /** A failure on a host was rescued: as in Ansible's recap, it counts as rescued, not failed. */
  rescued(host: string): void;
  taskEnd(): void;
  message(text: string): void;
  handlers(e: HandlersEvent): void;
}

const tty = process.stdout.isTTY;
const color = (code: string, s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const COLORS: Record<Status, string> = {
  ok: '32',
  changed: '33',
  unknown: '35',
  failed: '31',
  skipped: '36',
  unreachable: '31',
};

export class Reporter implements RunEvents {
  private recap = new Map<string, Recap>();
  private live?: { name: string; done: number; total: number; start: number; timer?: NodeJS.Timeout };

  constructor(
    public json: boolean,
    public diff: boolean,
    public check: boolean,
    private out: (s: string) => void = (s) => process.stdout.write(s),
  ) {}

  private host(h: string): Recap {
    let r = this.recap.get(h);
    if (!r) {
      r = { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0, rescued: 0, ignored: 0, unknown: 0 };
      this.recap.set(h, r);
    }
    return r;
  }

  private emit(obj: Record<string, unknown>): void {
    // Masked value by value, so that the line stays valid JSON whatever a secret holds.
    this.out(JSON.stringify(redactDeep(obj)) + '\n');
  }
  private line(s: string): void {
    this.clearLive();
    this.out(redact(s) + '\n');
  }

  play(name: string, hosts: string[]): void {
    if (this.json) this.emit({ event: 'play', play: name, hosts });
    else this.line(`\nPLAY [${name}] ${'*'.repeat(Math.max(3, 60 - name.length))}`);
  }

  taskStart(name: string, total: number, handler: boolean): void {
    if (this.json) return;
    this.line(`\n${handler ? 'RUNNING HANDLER' : 'TASK'} [${name}] ${'*'.repeat(Math.max(3, 56 - name.length))}`);
    this.live = { name, done: 0, total, start: Date.now() };
    if (tty) this.live.timer = setInterval(() => this.drawLive(), 1000);
  }

  private drawLive(): void {
    if (!this.live || !tty) return;
    const s = Math.round((Date.now() - this.live.start) / 1000);
    if (s >= 2) process.stdout.write(`\r\x1b[2K  … ${this.live.done}/${this.live.total} hosts done, ${s} s`);
  }
  private clearLive(): void {
    if (tty && this.live && Date.now() - this.live.start >= 2000) process.stdout.write('\r\x1b[2K');
  }
  taskEnd(): void {
    if (this.live?.timer) clearInterval(this.live.timer);
    this.clearLive();
    this.live = undefined;
  }

  result(e: TaskEvent): void {
    if (this.json) {
      const o: Record<string, unknown> = {
        event: 'task',
        play: e.play,
        task: e.task,
        task_id: e.task_id,
        host: e.host,
      };
      if (e.item !== undefined) o.item = e.item;
      Object.assign(o, { handler: e.handler, status: e.status, changes: e.changes, ms: e.ms });
      if (e.reason) o.reason = e.reason;
      if (e.msg) o.msg = e.msg;
      if (e.ignored) o.ignored = true;
      this.emit(o);
      return;
    }
    const label = e.status === 'unknown' ? 'unknown' : e.status === 'failed' ? 'fatal' : e.status;
    const item =
      e.item !== undefined ? ` => (item=${typeof e.item === 'object' ? JSON.stringify(e.item) : e.item})` : '';
    let s = color(COLORS[e.status], `${label}: [${e.host}]${item}`);
    if (e.status === 'failed' || e.status === 'unreachable')
      s += color(COLORS[e.status], `: ${e.msg ?? ''}`) + (e.ignored ? ' ...ignoring' : '');
    else if (e.reason) s += ` (${e.reason})`;
    else if (e.msg && e.status !== 'changed') s += ` => ${e.msg}`;
    if ((this.check || this.diff) && e.changes.length) s += '\n' + e.changes.map((c) => `    - ${c}`).join('\n');
    this.line(s);
    if (this.diff)
      for (const d of e.diffs ?? [])
        this.line(
          createTwoFilesPatch(`before: ${d.path}`, `after: ${d.path}`, d.before, d.after, '', '', { context: 3 })
            .replace(/^=+\n/, '')
            .trimEnd(),
        );
  }

  rescued(host: string): void {
    const r = this.host(host);
    r.rescued++;
    r.failed--;
  }

  hostDone(host: string, status: Status, ignored: boolean): void {
    if (this.live) this.live.done++;
    const r = this.host(host);
    if (status === 'ok') r.ok++;
    if (status === 'changed') {
      r.ok++;
      r.changed++;
    }
    if (status === 'unknown') {
      r.ok++;
      r.unknown++;
    }
    if (status === 'skipped') r.skipped++;
    if (status === 'failed') {
      if (ignored) {
        r.ignored++;
        r.ok++;
      } else r.failed++;
    }
    if (status === 'unreachable') r.unreachable++;
  }

  error(file: string, line: number | undefined, column: number | undefined, message: string): void {
    if (this.json) this.emit({ event: 'error', file, line: line ?? null, column: column ?? null, message });
    else process.stderr.write(redact(`ERROR: ${file}${line ? `:${line}:${column ?? 1}` : ''}: ${message}\n`));
  }

  message(text: string): void {
    if (!this.json) this.line(text);
  }

  handlers(e: HandlersEvent): void {
    const names = e.notified.map((n) => `"${n}"`).join(', ');
    const earlier = e.since ? ` by a run of ${e.playbook || 'a playbook'} at ${e.since}` : '';
    if (e.action === 'kept')
      process.stderr.write(
        redact(
          `[WARNING]: pending handlers on ${e.host}: ${names}, left${earlier}, are not run: this playbook has no ` +
            `handler of that name (or listening to it) for ${e.host}. They stay in ${e.file} for a playbook that ` +
            `has one; remove them from that file to drop them.\n`,
        ),
      );
    if (this.json) {
      const o: Record<string, unknown> = { event: 'handlers', action: e.action, host: e.host, handlers: e.notified };
      if (e.since) Object.assign(o, { since: e.since, playbook: e.playbook });
      this.emit({ ...o, file: e.file });
    } else if (e.action === 'run')
      this.line(`\nPENDING HANDLERS [${e.host}]: ${names}, left pending${earlier} (${e.file}): running them first`);
    else if (e.action === 'saved')
      this.line(`\nhandlers not run on ${e.host}: ${names}; saved in ${e.file}: the next run runs them first`);
    else if (e.action === 'cleared')
      this.line(`\npending handlers done on ${e.host}: ${names}; cleared from ${e.file}`);
  }

  private sorted(): [string, Recap][] {
    return [...this.recap].sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }));
  }

  finish(): void {
    if (this.json) {
      const hosts: Record<string, Record<string, number>> = {};
      for (const [h, r] of this.sorted()) {
        hosts[h] = {
          ok: r.ok,
          changed: r.changed,
          failed: r.failed,
          skipped: r.skipped,
          unreachable: r.unreachable,
          rescued: r.rescued,
          ignored: r.ignored,
        };
        if (this.check) hosts[h].unknown = r.unknown;
      }
      this.emit({ event: 'recap', hosts });
      return;
    }
    this.line(`\nPLAY RECAP ${'*'.repeat(60)}`);
    for (const [h, r] of this.sorted()) {
      const cols = [
        `ok=${r.ok}`,
        color(r.changed ? '33' : '0', `changed=${r.changed}`),
        ...(this.check ? [color(r.unknown ? '35' : '0', `unknown=${r.unknown}`)] : []),
        color(r.unreachable ? '31' : '0', `unreachable=${r.unreachable}`),
        color(r.failed ? '31' : '0', `failed=${r.failed}`),
        `skipped=${r.skipped}`,
        `rescued=${r.rescued}`,
        `ignored=${r.ignored}`,
      ];
      this.line(`${h.padEnd(24)} : ${cols.map((c) => c.padEnd(12)).join(' ')}`);
    }
  }
}
