// Where vault passwords come from, as Ansible reads them: --vault-password-file FILE (an executable prints
// the password), --vault-id ID@FILE or ID@prompt, --ask-vault-pass, ANSIBLE_VAULT_PASSWORD_FILE, and ansible.cfg's
// vault_password_file.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { ansibleDefaultPath } from './ansiblecfg.js';
import { VaultError, VaultPasswords } from './vault.js';

export interface VaultSources {
  /** --vault-password-file, in order. */
  files: string[];
  /** --vault-id ID@SOURCE (or a bare SOURCE). */
  ids: string[];
  /** --ask-vault-pass. */
  ask: boolean;
}

export const noVaultSources = (): VaultSources => ({ files: [], ids: [], ask: false });

/** As Ansible: an executable password file is a script that prints the password. */
function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A password file's password: its first line, or what it prints when it is a script. */
export function passwordFromFile(file: string, id?: string): string {
  try {
    if (isExecutable(file)) {
      const args = id ? ['--vault-id', id] : [];
      return execFileSync(file, args, { encoding: 'utf8', stdio: ['inherit', 'pipe', 'inherit'] }).split('\n')[0];
    }
    return readFileSync(file, 'utf8').split('\n')[0].replace(/\r$/, '');
  } catch (e) {
    throw new VaultError(`cannot read the vault password from ${file}: ${(e as Error).message}`);
  }
}

/** The passwords of a run. `prompt` asks on the terminal (never echoed). */
export async function loadVaultPasswords(
  src: VaultSources,
  prompt: (question: string) => Promise<string> = askHidden,
  withDefault = true,
): Promise<VaultPasswords> {
  const out = new VaultPasswords();
  // As Ansible: the default password file (ANSIBLE_VAULT_PASSWORD_FILE, else ansible.cfg's vault_password_file)
  // is added after those given; not for a new password (rekey).
  const fallback = process.env.ANSIBLE_VAULT_PASSWORD_FILE || ansibleDefaultPath('vault_password_file');
  const files = withDefault && fallback && !src.files.includes(fallback) ? [...src.files, fallback] : src.files;
  for (const f of files) out.add(undefined, passwordFromFile(f));
  for (const spec of src.ids) {
    const at = spec.indexOf('@');
    const id = at >= 0 ? spec.slice(0, at) : undefined;
    const source = at >= 0 ? spec.slice(at + 1) : spec;
    const pw =
      source === 'prompt' ? await prompt(`Vault password (${id ?? 'default'}): `) : passwordFromFile(source, id);
    out.add(id, pw);
  }
  if (src.ask) out.add(undefined, await prompt('Vault password: '));
  return out;
}

/** Reads a line from the terminal without echoing it. */
export async function askHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw new VaultError('a vault password prompt needs a terminal: use --vault-password-file');
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let answer = '';
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolve(answer);
          return;
        }
        if (ch === '\u0003') {
          done();
          reject(new VaultError('interrupted'));
          return;
        }
        answer = ch === '\u007f' ? answer.slice(0, -1) : answer + ch;
      }
    };
    const done = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}
