// Proof that the cluster keeps durable, confirmed messages: from the machine running rmqplay,
// log in to every active node, declare a durable quorum queue (unique per run) and check it has a
// replica on each, publish N persistent mandatory messages with confirms through one node,
// consume them through another and check each arrived exactly once with the same bytes.
// Check mode: only the logins (or skipped when earlier tasks would still change the host).
import { nodeCrypto } from '../../util/crypto.js';
import { readFileSync } from 'node:fs';
import type { ChannelModel } from 'amqplib';
import { SkipTask, TaskError } from '../../util/errors.js';
import { AmqpNode, consumeExactly, declareQuorum, deleteQueue, open, percentile, publishConfirmed } from './amqp.js';
import { sh } from '../../connection/quote.js';
import { TaskCtx, TaskType } from '../task.js';
import { nodeName } from './rabbitmq_cluster.js';
import { erlCallOr, json, playHostsPending } from './_rabbitmq.js';

const { randomBytes } = nodeCrypto;

interface VerifyArgs {
  user: string;
  password: string;
  vhost?: string;
  nodes?: string[];
  port?: number;
  /** amqps (RabbitMQ's TLS listener, 5671 by default), verified against ca_file or the system's CAs. */
  tls?: boolean;
  ca_file?: string;
  messages?: number;
  timeout?: number;
}
interface VerifyState {
  nodes: AmqpNode[];
}

export function nodesOf(ctx: TaskCtx, a: VerifyArgs): AmqpNode[] {
  const hv = ctx.vars.hostvars as Record<string, Record<string, unknown>>;
  const names = a.nodes ?? (ctx.vars.ansible_play_hosts as string[]);
  const ca = a.ca_file ? readFileSync(ctx.findFile('files', a.ca_file)) : undefined;
  const tls = a.tls ? { tls: ca ? { ca } : {} } : {};
  const defaultPort = (n: string) =>
    a.tls ? Number(hv[n]?.rabbitmq_amqps_port ?? 5671) : Number(hv[n]?.rabbitmq_amqp_port ?? 5672);
  return names.map((n) => ({
    name: n,
    host: String(hv[n]?.rabbitmq_amqp_host ?? hv[n]?.ansible_host ?? n),
    port: a.port ?? defaultPort(n),
    ...tls,
  }));
}

/** A node that has just started, or is coming back from a pause (pause_minority, while a peer restarts), refuses
 *  connections for a few seconds although the cluster reads it as running: a refused connection is tried again,
 *  once a second for up to 30 s. Anything else (a wrong password, a timeout) fails at once. */
async function openPatiently(n: AmqpNode, creds: Parameters<typeof open>[1]): Promise<ChannelModel> {
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      return await open(n, creds);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'ECONNREFUSED' && code !== 'ECONNRESET') || Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function loginAll(nodes: AmqpNode[], a: VerifyArgs): Promise<Map<string, ChannelModel>> {
  const conns = new Map<string, ChannelModel>();
  const failures: string[] = [];
  await Promise.all(
    nodes.map(async (n) => {
      try {
        conns.set(n.name, await openPatiently(n, { user: a.user, password: a.password, vhost: a.vhost }));
      } catch (e) {
        failures.push(`${n.name} (${n.host}:${n.port}): ${(e as Error).message}`);
      }
    }),
  );
  if (failures.length) {
    for (const c of conns.values()) await c.close().catch(() => undefined);
    const port = nodes[0]?.port ?? 5672;
    throw new TaskError(
      `AMQP login failed on ${failures.join('; ')}. ` +
        `Check that the node runs, that port ${port} is reachable from here, ` +
        'and the user and password (rabbitmq_verify_user/rabbitmq_verify_password).',
    );
  }
  return conns;
}

const MEMBERS = 'RMQPLAY-MEMBERS ';

/** An Erlang binary literal of a string (UTF-8). */
const erlBinary = (v: string) => '<<"' + v.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"/utf8>>';

/** The script that prints the members of a quorum queue: its line from erl_call, else rabbitmqctl's list. */
function membersScript(vhost: string, queue: string): string {
  const members = 'proplists:get_value(members, rabbit_amqqueue:info(A, [members]), [])';
  const json = `rabbit_json:encode([atom_to_binary(N, utf8) || N <- ${members}], [uescape])`;
  const expr =
    `case rabbit_amqqueue:lookup(rabbit_misc:r(${erlBinary(vhost)}, queue, ${erlBinary(queue)})) of ` +
    `{ok, A} -> binary_to_list(iolist_to_binary([<<"${MEMBERS}">>, ${json}])); E -> E end.\n`;
  return erlCallOr(expr, MEMBERS, sh`rabbitmqctl list_queues -p ${vhost} name members --formatter json`);
}

/** The members of the queue in what membersScript printed. */
function membersOf(out: string, queue: string): string[] {
  const line = out.split('\n').find((l) => l.startsWith(MEMBERS));
  if (line !== undefined) return JSON.parse(line.slice(MEMBERS.length)) as string[];
  // rabbitmqctl's JSON, read past any log lines before it ("[error] ..."), as the other tasks read it.
  const listed = json<{ name: string; members: string[] }[]>(out, `listing the members of ${queue}`);
  return listed.find((x) => x.name === queue)?.members ?? [];
}

export const amqp_verify: TaskType<VerifyArgs, VerifyState> = {
  name: 'amqp_verify',
  schema: {
    type: 'object',
    properties: {
      user: { type: 'string' },
      password: { type: 'string' },
      vhost: { type: 'string' },
      nodes: { type: 'array', items: { type: 'string' } },
      port: { type: 'integer', minimum: 1, maximum: 65535 },
      tls: { type: 'boolean' },
      ca_file: { type: 'string' },
      messages: { type: 'integer', minimum: 1, maximum: 1000000 },
      timeout: { type: 'integer', minimum: 1 },
    },
    required: ['user', 'password'],
    additionalProperties: false,
  },
  validate(args, find) {
    if (args.ca_file !== undefined && (args.tls === undefined || args.tls === false))
      return 'amqp_verify: ca_file needs tls: true';
    if (args.ca_file !== undefined && !String(args.ca_file).includes('{{')) find('files', args.ca_file);
    return undefined;
  },
  async check(ctx, a) {
    const busy = playHostsPending(ctx);
    if (busy.length)
      throw new SkipTask(
        `earlier tasks would change ${busy.join(', ')} first; the messages can only be verified after a real run`,
      );
    const nodes = nodesOf(ctx, a);
    const conns = await loginAll(nodes, a);
    for (const c of conns.values()) await c.close().catch(() => undefined);
    return { nodes };
  },
  plan: () => [],
  result: (_a, s) => ({ msg: `AMQP login accepted by ${s.nodes.map((n) => n.name).join(', ')}` }),
  async apply() {},
  async verify(ctx, a, s) {
    const n = a.messages ?? 1000;
    const timeoutMs = (a.timeout ?? 60) * 1000;
    const queue = `rmqplay.verify.${Date.now()}.${randomBytes(3).toString('hex')}`;
    const conns = await loginAll(s.nodes, a);
    const [pubNode, conNode] = [s.nodes[0], s.nodes[1] ?? s.nodes[0]];
    const pub = conns.get(pubNode.name)!,
      con = conns.get(conNode.name)!;
    try {
      // Replicas on every node of the play, those out of reach of this run included (a host whose SSH failed
      // may still run its RabbitMQ): RabbitMQ picks the members, and every active node must be one of them.
      const all = (ctx.vars.ansible_play_hosts_all as string[] | undefined) ?? [];
      await declareQuorum(pub, queue, a.nodes ? s.nodes.length : Math.max(s.nodes.length, all.length));
      // The replicas are listed (one rabbitmqctl start-up) while the messages go through: the same checks,
      // about a second sooner. A listing that fails is reported after the messages, as the task's failure.
      const listing = ctx.host.run(membersScript(a.vhost ?? '/', queue), { become: ctx.become, timeoutMs: 60_000 });
      listing.catch(() => undefined);
      const p = await publishConfirmed(pub, queue, n, timeoutMs);
      if (p.nacked || p.returned || p.timedOut || p.confirmed !== n)
        throw new TaskError(
          `publishing through ${pubNode.name}: ${p.confirmed}/${n} confirmed, ${p.nacked} nacked, ` +
            `${p.returned} returned, ${p.timedOut} without an answer after ${a.timeout ?? 60} s`,
        );
      const c = await consumeExactly(con, queue, p.digests, timeoutMs);
      const bad = [
        c.missing.length && `${c.missing.length} lost`,
        c.duplicates.length && `${c.duplicates.length} duplicated`,
        c.corrupt.length && `${c.corrupt.length} with other bytes`,
        c.unexpected.length && `${c.unexpected.length} unexpected`,
      ].filter(Boolean);
      if (bad.length)
        throw new TaskError(`consuming through ${conNode.name}: ${bad.join(', ')} of ${n} confirmed messages`);
      const members = membersOf((await listing).stdout, queue);
      const want = s.nodes.map((x) => nodeName(ctx, x.name));
      const missingReplica = want.filter((m) => !members.includes(m));
      if (missingReplica.length)
        throw new TaskError(
          `quorum queue ${queue} has no replica on ${missingReplica.join(', ')} ` +
            `(members: ${members.join(', ') || 'none'}): is every node in the cluster and running?`,
        );
      const p50 = percentile(p.latencies, 50),
        p99 = percentile(p.latencies, 99);
      const rate = Math.round(n / p.seconds);
      return {
        messages: n,
        queue,
        replicas: members,
        published_via: pubNode.name,
        consumed_via: conNode.name,
        confirm_p50_ms: Number(p50.toFixed(2)),
        confirm_p99_ms: Number(p99.toFixed(2)),
        throughput_msg_s: rate,
        msg:
          `${n} persistent messages confirmed via ${pubNode.name} and consumed exactly once via ${conNode.name}; ` +
          `replicas on ${members.length} nodes; ` +
          `confirm p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms; ${rate} msg/s`,
      };
    } finally {
      await deleteQueue(con, queue).catch(() => undefined);
      for (const c of conns.values()) await c.close().catch(() => undefined);
    }
  },
};
