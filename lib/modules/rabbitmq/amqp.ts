// The one file that imports amqplib: durable, confirmed publishing and exact consumption,
// measured. Used by amqp_verify and by the end-to-end tests (failover, rolling restart).
// amqplib is loaded on the first connection (start-up time, issue 11): most runs never open one.
import type { ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { nodeCrypto } from '../../util/crypto.js';

const { createHash, randomBytes } = nodeCrypto;

export interface AmqpNode {
  name: string;
  host: string;
  port: number;
  /** amqps: the server's certificate is verified (against ca, else the system's CAs) for host. */
  tls?: { ca?: Buffer };
}
export interface Creds {
  user: string;
  password: string;
  vhost?: string;
}

/** amqplib's connect arguments: the URL parts and the socket options (TLS ones for amqps). */
export function connectOptions(node: AmqpNode, c: Creds, timeoutMs = 10_000) {
  const url = {
    protocol: node.tls ? 'amqps' : 'amqp',
    hostname: node.host,
    port: node.port,
    username: c.user,
    password: c.password,
    vhost: c.vhost ?? '/',
    heartbeat: 10,
  };
  // rejectUnauthorized stays on: a certificate that does not verify for this host is refused.
  const tls = node.tls
    ? { servername: node.host, rejectUnauthorized: true, ...(node.tls.ca ? { ca: [node.tls.ca] } : {}) }
    : {};
  return { url, socket: { timeout: timeoutMs, ...tls } };
}

export async function open(node: AmqpNode, c: Creds, timeoutMs = 10_000): Promise<ChannelModel> {
  const o = connectOptions(node, c, timeoutMs);
  const { connect } = await import('amqplib');
  const conn = await connect(o.url, o.socket);
  conn.on('error', () => undefined); // reported through the operations that fail
  return conn;
}

/** A durable quorum queue; replicas: how many nodes hold it (RabbitMQ 3.10 defaults to 3). */
export async function declareQuorum(conn: ChannelModel, queue: string, replicas?: number): Promise<void> {
  const ch = await conn.createChannel();
  ch.on('error', () => undefined);
  await ch.assertQueue(queue, {
    durable: true,
    arguments: { 'x-queue-type': 'quorum', ...(replicas ? { 'x-quorum-initial-group-size': replicas } : {}) },
  });
  await ch.close();
}

export interface PublishReport {
  sent: number;
  confirmed: number;
  nacked: number;
  returned: number;
  timedOut: number;
  latencies: number[];
  seconds: number;
  digests: Map<string, string>;
  confirmedIds: string[];
}

/** p, or an error after ms. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Publishes N persistent, mandatory messages on a ConfirmChannel, a callback each, with a timeout. */
export async function publishConfirmed(
  conn: ChannelModel,
  queue: string,
  n: number,
  timeoutMs = 30_000,
  startAt = 0,
): Promise<PublishReport> {
  // A connection whose node is going down may never answer the channel's opening: give up in time (a timer
  // that also keeps the process alive while it waits).
  const ch: ConfirmChannel = await within(conn.createConfirmChannel(), timeoutMs, 'opening a confirm channel');
  const rep: PublishReport = {
    sent: 0,
    confirmed: 0,
    nacked: 0,
    returned: 0,
    timedOut: 0,
    latencies: [],
    seconds: 0,
    digests: new Map(),
    confirmedIds: [],
  };
  const returned = new Set<string>();
  ch.on('return', (m: ConsumeMessage) => {
    returned.add(String(m.properties.messageId));
  });
  let channelError: Error | undefined;
  ch.on('error', (e: Error) => {
    channelError = e;
  });
  const start = process.hrtime.bigint();
  const acks: Promise<void>[] = [];
  for (let i = startAt; i < startAt + n; i++) {
    const id = String(i);
    const body = randomBytes(64 + (i % 192));
    rep.digests.set(id, createHash('sha256').update(body).digest('hex'));
    const t0 = process.hrtime.bigint();
    acks.push(
      new Promise<void>((resolve) => {
        const ok = ch.publish(
          '',
          queue,
          body,
          { persistent: true, mandatory: true, messageId: id, contentType: 'application/octet-stream' },
          (err: unknown) => {
            if (err) rep.nacked++;
            else if (returned.has(id)) rep.returned++;
            else {
              rep.confirmed++;
              rep.confirmedIds.push(id);
              rep.latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
            }
            resolve();
          },
        );
        void ok;
      }),
    );
    rep.sent++;
  }
  const all = Promise.all(acks);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    all.then(() => false),
    new Promise<boolean>((r) => {
      timer = setTimeout(() => r(true), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  rep.seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (timedOut) rep.timedOut = rep.sent - rep.confirmed - rep.nacked - rep.returned;
  else rep.returned = Math.max(rep.returned, [...returned].length);
  await ch.close().catch(() => undefined);
  if (channelError && rep.confirmed < rep.sent) throw channelError;
  return rep;
}

export interface ConsumeReport {
  received: number;
  duplicates: string[];
  corrupt: string[];
  missing: string[];
  unexpected: string[];
}

/** Consumes until every expected message arrived (or the timeout), acking each; checks bytes and duplicates. */
export async function consumeExactly(
  conn: ChannelModel,
  queue: string,
  expected: Map<string, string>,
  timeoutMs = 30_000,
): Promise<ConsumeReport> {
  const ch = await conn.createChannel();
  ch.on('error', () => undefined);
  await ch.prefetch(500);
  const seen = new Map<string, number>();
  const rep: ConsumeReport = { received: 0, duplicates: [], corrupt: [], missing: [], unexpected: [] };
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    let found = 0;
    const done = () => {
      if (found === expected.size) {
        clearTimeout(timer);
        setTimeout(resolve, 300);
      }
    };
    ch.consume(
      queue,
      (m) => {
        if (m === null) {
          clearTimeout(timer);
          resolve();
          return;
        } // queue deleted
        const id = String(m.properties.messageId);
        rep.received++;
        seen.set(id, (seen.get(id) ?? 0) + 1);
        if (seen.get(id) === 2) rep.duplicates.push(id);
        const want = expected.get(id);
        if (want !== undefined && seen.get(id) === 1) found++;
        if (want === undefined) rep.unexpected.push(id);
        else if (createHash('sha256').update(m.content).digest('hex') !== want) rep.corrupt.push(id);
        ch.ack(m);
        done();
      },
      { noAck: false },
    ).catch(() => resolve());
    done();
  });
  rep.missing = [...expected.keys()].filter((k) => !seen.has(k));
  await ch.close().catch(() => undefined);
  return rep;
}

export async function deleteQueue(conn: ChannelModel, queue: string): Promise<void> {
  const ch = await conn.createChannel();
  ch.on('error', () => undefined);
  await ch.deleteQueue(queue).catch(() => undefined);
  await ch.close().catch(() => undefined);
}

export function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
