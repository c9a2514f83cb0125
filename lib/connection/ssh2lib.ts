// ssh2 is loaded on the first SSH connection (start-up time, issue 11): --help, the vault tool and runs on
// the local host never load it.
import type Ssh2 from 'ssh2';

let lib: Promise<typeof Ssh2> | undefined;

/** ssh2's module. It is CommonJS: its classes are read from the default export. */
export function loadSsh2(): Promise<typeof Ssh2> {
  return (lib ??= import('ssh2').then((m) => m.default));
}
