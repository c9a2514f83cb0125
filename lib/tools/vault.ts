// rmqplay vault create|encrypt|decrypt|view|edit|encrypt_string|rekey, as ansible-vault does them and
// byte-compatible with it both ways.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { EXIT, OptionsError } from '../util/errors.js';
import { decrypt, encrypt, isVaulted, vaultId, VaultError } from '../util/vault.js';
import { loadVaultPasswords, noVaultSources, VaultSources } from '../util/vaultpass.js';

export const VAULT_USAGE = `Usage: rmqplay vault ACTION [options] [FILE...]
  create FILE            edit a new encrypted file in $EDITOR
  encrypt FILE...        encrypt in place (--output F, "-" for stdout)
  decrypt FILE...        decrypt in place (--output F, "-" for stdout)
  view FILE...           print decrypted
  edit FILE              edit decrypted in $EDITOR, encrypt again
  encrypt_string [TEXT]  print "NAME: !vault |" for a value (--name NAME; TEXT from stdin when absent)
  rekey FILE...          encrypt again with --new-vault-password-file F or --new-vault-id ID@F
Passwords: --vault-password-file F, --vault-id ID@F (or ID@prompt), --ask-vault-pass, ANSIBLE_VAULT_PASSWORD_FILE.
With --encrypt-vault-id ID, new files are format 1.2 with that id.
`;

interface VaultArgs {
  action: string;
  files: string[];
  output?: string;
  name?: string;
  encryptId?: string;
  sources: VaultSources;
  newSources: VaultSources;
}

function parseVaultArgs(argv: string[]): VaultArgs {
  const [action, ...rest] = argv;
  const a: VaultArgs = { action, files: [], sources: noVaultSources(), newSources: noVaultSources() };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const value = () => {
      if (i + 1 >= rest.length) throw new OptionsError(`vault: ${arg} needs a value`);
      return rest[++i];
    };
    if (arg === '--vault-password-file') a.sources.files.push(value());
    else if (arg === '--vault-id') a.sources.ids.push(value());
    else if (arg === '--ask-vault-pass' || arg === '-J') a.sources.ask = true;
    else if (arg === '--new-vault-password-file') a.newSources.files.push(value());
    else if (arg === '--new-vault-id') a.newSources.ids.push(value());
    else if (arg === '--output') a.output = value();
    else if (arg === '--name' || arg === '-n') a.name = value();
    else if (arg === '--encrypt-vault-id') a.encryptId = value();
    else if (arg.startsWith('-') && arg !== '-') throw new OptionsError(`vault: unknown option ${arg}`);
    else a.files.push(arg);
  }
  return a;
}

/** The id new encryptions get: --encrypt-vault-id, else the only --vault-id given with one. */
function encryptionId(a: VaultArgs, sources: VaultSources): string | undefined {
  if (a.encryptId) return a.encryptId;
  const named = sources.ids.filter((s) => s.includes('@')).map((s) => s.slice(0, s.indexOf('@')));
  return named.length === 1 && named[0] !== 'default' ? named[0] : undefined;
}

function writeOut(target: string, text: string | Buffer, mode = 0o600): void {
  if (target === '-') {
    process.stdout.write(text);
    return;
  }
  const tmp = join(dirname(target), `.rmqplay-vault-${process.pid}-${Date.now()}`);
  writeFileSync(tmp, text, { mode, flag: 'wx' });
  renameSync(tmp, target);
}

/** Runs $EDITOR on text in a private temporary folder; returns what was saved. */
function editText(text: Buffer): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'rmqplay-vault-'));
  chmodSync(dir, 0o700);
  const file = join(dir, 'edit.yml');
  try {
    writeFileSync(file, text, { mode: 0o600 });
    const editor = process.env.EDITOR || process.env.VISUAL || 'vi';
    const r = spawnSync('sh', ['-c', `${editor} "$1"`, 'editor', file], { stdio: 'inherit' });
    if (r.status !== 0) throw new VaultError(`the editor (${editor}) ended with an error: nothing was changed`);
    return readFileSync(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function vaultMain(argv: string[]): Promise<number> {
  if (!argv.length || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(VAULT_USAGE);
    return argv.length ? EXIT.ok : EXIT.badOptions;
  }
  const a = parseVaultArgs(argv);
  const passwords = await loadVaultPasswords(a.sources);
  const id = encryptionId(a, a.sources);
  const seal = (plain: Buffer | string) => encrypt(plain, passwords.forEncryption(id), id);
  const needFiles = (n?: number) => {
    if (!a.files.length || (n && a.files.length !== n)) throw new OptionsError(`vault ${a.action}: name the file`);
  };
  switch (a.action) {
    case 'encrypt':
      needFiles();
      for (const f of a.files) {
        const plain = readFileSync(f);
        if (isVaulted(plain.toString())) throw new VaultError(`${f} is already encrypted`);
        writeOut(a.output ?? f, seal(plain));
      }
      return EXIT.ok;
    case 'decrypt':
      needFiles();
      for (const f of a.files) writeOut(a.output ?? f, decrypt(readFileSync(f, 'utf8'), passwords));
      return EXIT.ok;
    case 'view':
      needFiles();
      for (const f of a.files) process.stdout.write(decrypt(readFileSync(f, 'utf8'), passwords));
      return EXIT.ok;
    case 'create': {
      needFiles(1);
      if (existsSync(a.files[0])) throw new VaultError(`${a.files[0]} exists: use vault edit`);
      writeOut(a.files[0], seal(editText(Buffer.alloc(0))));
      return EXIT.ok;
    }
    case 'edit': {
      needFiles(1);
      const f = a.files[0];
      const text = readFileSync(f, 'utf8');
      const edited = editText(decrypt(text, passwords));
      const keepId = vaultId(text) ?? id;
      writeOut(f, encrypt(edited, passwords.forEncryption(keepId), keepId));
      return EXIT.ok;
    }
    case 'encrypt_string': {
      const plain = a.files.length ? a.files.join(' ') : readFileSync(0, 'utf8');
      const body = seal(plain).trimEnd().split('\n');
      const indented = body.map((l) => `          ${l}`).join('\n');
      process.stdout.write(a.name ? `${a.name}: !vault |\n${indented}\n` : `!vault |\n${indented}\n`);
      return EXIT.ok;
    }
    case 'rekey': {
      needFiles();
      const fresh = await loadVaultPasswords(a.newSources, undefined, false);
      if (fresh.empty) throw new OptionsError('vault rekey: give --new-vault-password-file or --new-vault-id');
      const newId = encryptionId(a, a.newSources);
      for (const f of a.files) {
        const plain = decrypt(readFileSync(f, 'utf8'), passwords);
        writeOut(f, encrypt(plain, fresh.forEncryption(newId), newId));
      }
      return EXIT.ok;
    }
    default:
      throw new OptionsError(`vault: say create, encrypt, decrypt, view, edit, encrypt_string or rekey`);
  }
}
