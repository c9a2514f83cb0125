// become through sudo: failures of sudo itself become task errors that say what to do.
import { TaskError } from '../util/errors.js';
import { Become, Host, hostWith, RunResult } from './host.js';

function checked(r: RunResult, become?: Become): RunResult {
  if (!become) return r;
  if (r.code === 97 && /sudo needs a password/.test(r.stderr)) throw new TaskError(r.stderr.trim());
  if (/incorrect password attempt|Sorry, try again/.test(r.stderr)) {
    throw new TaskError(`sudo did not accept ansible_become_password for becoming ${become.user}: check the password`);
  }
  return r;
}

/** A Host whose sudo failures are task errors, wherever a task reads or writes through it. */
export function withBecomeErrors(host: Host): Host {
  return hostWith(host, { run: async (script, opts) => checked(await host.run(script, opts), opts?.become) });
}
