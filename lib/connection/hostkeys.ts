// The host key check as OpenSSH makes it, on the key a host offered: @revoked keys refused; a known key
// accepted; a host not known at all refused (yes), or recorded (accept-new, no); a key that differs from the
// known ones refused, except with `no`, which accepts it and says so. Host certificates are not supported.
import { appendKnownHost, blobType, fingerprint, KnownHost } from './knownhosts.js';
import type { ServerHostKeyAlgorithm } from 'ssh2';
import { SshTarget } from './sshtarget.js';

/** OpenSSH's default order of host key algorithms. */
const HOST_KEY_ALGORITHMS: ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/** The algorithms of the key types known for the host first, as OpenSSH orders them, then the others. */
export function hostKeyOrder(knownTypes: string[]): ServerHostKeyAlgorithm[] {
  const known = new Set<string>(
    knownTypes.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', t] : [t])),
  );
  const preferred = HOST_KEY_ALGORITHMS.filter((a) => known.has(a));
  return [...preferred, ...HOST_KEY_ALGORITHMS.filter((a) => !known.has(a))];
}

/** Undefined when the key is accepted; otherwise why it is refused. */
export async function checkHostKey(t: SshTarget, known: KnownHost, blob: Buffer): Promise<string | undefined> {
  const key = blob.toString('base64');
  const offered = `${blobType(blob)} key ${fingerprint(blob)}`;
  const who = t.address === t.name ? `${t.address}:${t.port}` : `${t.name} (${t.address}:${t.port})`;
  if (known.revoked.some((k) => k.key === key)) return `host key of ${who} is REVOKED in known_hosts: ${offered}`;
  if (known.keys.some((k) => k.key === key)) return undefined;
  if (known.keys.length === 0) {
    if (t.strictHostKeys === 'yes') return unknownHost(t, who, offered, known);
    await record(t, blob, who);
    return undefined;
  }
  const knownTypes = [...new Set(known.keys.map((k) => k.type))].join(', ');
  if (t.strictHostKeys === 'no') {
    const warn = t.warn ?? ((line: string) => process.stderr.write(line + '\n'));
    warn(`rmqplay: WARNING: host key of ${who} has CHANGED, now ${offered}; accepted as StrictHostKeyChecking=no`);
    return undefined;
  }
  const why = 'the host was reinstalled or someone is in the middle: check it, then remove the old key (ssh-keygen -R)';
  return `host key of ${who} has CHANGED: it offers ${offered}, ${t.knownHostsFile} knows ${knownTypes}; ${why}`;
}

function unknownHost(t: SshTarget, who: string, offered: string, known: KnownHost): string {
  const todo = 'add it (ssh-keyscan) or set -o StrictHostKeyChecking=accept-new in ansible_ssh_common_args';
  const certs = known.authorities.length
    ? '; known_hosts has a @cert-authority line for it, but host certificates are not supported: add the key itself'
    : '';
  return `no host key known for ${who} in ${t.knownHostsFile}: it offers ${offered}; ${todo}${certs}`;
}

async function record(t: SshTarget, blob: Buffer, who: string): Promise<void> {
  try {
    await appendKnownHost(t.knownHostsFile, t.address, t.port, blob);
  } catch (e) {
    // As ssh: the connection goes on, the key is not recorded.
    const warn = t.warn ?? ((line: string) => process.stderr.write(line + '\n'));
    warn(`rmqplay: WARNING: cannot add the host key of ${who} to ${t.knownHostsFile}: ${(e as Error).message}`);
  }
}
