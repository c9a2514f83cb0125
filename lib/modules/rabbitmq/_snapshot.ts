// One read of a RabbitMQ node per run: a single `rabbitmqctl eval` (one Erlang VM start-up, the cost of any
// rabbitmqctl command) returns as JSON everything the rabbitmq_* tasks plan from: cluster membership, alarms,
// partitions, users with their tags and password hashes, permissions, vhosts, policies, feature flags and
// plugins. It is kept per host in the run's shared values (TaskCtx.shared): tasks of one host that ask while it
// is read wait for the same read, and any change applied by any task of the run drops it (cluster-wide
// definitions changed on one node are seen on all), so the next read is fresh.
// Passwords are checked here, on the controller, against the node's salted hash: they never leave this process.
import { TaskError } from '../../util/errors.js';
import { nodeCrypto } from '../../util/crypto.js';
import { sh } from '../../connection/quote.js';
import { TaskCtx } from '../task.js';
import { lastLines } from '../builtin/_output.js';
import { brandNewCluster, ctl, erlCallOr, needNode } from './_rabbitmq.js';

/** A part of the snapshot the node could not read (its rabbit application stopped, ...). */
export interface Unread {
  error: string;
}
export interface ClusterPart {
  /** null: not readable (the rabbit application is stopped). */
  name: string | null;
  all: string[];
  disc: string[];
  running: string[];
}
export interface SnapUser {
  name: string;
  tags: string[];
  /** The Erlang module that hashed the password (rabbit_password_hashing_sha256 ...). */
  hashing: string;
  /** base64 of the 4-byte salt and the hash; null: no password. Never printed. */
  hash: string | null;
}
export interface SnapPermission {
  user: string;
  vhost: string;
  configure: string;
  write: string;
  read: string;
}
export interface SnapVhost {
  name: string;
  /** null: none set (classic). */
  default_queue_type: string | null;
}
export interface SnapPolicy {
  vhost: string;
  name: string;
  pattern: string;
  apply_to: string;
  definition: Record<string, unknown> | unknown[];
  priority: number;
}
export interface SnapFlag {
  name: string;
  state: string;
  stability: string;
}
export interface SnapPlugins {
  /** What enabled_plugins lists (as rabbitmq-plugins means "explicitly enabled"). */
  enabled: string[];
  /** Running on the node (the enabled ones and their dependencies). */
  running: string[];
}

/** What the eval prints, each part as read or as the error reading it. */
export interface Snapshot {
  node: string;
  rabbit_running: boolean;
  cluster: ClusterPart | Unread;
  alarms: string[] | Unread;
  partitions: { node: string; peers: string[] }[] | Unread;
  users: SnapUser[] | Unread;
  permissions: SnapPermission[] | Unread;
  vhosts: SnapVhost[] | Unread;
  policies: SnapPolicy[] | Unread;
  feature_flags: SnapFlag[] | Unread;
  plugins: SnapPlugins | Unread;
}
type Part = Exclude<keyof Snapshot, 'node' | 'rabbit_running'>;
export type Read<K extends Part> = Exclude<Snapshot[K], Unread>;

const MARK = 'RMQPLAY-SNAPSHOT ';

/** The Erlang expression (RabbitMQ 3.10's internal API; maps with binary keys, encoded by rabbit_json with
 *  non-ASCII escaped). The parts are read at once, each in its own process: one that fails or does not answer
 *  within 20 s (a node cut off: alarms and partitions ask every running node) says why instead of failing or
 *  delaying the others past that. */
const SNAPSHOT_BODY = `
B = fun(A) when is_atom(A) -> atom_to_binary(A, utf8); (A) -> A end,
P = fun(K, L) -> proplists:get_value(K, L) end,
Run = fun() -> rabbit_mnesia:cluster_nodes(running) end,
Me = self(),
Go = fun(F) -> R = make_ref(), {R, spawn(fun() -> Me ! {R, try {ok, F()} catch C:E ->
  {error, iolist_to_binary(io_lib:format("~0p: ~0p", [C, E]))} end} end)} end,
Until = erlang:monotonic_time(millisecond) + 20000,
Get = fun({R, Pid}) -> receive {R, {ok, V}} -> V; {R, {error, M}} -> #{<<"error">> => M}
  after max(0, Until - erlang:monotonic_time(millisecond)) ->
  exit(Pid, kill), #{<<"error">> => <<"no answer within 20 s">>} end end,
Parts = [
  {<<"cluster">>, fun() -> #{<<"name">> => try rabbit_nodes:cluster_name() catch _:_ -> null end,
    <<"all">> => [B(N) || N <- rabbit_mnesia:cluster_nodes(all)],
    <<"disc">> => [B(N) || N <- rabbit_mnesia:cluster_nodes(disc)],
    <<"running">> => [B(N) || N <- Run()]} end},
  {<<"alarms">>, fun() -> [iolist_to_binary(io_lib:format("~0p", [A])) || N <- Run(),
    A <- case rpc:call(N, rabbit, alarms, [], 15000) of L when is_list(L) -> L; _ -> [] end] end},
  {<<"partitions">>, fun() -> [#{<<"node">> => B(N), <<"peers">> => [B(X) || X <- Xs]}
    || {N, Xs} <- rabbit_node_monitor:partitions(Run()), Xs =/= []] end},
  {<<"users">>, fun() -> [#{<<"name">> => internal_user:get_username(U),
    <<"tags">> => [B(T) || T <- internal_user:get_tags(U)],
    <<"hashing">> => B(internal_user:get_hashing_algorithm(U)),
    <<"hash">> => case internal_user:get_password_hash(U) of H when is_binary(H) -> base64:encode(H); _ -> null end}
    || U <- rabbit_auth_backend_internal:all_users()] end},
  {<<"permissions">>, fun() -> [#{<<"user">> => P(user, X), <<"vhost">> => P(vhost, X),
    <<"configure">> => P(configure, X), <<"write">> => P(write, X), <<"read">> => P(read, X)}
    || X <- rabbit_auth_backend_internal:list_permissions()] end},
  {<<"vhosts">>, fun() -> [#{<<"name">> => vhost:get_name(V), <<"default_queue_type">> =>
    case vhost:get_metadata(V) of #{default_queue_type := T} -> B(T); _ -> null end}
    || V <- rabbit_vhost:all()] end},
  {<<"policies">>, fun() -> [#{<<"vhost">> => P(vhost, X), <<"name">> => P(name, X),
    <<"pattern">> => P(pattern, X), <<"apply_to">> => P('apply-to', X),
    <<"definition">> => P(definition, X), <<"priority">> => P(priority, X)} || X <- rabbit_policy:list()] end},
  {<<"feature_flags">>, fun() -> [#{<<"name">> => B(P(name, F)), <<"state">> => B(P(state, F)),
    <<"stability">> => B(P(stability, F))} || F <- rabbit_ff_extra:cli_info()] end},
  {<<"plugins">>, fun() -> #{
    <<"enabled">> => [B(X) || X <- rabbit_plugins:read_enabled(rabbit_plugins:enabled_plugins_file())],
    <<"running">> => [B(X) || X <- rabbit_plugins:active()]} end}],
Started = [{K, Go(F)} || {K, F} <- Parts],
S = maps:from_list([{<<"node">>, B(node())}, {<<"rabbit_running">>, rabbit:is_running()}
  | [{K, Get(W)} || {K, W} <- Started]]),
`;

/** For `rabbitmqctl eval`: the snapshot printed as one line. */
export const SNAPSHOT_EXPR =
  SNAPSHOT_BODY + 'io:put_chars([<<"' + MARK + '">>, rabbit_json:encode(S, [uescape]), <<"\\n">>]).\n';

/** For erl_call: the same line returned as a string, which erl_call prints as {ok, "..."} (JSON with non-ASCII
 *  escaped, so every character is printed as it is). */
export const ERL_CALL_EXPR =
  SNAPSHOT_BODY + 'binary_to_list(iolist_to_binary([<<"' + MARK + '">>, rabbit_json:encode(S, [uescape])])).\n';

/** The shell command that prints the snapshot: erl_call, else rabbitmqctl eval (_rabbitmq.ts, erlCallOr). */
export const SNAPSHOT_CMD = erlCallOr(ERL_CALL_EXPR, MARK, sh`rabbitmqctl eval ${SNAPSHOT_EXPR}`);

/** The snapshot in what `rabbitmqctl eval` printed (its line, whatever the CLI prints around it). */
export function parseSnapshot(out: string, where: string): Snapshot {
  const line = out.split('\n').find((l) => l.startsWith(MARK));
  if (line === undefined) {
    throw new TaskError(
      `${where}: rabbitmqctl eval printed no snapshot: ${lastLines(out, 3)}. ` +
        'Is the node running? (systemctl status rabbitmq-server)',
    );
  }
  try {
    return JSON.parse(line.slice(MARK.length)) as Snapshot;
  } catch {
    // Not its text: it holds password hashes.
    throw new TaskError(`${where}: the node's snapshot is not JSON (${line.length} characters; cut short?)`);
  }
}

/** A part of the snapshot, or a TaskError saying why the node could not read it. */
export function part<K extends Part>(s: Snapshot, key: K, what: string): Read<K> {
  const v = s[key];
  if (v && typeof v === 'object' && !Array.isArray(v) && 'error' in v && typeof v.error === 'string') {
    const app = s.rabbit_running
      ? ''
      : ` Its rabbit application is not running (rabbitmqctl start_app, or systemctl status rabbitmq-server).`;
    throw new TaskError(`${what}: ${s.node} could not read its ${key.replace('_', ' ')}: ${v.error}.${app}`);
  }
  return v as Read<K>;
}

/** The snapshot of this host's node (or, through peers, of the first that answers), read once per run and
 *  again after any change; fresh: read again now (waiting for the cluster to settle). */
export async function snapshot(
  ctx: TaskCtx,
  what: string,
  opts: { peers?: string[]; fresh?: boolean } = {},
): Promise<Snapshot> {
  const { peers, fresh } = opts;
  const key = ['rabbitmq snapshot', ctx.host.name, ctx.become?.user ?? '', ...(peers ?? [])].join(' ');
  const read = async () => {
    const r = await ctl(ctx, { snap: SNAPSHOT_CMD }, `${what}: reading RabbitMQ`, peers);
    if (r.snap.code !== 0) {
      const said = lastLines(r.snap.out, 3);
      if (r.snap.code === 127)
        throw new TaskError(`${what}: rabbitmqctl is not installed on ${ctx.host.name} (package rabbitmq-server)`);
      throw new TaskError(
        peers
          ? `${what}: none of the running peers (${peers.join(', ')}) answered rabbitmqctl: ${said}`
          : `${what}: the RabbitMQ node on ${ctx.host.name} does not answer rabbitmqctl (exit ${r.snap.code}): ` +
              `${said}. Is it running? (systemctl status rabbitmq-server)`,
      );
    }
    return parseSnapshot(r.snap.out, what);
  };
  // A node whose VM answers while its rabbit application is not running is booting, or paused by
  // pause_minority while a peer restarts (a rolling restart with a node cut off): it is read again, once a
  // second, for up to APP_WAIT_MS, before the tasks see the parts it could not read.
  const settled = async () => {
    const until = Date.now() + APP_WAIT_MS;
    for (;;) {
      const s = await read();
      if (s.rabbit_running !== false || Date.now() >= until) return s;
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  return fresh ? ctx.shared.refresh(key, settled) : ctx.shared.get(key, settled);
}

const APP_WAIT_MS = 30_000;

/** The start of a cluster-wide read in check and real runs: undefined for a cluster this run would create
 *  (every node gets the package: its definitions are those of an empty database), else the snapshot, read
 *  through the peers when this node would be started by an earlier task (check mode). */
export async function clusterSnapshot(ctx: TaskCtx, subject: string): Promise<Snapshot | undefined> {
  if (brandNewCluster(ctx)) return undefined;
  const peers = needNode(ctx, subject);
  return snapshot(ctx, subject, { peers });
}

/** The hash functions of RabbitMQ's rabbit_password_hashing_* modules (none: md5, the oldest default). */
const HASHES: Record<string, string> = {
  rabbit_password_hashing_sha256: 'sha256',
  rabbit_password_hashing_sha512: 'sha512',
  rabbit_password_hashing_md5: 'md5',
  undefined: 'md5',
};

/** The password as rabbitmqctl reads it from stdin (add_user, change_password and authenticate_user alike):
 *  its first line, trimmed. */
export const asReadFromStdin = (password: string) => password.split('\n')[0].trim();

/** Whether password is the user's, as the internal backend decides (hash of the 4-byte salt and the UTF-8
 *  password); undefined: a hashing this does not know (ask the node: authenticate_user). */
export function passwordMatches(u: SnapUser, password: string): boolean | undefined {
  const algorithm = HASHES[u.hashing];
  if (!algorithm) return undefined;
  if (!u.hash) return false;
  const stored = Buffer.from(u.hash, 'base64');
  if (stored.length <= 4) return false;
  const salt = stored.subarray(0, 4);
  const got = nodeCrypto.createHash(algorithm).update(salt).update(asReadFromStdin(password), 'utf8').digest();
  const want = stored.subarray(4);
  return got.length === want.length && nodeCrypto.timingSafeEqual(got, want);
}
