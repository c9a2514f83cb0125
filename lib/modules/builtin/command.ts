import { TaskError } from '../../util/errors.js';
import { fileState } from '../facts.js';
import { sh } from '../../connection/quote.js';
import { TaskCtx, TaskType } from '../task.js';
import { lastLines } from './_output.js';

export interface CommandArgs {
  cmd?: string;
  argv?: string[];
  chdir?: string;
  creates?: string;
  removes?: string;
  stdin?: string;
  timeout?: number;
}
type CmdState = { skip: string | false };

/** Splits a command line into words as a shell would, without any shell features. */
export function splitArgs(cmd: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  let m;
  while ((m = re.exec(cmd))) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]));
  return out;
}

function makeCommand(shell: boolean): TaskType<CommandArgs, CmdState> {
  return {
    name: shell ? 'shell' : 'command',
    readAhead: true,
    freeForm: 'cmd',
    schema: {
      type: 'object',
      properties: {
        cmd: { type: 'string' },
        argv: { type: 'array', items: { type: 'string' } },
        chdir: { type: 'string' },
        creates: { type: 'string' },
        removes: { type: 'string' },
        stdin: { type: 'string' },
        timeout: { type: 'integer' },
      },
      oneOf: [{ required: ['cmd'] }, { required: ['argv'] }],
      additionalProperties: false,
    },
    async check(ctx: TaskCtx, a: CommandArgs) {
      // Whether the path is there, nothing more: no sha256 (false).
      if (a.creates && (await fileState(ctx, a.creates, false)).kind !== 'absent')
        return { skip: `${a.creates} exists` };
      if (a.removes && (await fileState(ctx, a.removes, false)).kind === 'absent')
        return { skip: `${a.removes} does not exist` };
      return { skip: false };
    },
    plan: (a, s) =>
      s.skip
        ? []
        : [
            {
              action: `run: ${a.cmd ?? (a.argv ?? []).join(' ')}`,
              effects: a.creates
                ? [{ kind: 'file', path: a.creates, state: 'file', sha256: '' }]
                : a.removes
                  ? [{ kind: 'file', path: a.removes, state: 'absent' }]
                  : [{ kind: 'other', what: 'command' }],
              always: true,
            },
          ],
    result: (_a, s) => ({ rc: 0, stdout: '', stderr: '', msg: s.skip ? `skipped, since ${s.skip}` : '' }),
    async apply(ctx, changes, a) {
      if (!changes.length) return;
      const words = a.argv ?? (shell ? [] : splitArgs(a.cmd!));
      // shell: the command is a script of its own; command: words, each quoted.
      let script = shell ? a.cmd! : sh`${words}`;
      if (a.chdir) script = sh`cd ${a.chdir} && ` + script;
      if (a.stdin !== undefined) script = sh`printf '%s\\n' ${a.stdin} | { ` + script + '\n}';
      const r = await ctx.host.run(script, { become: ctx.become, timeoutMs: a.timeout ? a.timeout * 1000 : undefined });
      const res = {
        rc: r.code,
        stdout: r.stdout.replace(/\n$/, ''),
        stderr: r.stderr.replace(/\n$/, ''),
        stdout_lines: r.stdout.split('\n').filter(Boolean),
        cmd: a.cmd ?? a.argv,
      };
      if (r.code !== 0) {
        const said = lastLines(r.stderr, 3) || lastLines(r.stdout, 3);
        const error = new TaskError(`non-zero return code ${r.code}: ${said}`, {
          code: r.code,
          stderr: r.stderr,
          stdout: r.stdout,
        });
        throw Object.assign(error, { result: res });
      }
      return res;
    },
  };
}

export const command = makeCommand(false);
export const shell = makeCommand(true);
