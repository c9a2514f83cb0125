// Scripts shared by every Host implementation: the persistent shell's setup, the line that runs one
// command (as the login user or through sudo), atomic put, get.
//
// How a command runs. The controller writes one line to a long-lived `sh`; that line calls a shell function
// with the script as a quoted argument (a function starts no program: no script or secret in any argv);
// through sudo the builtin printf pipes it into a fixed runner (`sh -c "$R"`). The runner, as the login user
// or as the become user, stores the script in its own 0700 temp
// folder, runs it in a process group of its own (timeout(1)) with stdin /dev/null and stdout/stderr
// in files there (the 0700 folder keeps others out; the command keeps the login's umask), waits, kills
// whatever is left of that group, and prints one frame:
//   `F seq nonce code outBytes errBytes\n` then exactly those bytes of stdout, then of stderr.
// The command never holds the channel, so it cannot write between frames by accident (background jobs);
// the controller parses by length and treats any stray byte, or a wrong seq or nonce, as an injection.
import { nodeCrypto } from '../util/crypto.js';
import { Become, PutOptions } from './host.js';
import { q, sh } from './quote.js';

const { randomBytes } = nodeCrypto;

// Running one command, with $d a 0700 folder holding the script in $d/s; $1 seq, $2 nonce, $3 timeout in
// seconds. timeout(1) runs the command in a process group of its own (and kills that whole group when time
// is up: exit 137, which the controller reads as a timeout once the time has passed); what is left of the
// group is killed after. Four programs a command: timeout, sh, stat, cat; two when it printed nothing.
const RUN_CORE = `timeout -s KILL "$3" sh "$d/s" </dev/null >"$d/o" 2>"$d/e" &
p=$!
wait "$p" 2>/dev/null
c=$?
kill -9 -"$p" 2>/dev/null
if [ -s "$d/o" ] || [ -s "$d/e" ]; then
  set -- "$1" "$2" "$c" $(stat -c %s "$d/o" "$d/e")
  printf 'F %s %s %s %s %s\\n' "$1" "$2" "$3" "$4" "$5"
  cat "$d/o" "$d/e"
else
  printf 'F %s %s %s 0 0\\n' "$1" "$2" "$c"
fi`;

// As the login user: a function of the persistent shell, run in a subshell (a fork, no new program), with
// the script as its fourth argument (a function's arguments are on no command line) and the folder made at setup.
const RUN_HERE = `__rmqplay_run() (
  d=$D
  printf %s "$4" >"$d/s" || exit 1
  ${RUN_CORE.split('\n').join('\n  ')}
  exit 0
)`;

// Through sudo, as the become user: the same in a fresh 0700 folder, the script read on stdin.
const RUNNER = `d=$(mktemp -d) || exit 1
cat >"$d/s" || exit 1
${RUN_CORE}
rm -rf "$d"
exit 0`;

// Through sudo: $1 user, $2 seq, $3 nonce, $4 timeout, $5 sudo prompt ('' without a password), $6 script.
// A password reaches sudo only through its prompt: `sudo -n` first (NOPASSWD never sees a password);
// when it says a password is required, `sudo -S -p PROMPT -v` reads one from this shell's stdin, which the
// controller writes when it sees that unique prompt on stderr (as Ansible does), then `sudo -n` again.
// sudo keeps that credential per parent process without a terminal, and this shell is the parent of both.
// A `B` frame reports sudo's own failure with its stderr.
const BECOME = `__rmqplay_become() {
  printf %s "$6" | sudo -n -H -u "$1" -- sh -c "$R" rmqplay-runner "$2" "$3" "$4" 2>"$D/e" && return
  if [ -n "$5" ] && grep -q 'password is required' "$D/e"; then
    sudo -S -p "$5" -v >/dev/null
    printf %s "$6" | sudo -n -H -u "$1" -- sh -c "$R" rmqplay-runner "$2" "$3" "$4" 2>"$D/e" && return
  fi
  set -- "$2" "$3" "$(stat -c %s "$D/e")"
  printf 'B %s %s 1 0 %s\\n' "$1" "$2" "$3"
  head -c "$3" "$D/e"
}`;

// Several commands in one round trip, as the login user (reads run ahead of their tasks: see
// lib/core/lookahead.ts): $1 seq, $2 nonce, $3 timeout in seconds for the whole batch, then the scripts.
// Each script runs in turn in a subshell (a fork, no new program) with stdin /dev/null and its output in
// files, all of them under one timeout(1) in a process group of its own, killed whole after. One frame
// answers them all:
//   `M seq nonce n code1 out1 err1 ... coden outn errn\n` then each command's stdout and stderr bytes in turn.
// A command the timeout stopped before it ran says 137. Four programs a batch (timeout, sh, stat, cat), where a
// command alone takes those four for itself.
const RUN_BATCH = `__rmqplay_batch() (
  cd "$D" || exit 1
  s=$1 k=$2 t=$3
  shift 3
  n=$#
  i=1
  for x in "$@"; do
    printf %s "$x" >"s$i" || exit 1
    rm -f "c$i"
    i=$((i + 1))
  done
  timeout -s KILL "$t" sh -c 'i=1
    while [ "$i" -le "$1" ]; do (. "./s$i") </dev/null >"o$i" 2>"e$i"; echo "$?" >"c$i"; i=$((i + 1)); done' \
    rmqplay-batch "$n" &
  p=$!
  wait "$p" 2>/dev/null
  kill -9 -"$p" 2>/dev/null
  i=1 f= codes=
  while [ "$i" -le "$n" ]; do
    c=137
    if [ -f "c$i" ]; then read -r c <"c$i"; else : >"o$i"; : >"e$i"; fi
    codes="$codes $c" f="$f o$i e$i" i=$((i + 1))
  done
  set -- $(stat -c %s $f)
  h="M $s $k $n" tot=0
  for c in $codes; do
    h="$h $c $1 $2" tot=$((tot + $1 + $2))
    shift 2
  done
  printf '%s\n' "$h"
  if [ "$tot" -gt 0 ]; then cat $f; fi
  exit 0
)`;

/** Sent once to a new shell; it answers `R nonce` when ready. */
export function setupScript(nonce: string): string {
  return [
    'D=$(mktemp -d) || exit 1',
    `trap 'rm -rf "$D"' EXIT`,
    `R=${q(RUNNER)}`,
    RUN_HERE,
    RUN_BATCH,
    BECOME,
    sh`printf 'R %s\\n' ${nonce}`,
    '',
  ].join('\n');
}

export interface CommandLine {
  line: string;
  /** The unique sudo prompt the controller answers with the password, when there is one. */
  prompt?: string;
}

/** The line that runs one command; a runner that dies before its frame is reported by an `X` frame. */
export function commandLine(
  seq: number,
  nonce: string,
  script: string,
  timeoutMs: number,
  loginUser: string,
  become?: Become,
): CommandLine {
  const seconds = (Math.max(timeoutMs, 1) / 1000).toFixed(3);
  const failed = sh`printf 'X %s %s %s 0 0\\n' ${seq} ${nonce}` + ' "$?"';
  if (!become || become.user === loginUser) {
    return { line: sh`__rmqplay_run ${seq} ${nonce} ${seconds} ${script}` + ` || ${failed}\n` };
  }
  const prompt = become.password === undefined ? undefined : `[rmqplay sudo ${randomBytes(8).toString('hex')}]`;
  const args = sh`${become.user} ${seq} ${nonce} ${seconds} ${prompt ?? ''} ${script}`;
  return { line: `__rmqplay_become ${args} || ${failed}\n`, prompt };
}

/** The line that runs several commands as the login user, answered by one `M` frame (or an `X` frame when the
 *  runner itself dies). */
export function batchLine(seq: number, nonce: string, scripts: string[], timeoutMs: number): string {
  const seconds = (Math.max(timeoutMs, 1) / 1000).toFixed(3);
  const failed = sh`printf 'X %s %s %s 0 0\\n' ${seq} ${nonce}` + ' "$?"';
  return sh`__rmqplay_batch ${seq} ${nonce} ${seconds} ${scripts}` + ` || ${failed}\n`;
}

/** The message for a sudo that needs a password when none was given (become.ts turns it into a task error). */
export function needsPassword(loginUser: string): string {
  return `sudo needs a password for ${loginUser}: set ansible_become_password`;
}

/** Atomic write: an unpredictable temp file made exclusively beside the target (mktemp), written, fsynced,
 *  chown then chmod (so setuid bits survive), renamed with -T over the target, then the folder fsynced.
 *  A target that is a symlink is followed once (its file is replaced, the link stays), as Ansible does;
 *  a target that is a directory, or a symlink to one, is refused rather than written inside. */
export function putScript(path: string, bytes: Buffer | string, opts: PutOptions): string {
  const b64 = Buffer.from(bytes)
    .toString('base64')
    .replace(/(.{76})/g, '$1\n');
  const ownerGroup = opts.group ? `${opts.owner ?? ''}:${opts.group}` : '';
  const owner = opts.owner && !opts.group ? opts.owner : ownerGroup;
  const isDir = `{ echo "$dest is a directory: refusing to write over it" >&2; exit 1; }`;
  return [
    'set -e',
    `dest=${q(path)}`,
    'if [ -L "$dest" ]; then dest=$(readlink -f -- "$dest"); fi',
    `if [ -d "$dest" ]; then ${isDir}; fi`,
    'dir=$(dirname -- "$dest")',
    'tmp=$(mktemp -- "$dir/.rmqplay.XXXXXXXXXX")',
    `trap 'rm -f -- "$tmp"' EXIT`,
    `base64 -d > "$tmp" <<'__RMQPLAY_EOF__'`,
    b64,
    '__RMQPLAY_EOF__',
    owner ? `chown -- ${q(owner)} "$tmp"` : 'if [ -e "$dest" ]; then chown --reference="$dest" -- "$tmp"; fi',
    opts.mode
      ? `chmod -- ${q(opts.mode)} "$tmp"`
      : 'if [ -e "$dest" ]; then chmod --reference="$dest" -- "$tmp"; else chmod 0644 "$tmp"; fi',
    'sync -- "$tmp"',
    'mv -f -T -- "$tmp" "$dest"',
    'trap - EXIT',
    'sync -- "$dir"',
  ].join('\n');
}

export function getScript(path: string): string {
  return sh`if [ -f ${path} ]; then base64 < ${path}; else exit 3; fi`;
}
