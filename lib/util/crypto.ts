// node:crypto, loaded when first used: loading it costs ~5 ms of start-up (issue 11), and a run on the local host
// needs of it only random nonces (connection/session.ts). It is required, not imported: an ESM import of it also
// loads Web Crypto, as Node 20 makes the module's ESM view by reading every export.
// Random bytes come from the kernel's generator (/dev/urandom, the source node:crypto's own generator seeds
// from) until node:crypto is loaded for something else; then from node:crypto, as before.
import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';

type NodeCrypto = typeof import('node:crypto');
type Used =
  | 'createCipheriv'
  | 'createDecipheriv'
  | 'createHash'
  | 'createHmac'
  | 'pbkdf2Sync'
  | 'randomBytes'
  | 'timingSafeEqual';

let loaded: NodeCrypto | undefined;
const load = (): NodeCrypto => (loaded ??= createRequire(import.meta.url)('node:crypto') as NodeCrypto);

/** A function of node:crypto that loads the module when called. */
function later<K extends Used>(name: K): NodeCrypto[K] {
  const call = (...args: unknown[]): unknown => (load()[name] as (...a: unknown[]) => unknown)(...args);
  return call as NodeCrypto[K];
}

/** randomBytes(size); with a callback, node:crypto's own. */
function randomBytes(size: number, ...callback: unknown[]): Buffer {
  if (callback.length) return (load().randomBytes as (...a: unknown[]) => Buffer)(size, ...callback);
  if (!loaded) {
    const bytes = Buffer.alloc(size);
    try {
      const fd = openSync('/dev/urandom', 'r');
      try {
        let got = 0;
        while (got < size) {
          const n = readSync(fd, bytes, got, size - got, null);
          if (n <= 0) break;
          got += n;
        }
        if (got === size) return bytes;
      } finally {
        closeSync(fd);
      }
    } catch {
      // No /dev/urandom here: node:crypto's generator.
    }
  }
  return load().randomBytes(size);
}

/** The functions of node:crypto that rmqplay uses. */
export const nodeCrypto: Pick<NodeCrypto, Used> = {
  createCipheriv: later('createCipheriv'),
  createDecipheriv: later('createDecipheriv'),
  createHash: later('createHash'),
  createHmac: later('createHmac'),
  pbkdf2Sync: later('pbkdf2Sync'),
  randomBytes: randomBytes as NodeCrypto['randomBytes'],
  timingSafeEqual: later('timingSafeEqual'),
};
