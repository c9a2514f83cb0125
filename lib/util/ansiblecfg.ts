// Ansible's configuration file, read as Ansible picks it: ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg,
// /etc/ansible/ansible.cfg; the first that exists is the only one read. Only [defaults] keys are used here.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';

/** The ansible.cfg Ansible would read, if any. */
export function ansibleCfgPath(): string | undefined {
  const candidates = [
    process.env.ANSIBLE_CONFIG,
    'ansible.cfg',
    `${homedir()}/.ansible.cfg`,
    '/etc/ansible/ansible.cfg',
  ];
  return candidates.find((f): f is string => !!f && existsSync(f));
}

/** A [defaults] value of that file (`key = value` or `key: value`), or undefined. */
export function ansibleDefault(key: string): string | undefined {
  const file = ansibleCfgPath();
  if (!file) return undefined;
  let section = '';
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    const header = /^\[(.+)\]$/.exec(line);
    if (header) section = header[1].trim();
    const kv = /^([A-Za-z_]+)\s*[=:]\s*(.*)$/.exec(line);
    if (section === 'defaults' && kv && kv[1].toLowerCase() === key) return kv[2].trim();
  }
  return undefined;
}

/** A path value of [defaults]: ~ expanded, relative to the file's folder as Ansible resolves it. */
export function ansibleDefaultPath(key: string): string | undefined {
  const v = ansibleDefault(key);
  if (!v) return undefined;
  const home = v.replace(/^~(?=$|\/)/, homedir());
  return isAbsolute(home) ? home : resolve(dirname(ansibleCfgPath()!), home);
}
