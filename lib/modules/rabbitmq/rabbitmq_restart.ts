// Restarts rabbitmq-server when its configuration is newer than the running node (so a
// handler notified on a fresh install, where the package started the node with the final
// files, does nothing). A node that does not boot with its new config gets the previous
// config back (DEST.rmqplay-prev), is started with it, and the task fails with the node's own message.
import { TaskError } from '../../util/errors.js';
import { sh } from '../../connection/quote.js';
import { TaskCtx, TaskType } from '../task.js';
import { ERL_CALL, oneAtATime, PKG } from './_rabbitmq.js';
import { copyOverScript } from '../builtin/_write.js';

interface RestartArgs {
  config_files?: string[];
  config?: string;
  force?: boolean;
}
interface RestartState {
  /** false: the package is not installed (a handler left pending by a run that failed before installing it). */
  installed?: boolean;
  active: boolean;
  since: number;
  newest: number;
  newestFile: string;
  pendingFile?: string;
}

const FILES = [
  '/etc/rabbitmq/rabbitmq.conf',
  '/etc/rabbitmq/rabbitmq-env.conf',
  '/etc/rabbitmq/enabled_plugins',
  '/etc/rabbitmq/advanced.config',
  '/var/lib/rabbitmq/.erlang.cookie',
];

const RESTART = `systemctl restart ${PKG} && rabbitmqctl await_startup --timeout 120 >/dev/null`;
/** Waits up to 2 minutes until stopping this node leaves every quorum queue a majority (exit 1: it never did). */
const WAIT_NOT_QUORUM_CRITICAL = `systemctl is-active -q ${PKG} || exit 0
for i in $(seq 1 60); do
  rabbitmq-diagnostics -q check_if_node_is_quorum_critical >/dev/null 2>&1 && exit 0; sleep 2
done; exit 1`;
const LOG = '/var/log/rabbitmq/rabbitmq-server.log';
/** The node's peers that are connected to it and whose rabbit application does not run (yet). */
const PEERS_DOWN =
  '[N || N <- rabbit_nodes:all(), N =/= node(), lists:member(N, nodes()), ' +
  'rpc:call(N, rabbit, is_running, [], 5000) =/= true].';
/** After a restart, waits up to a minute until the peers it is connected to run their rabbit application again:
 *  with pause_minority, a peer left alone while this node restarted (another node cut off) pauses, and resumes
 *  once this one is back. The next restart, or the next task on that peer, waits for that. Asked through
 *  erl_call (milliseconds); where erl_call cannot ask (another node name), it does not wait. */
const WAIT_PEERS =
  sh`for i in $(seq 1 60); do
  erl=$(printf '%s\n' ${PEERS_DOWN} | ` +
  ERL_CALL +
  `)
  case "$erl" in ('{ok, []}') exit 0;; ('{ok, '*) sleep 1;; (*) exit 0;; esac
done; exit 1`;

/** Whether the package is installed, whether the node runs, and since when (seconds since the epoch; 0: never). */
const INSTALLED = `dpkg-query -W -f='\${Status}\\n' ${PKG} 2>/dev/null | grep -q ' installed$'`;
const NODE_SINCE = `{ ${INSTALLED} && echo installed || echo absent; }
systemctl is-active ${PKG} || true
date -d "$(systemctl show -p ActiveEnterTimestamp --value ${PKG})" +%s 2>/dev/null || echo 0`;

export const rabbitmq_restart: TaskType<RestartArgs, RestartState> = {
  name: 'rabbitmq_restart',
  schema: {
    type: 'object',
    properties: {
      config_files: { type: 'array', items: { type: 'string' } },
      config: { type: 'string' },
      force: { type: 'boolean' },
    },
    additionalProperties: false,
  },
  async check(ctx, a) {
    const files = a.config_files ?? FILES;
    const mtime = `[ -e "$f" ] && printf '%s %s\\n' "$(stat -c %Y "$f")" "$f"`;
    const mtimes = sh`for f in ${files}; do ` + mtime + '; done; true';
    const r = await ctx.host.run(NODE_SINCE + '\n' + mtimes, { become: ctx.become });
    const [installed, active, since, ...rest] = r.stdout.trim().split('\n');
    let newest = 0,
      newestFile = '';
    for (const l of rest) {
      const [t, f] = l.split(' ');
      if (Number(t) > newest) {
        newest = Number(t);
        newestFile = f;
      }
    }
    const st: RestartState = {
      installed: installed === 'installed',
      active: active === 'active',
      since: Number(since) || 0,
      newest,
      newestFile,
    };
    // Check mode: the package's install scripts start the node with whatever files exist then,
    // so a restart is needed only for a file that would be written after the package.
    const pkgAt = ctx.pending.lastIndex((e) => e.kind === 'package' && e.name === PKG && e.state === 'present');
    if (pkgAt >= 0) {
      const fileAt = ctx.pending.lastIndex((e) => e.kind === 'file' && files.includes(e.path));
      return fileAt > pkgAt
        ? { ...st, active: true, since: 0, pendingFile: files.find((f) => ctx.pending.file(f)) }
        : { ...st, active: true, since: Infinity };
    }
    // A node that an earlier task would start (it was stopped) starts with the new files: no restart.
    if (ctx.pending.find((e) => e.kind === 'service' && e.name === PKG && e.fromStopped === true))
      return { ...st, active: true, since: Infinity };
    const pendFile = files.find((f) => ctx.pending.file(f));
    if (pendFile) st.pendingFile = pendFile;
    return st;
  },
  plan(a, s) {
    // Not installed (and not about to be: check mode's pending package sets active): nothing to restart; the
    // package starts the node with the files as they are then.
    if (s.installed === false && !s.active) return [];
    const why = a.force
      ? 'asked to'
      : !s.active
        ? 'the node is not running'
        : s.pendingFile
          ? `${s.pendingFile} would change`
          : s.newest > s.since
            ? `${s.newestFile} changed after the node started`
            : '';
    return why
      ? [{ action: `restart ${PKG} (${why})`, effects: [{ kind: 'service', name: PKG, active: true }], always: true }]
      : [];
  },
  // One node at a time across the cluster, and only when stopping it keeps every quorum queue
  // available: restarting every node at once (a config change on all of them) loses the majority.
  apply: (ctx, changes, a) => oneAtATime('rabbitmq-restart', () => restartOne(ctx, a)),
};

async function restartOne(ctx: TaskCtx, a: RestartArgs): Promise<void> {
  const wait = await ctx.host.run(WAIT_NOT_QUORUM_CRITICAL, { become: ctx.become, timeoutMs: 300_000 });
  if (wait.code !== 0)
    throw new TaskError(
      `not restarting ${PKG}: for 2 minutes, stopping this node would have left quorum queues without a majority ` +
        '(rabbitmq-diagnostics check_if_node_is_quorum_critical). Bring the other nodes back, then run again.',
    );
  const conf = a.config ?? '/etc/rabbitmq/rabbitmq.conf';
  // The node explains a failed boot in its prelaunch log, not in the journal: read what is new there.
  const lines = await ctx.host.run(`wc -l < ${LOG} 2>/dev/null || echo 0`, { become: ctx.become });
  const mark = Number(lines.stdout.trim()) || 0;
  const r = await ctx.host.run(RESTART, { become: ctx.become, timeoutMs: 300_000 });
  if (r.code === 0) {
    // Peers still paused after a minute are left to the tasks that read them (they wait for them too).
    await ctx.host.run(WAIT_PEERS, { become: ctx.become, timeoutMs: 120_000 });
    return;
  }
  // The new [error] lines, without their timestamps, each once.
  const errors =
    sh`tail -n +${mark + 1} ${LOG} 2>/dev/null | ` +
    `grep '\\[error\\]' | sed 's/^[^]]*\\] <[^>]*> *//' | grep -v '^ *$' | awk '!seen[$0]++' | head -n 8`;
  const said = (await ctx.host.run(errors, { become: ctx.become })).stdout.trim();
  const prev = `${conf}.rmqplay-prev`;
  const failed = conf + '.rmqplay-failed';
  const keepFailed = copyOverScript(conf, failed);
  const putBack = copyOverScript(prev, conf);
  const restore = sh`[ -f ${prev} ] || exit 4` + `\n(${keepFailed})\n(${putBack}) && ` + RESTART;
  const rb = await ctx.host.run(restore, { become: ctx.become, timeoutMs: 300_000 });
  const rolled =
    rb.code === 0
      ? `the previous ${conf} was restored and the node runs with it (the failed one is kept as ${failed})`
      : rb.code === 4
        ? 'there was no previous config to restore'
        : 'restoring the previous config did not bring it back either';
  const output = said || r.stderr.trim() || r.stdout.trim() || `nothing in ${LOG}; see journalctl -u ${PKG}`;
  throw new TaskError(
    `rabbitmq-server did not start with its new configuration; ${rolled}. The node said:\n    ` +
      output.split('\n').join('\n    '),
  );
}
