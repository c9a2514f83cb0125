// known_hosts as OpenSSH reads it: plain and hashed (|1|salt|hash) names, [host]:port, wildcard and negated
// patterns, case-insensitive names, @revoked and @cert-authority markers; and accept-new's append, serialised
// in this process and locked against other processes.
import { nodeCrypto } from '../util/crypto.js';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { dirname } from 'node:path';

const { createHash, createHmac } = nodeCrypto;

export interface KnownKey {
  type: string;
  /** The key blob in base64, as known_hosts holds it. */
  key: string;
}

export interface KnownHost {
  keys: KnownKey[];
  revoked: KnownKey[];
  authorities: KnownKey[];
}

/** The name OpenSSH looks up: the host alone on port 22, else [host]:port; lowercased. */
export function hostLookupName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** Every line of the files that names this host. */
export function lookupHost(files: string[], host: string, port: number): KnownHost {
  const name = hostLookupName(host, port);
  const out: KnownHost = { keys: [], revoked: [], authorities: [] };
  for (const file of files) {
    if (!existsSync(file)) continue;
    for (const raw of readFileSync(file, 'utf8').split('\n')) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const parts = line.split(/\s+/);
      const marker = parts[0].startsWith('@') ? parts.shift() : undefined;
      const [hostsField, type, key] = parts;
      if (!key || !hostsMatch(hostsField, name)) continue;
      const entry = { type, key };
      if (marker === '@revoked') out.revoked.push(entry);
      else if (marker === '@cert-authority') out.authorities.push(entry);
      else if (!marker) out.keys.push(entry);
    }
  }
  return out;
}

/** The keys known for a host (no markers), in base64. */
export function knownKeys(file: string, host: string, port: number): string[] {
  return lookupHost([file], host, port).keys.map((k) => k.key);
}

function hostsMatch(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return digest === hash;
  }
  let matched = false;
  for (const raw of field.split(',')) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).toLowerCase();
    if (!globMatch(pattern, name)) continue;
    // A negated pattern that matches rules the whole line out, as in OpenSSH's match_hostname().
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** OpenSSH's patterns: `*` any run of characters, `?` one character. */
export function globMatch(pattern: string, text: string): boolean {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  const source = escaped.replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(text);
}

/** The key type written inside an SSH public key blob (its first string). */
export function blobType(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** SHA256:... as OpenSSH prints a fingerprint. */
export function fingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

// One append at a time per file in this process; the lock file covers other processes.
const appendQueues = new Map<string, Promise<unknown>>();

/** accept-new: appends the host's key unless a line for it was written meanwhile; true when it was appended. */
export function appendKnownHost(file: string, host: string, port: number, blob: Buffer): Promise<boolean> {
  const previous = appendQueues.get(file) ?? Promise.resolve();
  const job = previous.then(() => withLock(file, () => appendIfNew(file, host, port, blob)));
  appendQueues.set(
    file,
    job.catch(() => undefined),
  );
  return job;
}

function appendIfNew(file: string, host: string, port: number, blob: Buffer): boolean {
  const key = blob.toString('base64');
  // Re-read under the lock: another connection may have written the same key.
  if (lookupHost([file], host, port).keys.some((k) => k.key === key)) return false;
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const name = hostLookupName(host, port);
  // One write() with O_APPEND: a line never interleaves with another writer's.
  appendFileSync(file, `${needsNewline(file) ? '\n' : ''}${name} ${blobType(blob)} ${key}\n`, { mode: 0o600 });
  return true;
}

function needsNewline(file: string): boolean {
  if (!existsSync(file)) return false;
  const text = readFileSync(file);
  return text.length > 0 && text[text.length - 1] !== 0x0a;
}

const LOCK_WAIT_MS = 10_000;
const LOCK_STALE_MS = 30_000;

async function withLock<T>(file: string, fn: () => T): Promise<T> {
  const lock = `${file}.lock`;
  const start = Date.now();
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (isStale(lock)) unlinkQuietly(lock);
      else if (Date.now() - start > LOCK_WAIT_MS) throw new Error(`${lock} is held by another process`);
      else await new Promise((r) => setTimeout(r, 20));
    }
  }
  try {
    return fn();
  } finally {
    unlinkQuietly(lock);
  }
}

function isStale(lock: string): boolean {
  try {
    return Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS;
  } catch {
    return false;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
