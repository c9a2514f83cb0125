// Typed errors, thrown deep and turned into exit codes in one place (exitCode below, called by cli.ts).
import { redact } from './secrets.js';

export interface Where {
  file: string;
  line?: number;
  column?: number;
}

/** Bad input: playbook, inventory, template or variables. Exit 4, nothing was run. */
export class PlaybookError extends Error {
  constructor(
    public where: Where,
    public reason: string,
  ) {
    super(`${formatWhere(where)}: ${reason}`);
    this.where = { ...where, file: displayPath(where.file) };
  }
}

/** Several input errors found in one validation pass. */
export class PlaybookErrors extends Error {
  constructor(public errors: PlaybookError[]) {
    super(errors.map((e) => e.message).join('\n'));
  }
}

/** Bad command line options. Exit 5. */
export class OptionsError extends Error {}

/** A host could not be reached or its connection broke. */
export class ConnectError extends Error {
  constructor(
    public host: string,
    reason: string,
    /** The connection was up and dropped (mid-task), rather than never made. */
    lost = false,
  ) {
    super(`${host}: ${lost ? 'connection lost' : 'cannot connect'}: ${reason}`);
  }
}

/** A task failed on a host. The command and stderr are redacted of secrets. */
export class TaskError extends Error {
  constructor(
    message: string,
    public detail: { command?: string; code?: number; stderr?: string; stdout?: string } = {},
  ) {
    super(redact(message));
    if (detail.command) detail.command = redact(detail.command);
    if (detail.stderr) detail.stderr = redact(detail.stderr);
    if (detail.stdout) detail.stdout = redact(detail.stdout);
  }
}

/** A check that depends on a pending change it cannot model (check mode only). */
export class UnknownState extends Error {
  constructor(public reason: string) {
    super(reason);
  }
}

/** A task that cannot say anything in this run (check mode, waiting on a pending change). */
export class SkipTask extends Error {}

/** The lab failed: a step, root, a clash. */
export class LabError extends Error {}

/** A vault file or value cannot be read: no password opens it, or it is damaged (util/vault.ts). */
export class VaultError extends Error {}

/** file:line:column, the file relative to the working folder when it is inside it. */
export function formatWhere(w: Where): string {
  const f = displayPath(w.file);
  return w.line ? `${f}:${w.line}:${w.column ?? 1}` : f;
}

export function displayPath(file: string): string {
  const cwd = process.cwd() + '/';
  return file.startsWith(cwd) ? file.slice(cwd.length) : file;
}

/** Ansible's exit codes (DESIGN.md section 4). */
export const EXIT = { ok: 0, error: 1, taskFailed: 2, unreachable: 3, badInput: 4, badOptions: 5 } as const;

/** How a run ended on its hosts: a task failed on some, some could not be reached. */
export interface RunEnd {
  failed: boolean;
  unreachable: boolean;
}

/** The one place where outcomes and errors become exit codes. A failed task outranks an
 *  unreachable host, as in Ansible. */
export function exitCode(outcome: RunEnd | unknown): number {
  if (outcome instanceof PlaybookError || outcome instanceof PlaybookErrors) return EXIT.badInput;
  if (outcome instanceof OptionsError) return EXIT.badOptions;
  if (outcome instanceof ConnectError) return EXIT.unreachable;
  if (outcome instanceof Error) return EXIT.error;
  const end = outcome as RunEnd;
  if (end.failed) return EXIT.taskFailed;
  if (end.unreachable) return EXIT.unreachable;
  return EXIT.ok;
}
