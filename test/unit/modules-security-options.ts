// Issue 8, points 7 and 8, without a cluster:
// - the lab refuses --nodes beyond its /24 (node K gets .10+K: .254 is node244);
// - amqp_verify with tls: amqplib gets an amqps URL and socket options with the CA; against a local TLS
//   server with a throwaway certificate, the AMQP header arrives inside TLS when the CA matches, and the
//   connection is refused when it does not (no broker here: the AMQP login itself is not reached).
import t from 'tap';
import { thrown } from '../helpers.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { createServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLabArgs } from '../../dist/lib/lab/cli.js';
import { OptionsError } from '../../dist/lib/util/errors.js';
import { connectOptions, open } from '../../dist/lib/modules/rabbitmq/amqp.js';
import { amqp_verify, nodesOf } from '../../dist/lib/modules/rabbitmq/amqp_verify.js';

t.test('lab: --nodes within the subnet', async (t) => {
  t.equal(parseLabArgs(['--nodes', '244']).nodes, 244, '244 nodes: node244 is .254');
  for (const n of ['245', '250']) {
    const e = thrown(() => parseLabArgs(['--nodes', n]));
    t.ok(e instanceof OptionsError, `--nodes ${n}: an OptionsError`);
    t.match(String((e as Error)?.message), /1 to 244.*\.254/, 'saying why');
  }
});

const creds = { user: 'u', password: 'p' };

t.test('amqp_verify: connection options for amqp and amqps', async (t) => {
  const plain = connectOptions({ name: 'n1', host: '10.0.0.1', port: 5672 }, creds);
  t.equal(plain.url.protocol, 'amqp');
  t.same(plain.socket, { timeout: 10_000 }, 'no TLS options without tls');
  const ca = Buffer.from('-----BEGIN CERTIFICATE-----\n...');
  const tls = connectOptions({ name: 'n1', host: 'node1', port: 5671, tls: { ca } }, creds, 5000);
  t.equal(tls.url.protocol, 'amqps');
  t.equal(tls.url.port, 5671);
  t.same(tls.socket, { timeout: 5000, servername: 'node1', rejectUnauthorized: true, ca: [ca] });
  const sys = connectOptions({ name: 'n1', host: 'node1', port: 5671, tls: {} }, creds);
  t.notOk('ca' in sys.socket, "without ca_file: the system's CAs");
});

t.test('amqp_verify: tls arguments become nodes with TLS on 5671', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-tls-'));
  writeFileSync(join(dir, 'ca.pem'), 'CA');
  const ctx = {
    vars: {
      hostvars: { n1: { ansible_host: '10.0.0.1' }, n2: { rabbitmq_amqps_port: 6671 } },
      ansible_play_hosts: ['n1', 'n2'],
    },
    findFile: (_k: string, name: string) => join(dir, name),
  };
  const args = { user: 'u', password: 'p', tls: true, ca_file: 'ca.pem' };
  const nodes = nodesOf(ctx as never, args);
  t.same(
    nodes.map((n) => [n.host, n.port, n.tls?.ca?.toString()]),
    [
      ['10.0.0.1', 5671, 'CA'],
      ['n2', 6671, 'CA'],
    ],
  );
  const plain = nodesOf(ctx as never, { user: 'u', password: 'p' });
  t.same(
    plain.map((n) => [n.port, n.tls]),
    [
      [5672, undefined],
      [5672, undefined],
    ],
  );
  const find = () => 'x';
  t.match(amqp_verify.validate!({ ...args, tls: false }, find), /ca_file needs tls/);
  t.equal(amqp_verify.validate!(args, find), undefined);
});

/** A TLS server on loopback with a throwaway self-signed certificate for "localhost". */
function tlsServer(dir: string) {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const subject = ['-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'];
  const req = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-keyout', key, '-out', cert];
  execFileSync('openssl', [...req, ...subject], { stdio: 'ignore' });
  const received: Buffer[] = [];
  const server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (s) => {
    s.on('data', (d: Buffer) => {
      received.push(d);
      s.destroy();
    });
    s.on('error', () => undefined);
  });
  return { server, received, cert: readFileSync(cert) };
}

t.test('amqp_verify: amqps to a local TLS server', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-tls-'));
  const { server, received, cert } = tlsServer(dir);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const good = await open({ name: 'n', host: 'localhost', port, tls: { ca: cert } }, creds, 5000).catch((e) => e);
    t.ok(good instanceof Error, 'no broker behind it: the AMQP handshake fails after TLS');
    const header = Buffer.concat(received).subarray(0, 8);
    t.same([...header], [...Buffer.from('AMQP\x00\x00\x09\x01', 'latin1')], 'the AMQP header arrived inside TLS');
    received.length = 0;
    const other = tlsServer(mkdtempSync(join(tmpdir(), 'rmqplay-tls-'))).cert;
    const bad = await open({ name: 'n', host: 'localhost', port, tls: { ca: other } }, creds, 5000).catch((e) => e);
    t.match(
      String(bad?.message ?? bad),
      /self.signed|certificate|verify/i,
      'a certificate the CA did not sign is refused',
    );
    t.equal(received.length, 0, 'and nothing was sent to it');
  } finally {
    server.close();
  }
});
