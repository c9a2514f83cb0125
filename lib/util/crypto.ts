// node:crypto, required: an ESM import of it also loads Web Crypto, as Node 20 makes the module's ESM view by
// reading every export; a run never uses it (start-up time, issue 11).
import { createRequire } from 'node:module';

export const nodeCrypto = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
