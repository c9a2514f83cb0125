// Ansible vault, format 1.1 and 1.2 (with a vault id), byte-compatible with ansible-vault:
//   $ANSIBLE_VAULT;1.1;AES256            or   $ANSIBLE_VAULT;1.2;AES256;ID
//   hex( hex(salt) "\n" hex(hmac) "\n" hex(ciphertext) ), in lines of 80 characters.
// Keys: PBKDF2-HMAC-SHA256(password, salt, 10000 rounds, 80 bytes) = AES key (32) | HMAC key (32) | IV (16);
// AES-256-CTR over the PKCS#7-padded plaintext; HMAC-SHA256 of the ciphertext.
import { nodeCrypto } from './crypto.js';
import { VaultError } from './errors.js';

const { createCipheriv, createDecipheriv, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } = nodeCrypto;

export const VAULT_HEADER = '$ANSIBLE_VAULT';

// Defined in errors.ts, so that the command line's error handling does not load this file (issue 11).
export { VaultError };

export function isVaulted(text: string): boolean {
  return text.trimStart().startsWith(VAULT_HEADER + ';');
}

interface Keys {
  aes: Buffer;
  hmac: Buffer;
  iv: Buffer;
}

function deriveKeys(password: string, salt: Buffer): Keys {
  const km = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, 10000, 80, 'sha256');
  return { aes: km.subarray(0, 32), hmac: km.subarray(32, 64), iv: km.subarray(64, 80) };
}

function pad(data: Buffer): Buffer {
  const n = 16 - (data.length % 16);
  return Buffer.concat([data, Buffer.alloc(n, n)]);
}

function unpad(data: Buffer): Buffer {
  const n = data[data.length - 1];
  if (!n || n > 16 || n > data.length) return data;
  return data.subarray(0, data.length - n);
}

/** The vault id of a vaulted text (1.2), or undefined (1.1). */
export function vaultId(text: string): string | undefined {
  const header = text.trimStart().split('\n')[0].trim().split(';');
  return header[0] === VAULT_HEADER && header[1] === '1.2' ? header[3] : undefined;
}

/** Encrypts as ansible-vault does; with an id, in format 1.2. */
export function encrypt(plain: Buffer | string, password: string, id?: string, salt = randomBytes(32)): string {
  const keys = deriveKeys(password, salt);
  const cipher = createCipheriv('aes-256-ctr', keys.aes, keys.iv);
  const ct = Buffer.concat([cipher.update(pad(Buffer.from(plain))), cipher.final()]);
  const mac = createHmac('sha256', keys.hmac).update(ct).digest();
  const inner = [salt, mac, ct].map((b) => b.toString('hex')).join('\n');
  const body = Buffer.from(inner)
    .toString('hex')
    .replace(/(.{80})/g, '$1\n')
    .trimEnd();
  const header = id ? `${VAULT_HEADER};1.2;AES256;${id}` : `${VAULT_HEADER};1.1;AES256`;
  return `${header}\n${body}\n`;
}

/** Decrypts a vaulted text with one of the passwords (by vault id when the text names one). */
export function decrypt(text: string, passwords: VaultPasswords): Buffer {
  const lines = text.trim().split('\n');
  const header = lines[0].trim().split(';');
  if (header[0] !== VAULT_HEADER || !['1.1', '1.2'].includes(header[1]) || header[2] !== 'AES256') {
    throw new VaultError(`not an Ansible vault (format 1.1 or 1.2, AES256): ${lines[0].slice(0, 40)}`);
  }
  const id = header[1] === '1.2' ? header[3] : undefined;
  const candidates = passwords.candidates(id);
  if (!candidates.length) throw new VaultError(noPasswordMessage(id));
  const inner = Buffer.from(lines.slice(1).join('').replace(/\s/g, ''), 'hex').toString();
  const [saltHex, macHex, ctHex] = inner.split('\n');
  if (!saltHex || !macHex || !ctHex) throw new VaultError('the vault data is damaged');
  const salt = Buffer.from(saltHex, 'hex');
  const ct = Buffer.from(ctHex, 'hex');
  for (const password of candidates) {
    const keys = deriveKeys(password, salt);
    const mac = createHmac('sha256', keys.hmac).update(ct).digest();
    const want = Buffer.from(macHex, 'hex');
    if (mac.length !== want.length || !timingSafeEqual(mac, want)) continue;
    const decipher = createDecipheriv('aes-256-ctr', keys.aes, keys.iv);
    return unpad(Buffer.concat([decipher.update(ct), decipher.final()]));
  }
  const which = id ? ` for vault id "${id}"` : '';
  throw new VaultError(`no vault password given${which} decrypts it (wrong password?)`);
}

function noPasswordMessage(id?: string): string {
  const ways = '--vault-password-file FILE, --ask-vault-pass, --vault-id ID@FILE or ANSIBLE_VAULT_PASSWORD_FILE';
  return `this is encrypted with ansible-vault${id ? ` (vault id "${id}")` : ''}: give its password with ${ways}`;
}

/** The vault passwords of a run, by vault id ("default" for those given without one). */
export class VaultPasswords {
  private byId = new Map<string, string[]>();

  add(id: string | undefined, password: string): void {
    const key = id ?? 'default';
    this.byId.set(key, [...(this.byId.get(key) ?? []), password]);
  }

  get empty(): boolean {
    return this.byId.size === 0;
  }

  /** As Ansible: the passwords of the text's vault id first, then every other one. */
  candidates(id?: string): string[] {
    const first = id ? (this.byId.get(id) ?? []) : [];
    const rest = [...this.byId.entries()].filter(([k]) => k !== id).flatMap(([, v]) => v);
    return [...first, ...rest];
  }

  /** The password to encrypt with: the given id's, or the only one there is. */
  forEncryption(id?: string): string {
    const own = id ? this.byId.get(id)?.[0] : undefined;
    const any = [...this.byId.values()].flat()[0];
    const pw = own ?? any;
    if (pw === undefined) throw new VaultError(noPasswordMessage(id));
    return pw;
  }
}

let runPasswords = new VaultPasswords();

/** The passwords every vaulted file and !vault value of this run is decrypted with. */
export function setVaultPasswords(p: VaultPasswords): void {
  runPasswords = p;
}

/** A vaulted text decrypted with the run's passwords; every line of it is a secret. */
export function decryptForRun(text: string): string {
  const plain = decrypt(text, runPasswords).toString('utf8');
  return plain;
}
