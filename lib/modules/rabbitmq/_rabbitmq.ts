// Shared by the rabbitmq_* tasks: rabbitmqctl calls, and the check-mode rule that a node the package would
// install cannot be read yet. What the tasks read of a node comes from its snapshot (_snapshot.ts).
import { TaskError, UnknownState } from '../../util/errors.js';
import { sh } from '../../connection/quote.js';
import { TaskCtx } from '../task.js';
import { Change } from '../pending.js';
import { dataOf } from '../builtin/_change.js';
import { lastLines } from '../builtin/_output.js';
import { nodeNameOf } from '../../util/nodenames.js';

export const PKG = 'rabbitmq-server';

/** One rabbitmqctl command's exit code and output (stdout and stderr). */
export interface CtlAnswer {
  code: number;
  out: string;
}

/** The hosts of the play (the cluster's nodes). */
function playHosts(ctx: TaskCtx): string[] {
  return (ctx.vars.ansible_play_hosts as string[]) ?? [];
}

/** The node name of an inventory host (util/nodenames.ts: rabbitmq_nodename, else rabbit@<short name>). */
export function nodeName(ctx: TaskCtx, host: string): string {
  const hv = (ctx.vars.hostvars ?? {}) as Record<string, Record<string, unknown> | undefined>;
  try {
    return nodeNameOf(host, Object.prototype.hasOwnProperty.call(hv, host) ? (hv[host] ?? {}) : {});
  } catch (e) {
    throw new TaskError((e as Error).message);
  }
}

/** In check mode: a node the package would install cannot be read yet (unknown). A stopped node
 *  that an earlier task would start is read through its running peers (cluster-wide state is the
 *  same there), so the prediction stays exact. Returns the peers to ask, or undefined for this node. */
export function needNode(ctx: TaskCtx, what: string): string[] | undefined {
  const pkg = ctx.pending.package(PKG);
  if (pkg) throw new UnknownState(`${what} depends on ${ctx.pending.describe(pkg)}`);
  return peersIfStopped(ctx, what);
}

/** Check mode: every node of the play would have the package installed by this run, so the cluster
 *  will be brand new and its definitions are those of an empty database. */
export function brandNewCluster(ctx: TaskCtx): boolean {
  const hosts = playHosts(ctx);
  return hosts.length > 0 && hosts.every((h) => ctx.pendingOf(h).package(PKG));
}

/** Check mode: another host of the play would still change (so cluster-wide checks must wait). */
export function playHostsPending(ctx: TaskCtx): string[] {
  return playHosts(ctx).filter((h) => !ctx.pendingOf(h).empty);
}

function peersIfStopped(ctx: TaskCtx, what: string): string[] | undefined {
  const start = ctx.pending.find((e) => e.kind === 'service' && e.name === PKG && e.fromStopped === true);
  if (!start) return undefined;
  const self = ctx.host.name;
  const peers = playHosts(ctx)
    .filter((h) => h !== self)
    .map((h) => nodeName(ctx, h));
  if (!peers.length) throw new UnknownState(`${what} depends on ${ctx.pending.describe(start)}`);
  return peers;
}

/** The rest of rmqctl_any: the first peer that answers wins; else the last answer, and failure. */
const ASK_PEER =
  `out=$(rabbitmqctl -n "$n" "$@" 2>&1) && { printf '%s' "$out"; return 0; }; done; ` +
  `printf '%s' "$out"; return 1; }`;

/** Runs several rabbitmqctl commands in one round trip; each output is returned by its key. */
export async function ctl(
  ctx: TaskCtx,
  cmds: Record<string, string>,
  what: string,
  peers?: string[],
): Promise<Record<string, CtlAnswer>> {
  const r = await ctx.host.run(ctlScript(cmds, peers), { become: ctx.become, timeoutMs: 120_000 });
  return ctlAnswers(r.stdout, r.stderr, Object.keys(cmds), what);
}

/** The script that runs rabbitmqctl commands and prints each one's key, exit code and output, NUL-separated. */
function ctlScript(cmds: Record<string, string>, peers?: string[]): string {
  // Through peers: the first running one answers.
  const viaPeers = peers ? sh`rmqctl_any() { for n in ${peers}; do ` + ASK_PEER + '\n' : '';
  // cmds[k] is a script of its own (its values already quoted), so it is not quoted again.
  const run = (k: string) => (peers ? cmds[k].replace(/\brabbitmqctl\b/g, 'rmqctl_any') : cmds[k]);
  const answer = (k: string) => 'out=$(' + run(k) + sh` 2>&1); printf '%s\\0%s\\0%s\\0' ${k} "$?" "$out"`;
  return viaPeers + Object.keys(cmds).map(answer).join('\n');
}

function ctlAnswers(stdout: string, stderr: string, keys: string[], what: string): Record<string, CtlAnswer> {
  const parts = stdout.split('\0');
  const res: Record<string, CtlAnswer> = {};
  for (let i = 0; i + 2 < parts.length; i += 3) res[parts[i]] = { code: Number(parts[i + 1]), out: parts[i + 2] };
  for (const k of keys) if (!res[k]) throw new TaskError(`${what}: no answer from the host for ${k}`, { stderr });
  return res;
}

/** An Erlang term written into an expression: a string is a binary (its UTF-8 bytes, as rabbitmqctl passes its
 *  arguments), a number an integer, { map } a map with atom keys. */
export type ErlTerm = string | number | ErlTerm[] | { map: [key: string, value: ErlTerm][] };

/** A change to a node: the rabbitmqctl command that makes it, and the function that command calls on the node
 *  with the same arguments (RabbitMQ 3.10's CLI, deps/rabbitmq_cli/lib/rabbitmq/cli/ctl/commands/), the acting
 *  user ("rmq-cli", as the CLI names itself) added last. */
export interface CtlChange {
  ctl: string;
  call: [module: string, fn: string, args: ErlTerm[]];
}

export function ctlChange(ctl: string, module: string, fn: string, args: ErlTerm[]): CtlChange {
  return { ctl, call: [module, fn, [...args, 'rmq-cli']] };
}

function erlTerm(t: ErlTerm): string {
  if (typeof t === 'string') return `<<${[...Buffer.from(t, 'utf8')].join(',')}>>`;
  if (typeof t === 'number') {
    if (!Number.isSafeInteger(t)) throw new TaskError(`${t} is not an integer`);
    return String(t);
  }
  if (Array.isArray(t)) return `[${t.map(erlTerm).join(',')}]`;
  return `#{${t.map.map(([k, v]) => `${k} => ${erlTerm(v)}`).join(', ')}}`;
}

const APPLIED = 'rmqplay-applied';

/** One expression that calls each change's function in turn and stops at the first that does not answer ok or
 *  {ok, _}: "rmqplay-applied ok", or "rmqplay-applied error I TERM" for change I (ASCII only). */
function applyExpr(changes: CtlChange[]): string {
  const ops = changes.map(({ call: [m, f, args] }) => `{${m}, ${f}, ${erlTerm(args)}}`);
  return [
    `Ops = [${ops.join(',\n')}],`,
    `Run = fun R([], _) -> "${APPLIED} ok";`,
    '  R([{M, F, A} | T], I) ->',
    '    case catch erlang:apply(M, F, A) of',
    '      ok -> R(T, I + 1);',
    '      {ok, _} -> R(T, I + 1);',
    `      Other -> lists:flatten(io_lib:format("${APPLIED} error ~b ~0p", [I, Other]))`,
    '    end',
    'end,',
    '[if C > 126; C < 32 -> $?; true -> C end || C <- Run(Ops, 0)].',
    '',
  ].join('\n');
}

/** Applies a task's changes to its node in one round trip: through erl_call, one expression that calls what each
 *  rabbitmqctl command would (milliseconds instead of a second of Erlang start-up per command), else the
 *  rabbitmqctl commands themselves (erlCallOr says when). A failure names its change. */
export async function applyCtl(ctx: TaskCtx, changes: Change<CtlChange>[], what: string): Promise<void> {
  const data = changes.map(dataOf);
  const cmds: Record<string, string> = {};
  data.forEach((d, i) => {
    cmds[`c${i}`] = d.ctl;
  });
  const script = erlCallOr(applyExpr(data), APPLIED, ctlScript(cmds));
  const r = await ctx.host.run(script, { become: ctx.become, timeoutMs: 120_000 });
  if (r.stdout.startsWith(APPLIED)) {
    const failed = /^\S+ error (\d+) (.*)/s.exec(r.stdout.trim());
    if (failed) throw new TaskError(`${changes[Number(failed[1])].action} failed: ${failed[2]}`);
    return;
  }
  const answers = ctlAnswers(r.stdout, r.stderr, Object.keys(cmds), what);
  changes.forEach((c, i) => mustOk(answers[`c${i}`], c.action));
}

export function json<T>(out: string, what: string): T {
  // The JSON is what rabbitmqctl prints last; log lines may come first ("12:00:00 [error] ... {:badrpc, ...}"
  // when a node of the cluster does not answer), so it is read from the first line that parses to the end.
  for (const m of out.matchAll(/^\s*[[{]/gm)) {
    try {
      return JSON.parse(out.slice(m.index)) as T;
    } catch {
      // not this line
    }
  }
  throw new TaskError(
    `${what}: rabbitmqctl did not answer with JSON: ${lastLines(out, 3)}. ` +
      'Is the node running? (systemctl status rabbitmq-server)',
  );
}

export function mustOk(r: CtlAnswer, what: string): string {
  if (r.code !== 0) throw new TaskError(`${what} failed (exit ${r.code}): ${lastLines(r.out, 4)}`);
  return r.out;
}

/** erl_call on the local node as the rabbitmq user (its cookie), the expression on stdin; prints {ok, Term}. */
export const ERL_CALL = 'runuser -u rabbitmq -- env HOME=/var/lib/rabbitmq erl_call -sname rabbit -e 2>/dev/null';

/** A script that asks the running node with erl_call (in erlang-base, which RabbitMQ needs): expr must return a
 *  string that starts with mark, and the script prints it as one line. erl_call joins the node as a hidden C node:
 *  about 15 ms, where rabbitmqctl first boots an Erlang VM (about 1 s on the lab's hosts). It runs as the
 *  rabbitmq user, so it reads the node's cookie from that user's home, never from a command line. It asks the
 *  default node, rabbit@<short hostname>; anything else (another node name, no runuser, not root, a node that does
 *  not answer, an expression that fails) runs fallback, a rabbitmqctl command that knows RABBITMQ_NODENAME.
 *  erl_call prints the string as {ok, "..."} with every character as it is: expr returns ASCII only. */
export function erlCallOr(expr: string, mark: string, fallback: string): string {
  const ask = sh`erl=$(printf '%s\n' ${expr} | ` + ERL_CALL + `); ok='{ok, "'; end='"}'; `;
  const answered = sh`("$ok"${mark}*) erl=\${erl#"$ok"}; printf '%s\n' "\${erl%"$end"}";;`;
  return ask + 'case "$erl" in ' + answered + ' (*) ' + fallback + '; esac';
}

/** `printf %s SECRET | rabbitmqctl ...`: the secret goes through stdin, never on a command line we print. */
export function withStdin(secret: string, cmd: string): string {
  return sh`printf '%s' ${secret} | ` + cmd;
}

const locks = new Map<string, Promise<unknown>>();
/** Runs fn for one host at a time across the run (joins and restarts must not overlap). */
export async function oneAtATime<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(key) ?? Promise.resolve();
  const next = prev.catch(() => undefined).then(fn);
  locks.set(key, next);
  return next;
}
