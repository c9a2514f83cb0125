// Every value known to be secret is registered here and masked in all output, in the forms it takes
// on its way there: as written, JSON-escaped, shell-quoted, URL-encoded, base64 (at any alignment
// inside a longer base64 text), and line by line when it spans lines (as --diff shows it).
import { setOwn } from './objects.js';

export const MASK = '********';
const secrets = new Set<string>();
let pattern: RegExp | undefined;
const SECRET_NAME = /(password|passwd|passphrase|secret|cookie|token|private_key|vault|(^|_)pass(_|$))/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** Registers a secret value: any string that is not empty, numbers as their text. */
export function addSecret(value: unknown): void {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || text === '' || secrets.has(text)) return;
  secrets.add(text);
  pattern = undefined;
}

/** Walks variables and registers every string under a secret-looking name. */
export function collectSecrets(vars: unknown, underSecret = false): void {
  if (typeof vars === 'string' || typeof vars === 'number') {
    if (underSecret) addSecret(vars);
    return;
  }
  if (Array.isArray(vars)) {
    for (const v of vars) collectSecrets(v, underSecret);
    return;
  }
  if (vars && typeof vars === 'object') {
    for (const [k, v] of Object.entries(vars)) collectSecrets(v, underSecret || isSecretName(k));
  }
}

/** Every string inside a value becomes a secret: a vault file's values (any length), or a no_log task's
 *  result (long enough to be told apart from ordinary words such as "ok" or "0"). */
export function collectAllStrings(value: unknown, minLength = 4): void {
  if (typeof value === 'string') {
    if (value.trim().length >= minLength) addSecret(minLength > 1 ? value.trim() : value);
  } else if (Array.isArray(value)) value.forEach((v) => collectAllStrings(v, minLength));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => collectAllStrings(v, minLength));
}

/** The forms a secret takes on its way to an output. */
export function secretForms(s: string): string[] {
  const forms = new Set<string>([s]);
  forms.add(JSON.stringify(s).slice(1, -1));
  forms.add(s.replace(/'/g, `'\\''`));
  forms.add(encodeURIComponent(s));
  forms.add(encodeURIComponent(s).replace(/%20/g, '+'));
  for (const f of base64Forms(s)) forms.add(f);
  if (s.includes('\n')) for (const line of s.split('\n')) if (line.trim()) forms.add(line);
  forms.delete('');
  return [...forms];
}

/** base64 of the secret at the three alignments it can have inside a longer base64 text: the
 *  characters that depend on the secret's bytes alone. */
function base64Forms(s: string): string[] {
  const bytes = Buffer.from(s);
  const out = [bytes.toString('base64')];
  for (let pad = 0; pad < 3; pad++) {
    const b64 = Buffer.concat([Buffer.alloc(pad), bytes, Buffer.alloc(3)]).toString('base64');
    const start = Math.ceil((pad * 4) / 3);
    const end = Math.floor(((pad + bytes.length) * 4) / 3);
    const core = b64.slice(start, end);
    if (core.length >= 4) out.push(core);
  }
  return out;
}

function secretPattern(): RegExp | undefined {
  if (!secrets.size) return undefined;
  if (!pattern) {
    const forms = [...new Set([...secrets].flatMap(secretForms))].sort((a, b) => b.length - a.length);
    pattern = new RegExp(forms.map((f) => f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|'), 'g');
  }
  return pattern;
}

export function redact(text: string): string {
  const re = secretPattern();
  return re ? text.replace(re, MASK) : text;
}

export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map(redactDeep) as T;
  if (value && typeof value === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const hidden = isSecretName(k) && (typeof v === 'string' || typeof v === 'number');
      setOwn(o, k, hidden ? MASK : redactDeep(v));
    }
    return o as T;
  }
  return value;
}
