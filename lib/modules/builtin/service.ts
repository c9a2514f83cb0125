import { TaskError, UnknownState } from '../../util/errors.js';
import { Change } from '../pending.js';
import { sh } from '../../connection/quote.js';
import { mustRun, TaskType } from '../task.js';
import { dataOf } from './_change.js';

interface ServiceArgs {
  name: string;
  state?: 'started' | 'stopped' | 'restarted' | 'reloaded';
  enabled?: boolean;
  daemon_reload?: boolean;
}
interface ServiceState {
  exists: boolean;
  active: boolean;
  enabled: boolean;
}

export function parseService(out: string): ServiceState {
  const [load, active, enabled] = out.trim().split('\n');
  return {
    exists: load === 'loaded',
    active: active === 'active' || active === 'activating' || active === 'reloading',
    enabled: enabled === 'enabled' || enabled === 'enabled-runtime' || enabled === 'static' || enabled === 'alias',
  };
}

/** service and systemd; a change's data is the systemctl command that makes it. */
function makeService(name: string): TaskType<ServiceArgs, ServiceState, string> {
  return {
    name,
    schema: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        state: { enum: ['started', 'stopped', 'restarted', 'reloaded'] },
        enabled: { type: 'boolean' },
        daemon_reload: { type: 'boolean' },
      },
      required: ['name'],
      additionalProperties: false,
    },
    // daemon_reload runs in the check of a real run: not a read.
    readAhead: (a) => !a.daemon_reload,
    async check(ctx, a) {
      const unit = a.name;
      const load = sh`systemctl show -p LoadState --value ${unit}`;
      const activeEnabled = sh`systemctl is-active ${unit}; systemctl is-enabled ${unit} 2>/dev/null || true`;
      // As Ansible's systemd module: daemon_reload runs first in a real run and is not a change of its own.
      if (a.daemon_reload && !ctx.checkMode) await mustRun(ctx, 'systemctl daemon-reload', 'systemctl daemon-reload');
      const r = await ctx.host.run(`${load}; ${activeEnabled}`, { become: ctx.become });
      const st = parseService(r.stdout);
      const pend = ctx.pending.service(a.name);
      if (pend) return { exists: true, active: pend.active ?? st.active, enabled: pend.enabled ?? st.enabled };
      if (!ctx.pending.empty) {
        const pkg = ctx.pending.packages()[0];
        // A package's install scripts may create, start and enable the service: Debian's do.
        if (pkg && (!st.exists || !st.active || !st.enabled))
          throw new UnknownState(
            `depends on ${ctx.pending.describe(pkg)}: its install scripts may start and enable ${a.name}`,
          );
      }
      if (!st.exists)
        throw new TaskError(
          `service ${a.name} is not installed on this host (no unit ${a.name}): install its package first`,
        );
      return st;
    },
    plan(a, s) {
      const out: Change<string>[] = [];
      const svc = (x: { active?: boolean; enabled?: boolean; fromStopped?: boolean }) => [
        { kind: 'service' as const, name: a.name, ...x },
      ];
      if (a.enabled === true && !s.enabled)
        out.push({
          action: `enable ${a.name}`,
          effects: svc({ enabled: true }),
          data: sh`systemctl enable ${a.name}`,
        });
      if (a.enabled === false && s.enabled)
        out.push({
          action: `disable ${a.name}`,
          effects: svc({ enabled: false }),
          data: sh`systemctl disable ${a.name}`,
        });
      if (a.state === 'started' && !s.active)
        out.push({
          action: `start ${a.name}`,
          effects: svc({ active: true, fromStopped: true }),
          data: sh`systemctl start ${a.name}`,
        });
      if (a.state === 'stopped' && s.active)
        out.push({ action: `stop ${a.name}`, effects: svc({ active: false }), data: sh`systemctl stop ${a.name}` });
      if (a.state === 'restarted')
        out.push({
          action: `restart ${a.name}`,
          effects: svc({ active: true }),
          data: sh`systemctl restart ${a.name}`,
          always: true,
        });
      if (a.state === 'reloaded')
        out.push({
          action: `reload ${a.name}`,
          effects: svc({ active: true }),
          data: sh`systemctl reload-or-restart ${a.name}`,
          always: true,
        });
      return out;
    },
    async apply(ctx, changes, a) {
      if (!changes.length) return;
      try {
        await mustRun(ctx, changes.map(dataOf).join(' && '), changes.map((c) => c.action).join(', '), 10 * 60_000);
      } catch (e) {
        const journal = sh`journalctl -u ${a.name} -n 15 --no-pager 2>/dev/null | tail -n 15`;
        const j = await ctx.host.run(journal, { become: ctx.become });
        const journalLines = j.stdout.trim().split('\n').join('\n    ');
        throw new TaskError(
          `${(e as Error).message}\n  last lines of the ${a.name} journal:\n    ${journalLines}`,
          (e as TaskError).detail,
        );
      }
    },
  };
}

export const service = makeService('service');
export const systemd = makeService('systemd');
