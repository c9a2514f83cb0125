import { setOwn } from './objects.js';
// Every value known to be secret is registered here and masked in all output.
const secrets = new Set<string>();
const SECRET_NAME = /(password|passwd|secret|cookie|token|private_key|vault)/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

export function addSecret(value: unknown): void {
  if (typeof value === 'string' && value.length >= 4) secrets.add(value);
}

/** Walks variables and registers every string under a secret-looking name. */
export function collectSecrets(vars: unknown, underSecret = false): void {
  if (typeof vars === 'string') {
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

export function redact(text: string): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join('********');
  return out;
}

export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map(redactDeep) as T;
  if (value && typeof value === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      setOwn(o, k, isSecretName(k) && typeof v === 'string' ? '********' : redactDeep(v));
    return o as T;
  }
  return value;
}
