// known_hosts lookup, plain and hashed (|1|salt|hash) entries, for host key verification.
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';

export function knownKeys(file: string, host: string, port: number): string[] {
  if (!existsSync(file)) return [];
  const names = port === 22 ? [host, `[${host}]:22`] : [`[${host}]:${port}`];
  const out: string[] = [];
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const parts = line.split(/\s+/);
    const [hostsField, , key] = parts[0].startsWith('@') ? parts.slice(1) : parts;
    if (!key) continue;
    if (hostsField.startsWith('|1|')) {
      const [, , salt, hash] = hostsField.split('|');
      if (names.some((n) => createHmac('sha1', Buffer.from(salt, 'base64')).update(n).digest('base64') === hash))
        out.push(key);
    } else if (hostsField.split(',').some((h) => names.includes(h))) out.push(key);
  }
  return out;
}
