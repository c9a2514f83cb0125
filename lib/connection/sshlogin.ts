// The logins offered to a host, in OpenSSH's order: the agent's keys, then the key files (those named for the
// host, else the default identities that exist), then a password. Encrypted key files are used through the
// agent when it holds them, else with a passphrase asked on the terminal; without one they are skipped and the
// error says why. Labels name key files or "agent key N", never key material.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import type { AnyAuthMethod, AuthHandlerMiddleware, ParsedKey } from 'ssh2';
import { loadSsh2 } from './ssh2lib.js';

type Ssh2Utils = Awaited<ReturnType<typeof loadSsh2>>['utils'];

export interface LoginSources {
  user: string;
  /** SSH_AUTH_SOCK; none with IdentitiesOnly, as the agent's other keys are then not offered. */
  agent?: string;
  identityFiles: string[];
  password?: string;
}

export interface Logins {
  handler: AuthHandlerMiddleware;
  /** What will be offered, in order: for the unreachable message. */
  labels: string[];
}

export function defaultIdentities(): string[] {
  const dir = `${homedir()}/.ssh`;
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => `${dir}/${f}`).filter((f) => existsSync(f));
}

export async function prepareLogins(src: LoginSources): Promise<Logins> {
  const methods: AnyAuthMethod[] = [];
  const labels: string[] = [];
  const agentKeys = src.agent ? await agentIdentities(src.agent) : [];
  if (src.agent && agentKeys.length) {
    methods.push({ type: 'agent', username: src.user, agent: src.agent });
    agentKeys.forEach((_, i) => labels.push(`agent key ${i + 1}`));
  }
  const agentBlobs = new Set(agentKeys.map((k) => k.getPublicSSH().toString('base64')));
  for (const file of src.identityFiles) {
    const loaded = await loadKey(file, agentBlobs);
    if ('key' in loaded) {
      methods.push({ type: 'publickey', username: src.user, key: loaded.key });
      labels.push(file);
    } else labels.push(`${file} (${loaded.skipped})`);
  }
  if (src.password !== undefined) {
    const password = src.password;
    methods.push({ type: 'password', username: src.user, password });
    methods.push({
      type: 'keyboard-interactive',
      username: src.user,
      prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => password)),
    });
    labels.push('password');
  }
  let next = 0;
  const handler: AuthHandlerMiddleware = (_left, _partial, cb) => {
    const m = methods[next++];
    // No more methods: returning false makes ssh2 fail with "All configured authentication methods failed".
    if (!m) return false;
    cb(m);
  };
  return { handler, labels };
}

async function agentIdentities(sock: string): Promise<ParsedKey[]> {
  const { OpenSSHAgent } = await loadSsh2();
  return new Promise((resolve) => {
    try {
      new OpenSSHAgent(sock).getIdentities((err, keys) => resolve(err ? [] : parsedKeys(keys ?? [])));
    } catch {
      resolve([]);
    }
  });
}

function parsedKeys(keys: unknown[]): ParsedKey[] {
  return keys.filter((k): k is ParsedKey => typeof (k as ParsedKey).getPublicSSH === 'function');
}

// A key file is read, and its passphrase asked, once per process.
const loadedKeys = new Map<string, Promise<{ key: ParsedKey } | { skipped: string }>>();

function loadKey(file: string, agentBlobs: Set<string>): Promise<{ key: ParsedKey } | { skipped: string }> {
  let p = loadedKeys.get(file);
  if (!p) {
    p = loadKeyNow(file, agentBlobs);
    loadedKeys.set(file, p);
    // Only a key read is remembered: a missing or skipped file is looked at again next time.
    p.then((r) => 'skipped' in r && loadedKeys.delete(file));
  }
  return p;
}

async function loadKeyNow(file: string, agentBlobs: Set<string>): Promise<{ key: ParsedKey } | { skipped: string }> {
  if (!existsSync(file)) return { skipped: 'no such file' };
  const { utils } = await loadSsh2();
  const data = readFileSync(file);
  const plain = utils.parseKey(data);
  if (!(plain instanceof Error)) return { key: Array.isArray(plain) ? plain[0] : plain };
  if (!/passphrase|encrypted/i.test(plain.message)) return { skipped: `unreadable: ${plain.message}` };
  if (inAgent(utils, file, agentBlobs)) return { skipped: 'encrypted; its key is in the agent' };
  if (!process.stdin.isTTY)
    return { skipped: 'encrypted: add it to ssh-agent (ssh-add), no terminal to ask for its passphrase' };
  const passphrase = await askHidden(`Enter passphrase for key '${file}': `);
  const key = utils.parseKey(data, passphrase);
  if (key instanceof Error) return { skipped: `wrong passphrase` };
  return { key: Array.isArray(key) ? key[0] : key };
}

function inAgent(utils: Ssh2Utils, file: string, agentBlobs: Set<string>): boolean {
  if (!existsSync(`${file}.pub`)) return false;
  const pub = utils.parseKey(readFileSync(`${file}.pub`));
  if (pub instanceof Error) return false;
  const key = Array.isArray(pub) ? pub[0] : pub;
  return agentBlobs.has(key.getPublicSSH().toString('base64'));
}

// One prompt at a time: parallel connections must not read the terminal together.
let promptQueue: Promise<unknown> = Promise.resolve();

function askHidden(prompt: string): Promise<string> {
  const job = promptQueue.then(() => readHidden(prompt));
  promptQueue = job.catch(() => undefined);
  return job;
}

function readHidden(prompt: string): Promise<string> {
  const input = process.stdin;
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = () => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
    };
    const onData = (d: Buffer) => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          finish();
          return resolve(typed);
        }
        if (ch === '\u0003' || ch === '\u0004') {
          finish();
          return reject(new Error('passphrase prompt interrupted'));
        }
        typed = ch === '\u007f' ? typed.slice(0, -1) : typed + ch;
      }
    };
    process.stderr.write(prompt);
    input.setRawMode(true);
    input.resume();
    input.on('data', onData);
  });
}
