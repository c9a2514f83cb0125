// The Erlang cookie: identical on every node, compared by hash, never printed.
// On running nodes a different cookie is a barrier across the play's nodes: stop all, write, start all.
import { sh } from '../../connection/quote.js';
import { sha256 } from '../facts.js';
import { mustRun, TaskType } from '../task.js';
import { dataOf } from '../builtin/_change.js';

interface CookieArgs {
  cookie: string;
  path?: string;
}
interface CookieState {
  exists: boolean;
  sha: string;
  mode: string;
  owner: string;
  userExists: boolean;
  active: boolean;
}

/** Write the cookie (stopping a running node around it), or only set its mode and owner. */
type CookieData = { kind: 'write'; restart: boolean; owner: string } | { kind: 'attrs'; owner: string };

const DEFAULT_PATH = '/var/lib/rabbitmq/.erlang.cookie';

// Every node of the play rotates together: each stops and writes, then waits at the task's barrier until every
// node rotating has done so, and only then starts; a node never boots while a peer still runs with the old
// cookie (it would be refused and its boot could fail). A start that fails anyway is tried twice more.
const START_WITH_NEW_COOKIE = `for attempt in 1 2; do
  systemctl start rabbitmq-server && exit 0
  systemctl reset-failed rabbitmq-server 2>/dev/null
  sleep 5
done
systemctl start rabbitmq-server`;

export const rabbitmq_cookie: TaskType<CookieArgs, CookieState, CookieData> = {
  name: 'rabbitmq_cookie',
  schema: {
    type: 'object',
    properties: {
      cookie: { type: 'string', minLength: 20, maxLength: 255, pattern: '^[A-Za-z0-9]+$' },
      path: { type: 'string' },
    },
    required: ['cookie'],
    additionalProperties: false,
  },
  async check(ctx, a) {
    const p = a.path ?? DEFAULT_PATH;
    const hashModeOwner = sh`echo yes; sha256sum < ${p} | cut -d' ' -f1; stat -c '%a %U' ${p}`;
    const cookie = sh`if [ -f ${p} ]; then ` + hashModeOwner + '; else echo no; echo; echo; fi';
    const userAndNode = `id -u rabbitmq >/dev/null 2>&1 && echo user || echo nouser
systemctl is-active rabbitmq-server 2>/dev/null || true`;
    const r = await ctx.host.run(cookie + '\n' + userAndNode, { become: ctx.become });
    const [exists, sha, modeOwner, user, active] = r.stdout.split('\n');
    const [mode, owner] = (modeOwner ?? '').split(' ');
    const st: CookieState = {
      exists: exists === 'yes',
      sha: sha ?? '',
      mode: (mode ?? '').padStart(4, '0'),
      owner: owner ?? '',
      userExists: user === 'user',
      active: active === 'active',
    };
    const pend = ctx.pending.file(a.path ?? DEFAULT_PATH);
    if (pend && pend.kind === 'file' && pend.state === 'file')
      Object.assign(st, { exists: true, sha: pend.sha256, mode: '0400', owner: pend.owner ?? st.owner });
    // The package's postinst makes the rabbitmq user and hands the cookie to it.
    if (ctx.pending.package('rabbitmq-server'))
      Object.assign(st, { userExists: true, owner: 'rabbitmq', active: true });
    return st;
  },
  plan(a, s) {
    const path = a.path ?? DEFAULT_PATH;
    const want = sha256(a.cookie);
    const owner = s.userExists ? 'rabbitmq' : 'root';
    const effect = { kind: 'file' as const, path, state: 'file' as const, sha256: want, mode: '0400', owner };
    if (!s.exists || s.sha !== want) {
      const restart = s.exists && s.active;
      const how = restart ? ' (stop rabbitmq-server, write, start)' : '';
      return [
        {
          action: `${s.exists ? 'replace' : 'write'} the Erlang cookie${how}`,
          effects: [effect],
          data: { kind: 'write', restart, owner },
        },
      ];
    }
    if (s.mode !== '0400' || (s.userExists && s.owner !== 'rabbitmq'))
      return [{ action: `cookie: mode 0400, owner ${owner}`, effects: [effect], data: { kind: 'attrs', owner } }];
    return [];
  },
  async apply(ctx, changes, a) {
    const path = a.path ?? DEFAULT_PATH;
    const d = dataOf(changes[0]);
    if (d.kind === 'attrs') {
      await mustRun(ctx, sh`chmod 0400 ${path} && chown ${d.owner}: ${path}`, 'setting the cookie mode');
      return;
    }
    if (d.restart)
      await mustRun(
        ctx,
        'systemctl stop rabbitmq-server',
        'stopping rabbitmq-server before changing the cookie',
        180_000,
      );
    await mustRun(ctx, sh`mkdir -p "$(dirname ${path})"`, 'making the cookie folder');
    await ctx.host.put(path, a.cookie, { mode: '0400', owner: d.owner, group: d.owner, become: ctx.become });
    if (d.restart) await ctx.barrier();
    if (d.restart) await mustRun(ctx, START_WITH_NEW_COOKIE, 'starting rabbitmq-server with the new cookie', 600_000);
  },
};
