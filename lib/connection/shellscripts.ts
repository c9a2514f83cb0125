// Scripts shared by every Host implementation: become through sudo, atomic put, get.
import { Become, PutOptions } from './host.js';
import { q, sh } from './quote.js';

/** Runs a script as another user through sudo; nothing to do when we already are that user. */
export function wrapBecome(script: string, loginUser: string, become?: Become): string {
  if (!become || become.user === loginUser) return script;
  const asUser = sh`-H -u ${become.user} -- sh -c ${script}`;
  if (become.password === undefined) {
    const needs = `sudo needs a password for ${loginUser}: set ansible_become_password`;
    return sh`sudo -n true 2>/dev/null || { echo ${needs} >&2; exit 97; }` + `\nsudo -n ${asUser}`;
  }
  // printf is a shell builtin: the password never appears in a process list.
  return sh`printf '%s\n' ${become.password}` + ` | sudo -S -p '' ${asUser}`;
}

export function putScript(path: string, bytes: Buffer | string, opts: PutOptions): string {
  const b64 = Buffer.from(bytes)
    .toString('base64')
    .replace(/(.{76})/g, '$1\n');
  const owner = opts.owner
    ? opts.group
      ? `${opts.owner}:${opts.group}`
      : opts.owner
    : opts.group
      ? `:${opts.group}`
      : '';
  return [
    'set -e',
    `dest=${q(path)}`,
    'tmp=$(mktemp "$(dirname "$dest")/.rmqplay.XXXXXX")',
    'trap \'rm -f "$tmp"\' EXIT',
    `base64 -d > "$tmp" <<'__RMQPLAY_EOF__'`,
    b64,
    '__RMQPLAY_EOF__',
    opts.mode
      ? `chmod ${q(opts.mode)} "$tmp"`
      : 'if [ -e "$dest" ]; then chmod --reference="$dest" "$tmp"; else chmod 0644 "$tmp"; fi',
    owner ? `chown ${q(owner)} "$tmp"` : 'if [ -e "$dest" ]; then chown --reference="$dest" "$tmp"; fi',
    'mv -f "$tmp" "$dest"',
    'trap - EXIT',
  ].join('\n');
}

export function getScript(path: string): string {
  return sh`if [ -f ${path} ]; then base64 < ${path}; else exit 3; fi`;
}
