// The only owner of /etc/rabbitmq/enabled_plugins: reads the file (fast) instead of
// `rabbitmq-plugins list` (about 1.5 s); on a running node applies the list online.
import { fileContent } from '../facts.js';
import { sh } from '../../connection/quote.js';
import { mustRun, TaskType } from '../task.js';
import { dataOf } from '../builtin/_change.js';

interface PluginArgs {
  names: string[];
  path?: string;
}
interface PluginState {
  current: string[] | null;
  active: boolean;
}
/** The file's new content, the plugins it lists, and whether to enable them on the running node. */
interface PluginData {
  content: string;
  want: string[];
  online: boolean;
}

const PATH = '/etc/rabbitmq/enabled_plugins';
export const pluginsFile = (names: string[]) => `[${[...names].sort().join(',')}].\n`;
export const parsePlugins = (text: string | null) =>
  text === null ? null : (text.match(/[a-z][a-z0-9_]*/g) ?? []).sort();

export const rabbitmq_plugins: TaskType<PluginArgs, PluginState, PluginData> = {
  name: 'rabbitmq_plugins',
  schema: {
    type: 'object',
    properties: {
      names: { type: 'array', items: { type: 'string', pattern: '^[a-z][a-z0-9_]*$' } },
      path: { type: 'string' },
    },
    required: ['names'],
    additionalProperties: false,
  },
  async check(ctx, a) {
    const current = parsePlugins(await fileContent(ctx, a.path ?? PATH));
    const r = await ctx.host.run('systemctl is-active rabbitmq-server 2>/dev/null || true', { become: ctx.become });
    return { current, active: r.stdout.trim() === 'active' };
  },
  plan(a, s) {
    const want = [...new Set(a.names)].sort();
    if (s.current && s.current.join(',') === want.join(',')) return [];
    const content = pluginsFile(want);
    const were = s.current ? ` (were: ${s.current.join(', ') || 'none'})` : '';
    return [
      {
        action: `enabled plugins: ${want.join(', ') || 'none'}${were}`,
        effects: [{ kind: 'file', path: a.path ?? PATH, state: 'file', sha256: '', content }],
        data: { content, want, online: s.active },
      },
    ];
  },
  async apply(ctx, changes, a) {
    const d = dataOf(changes[0]);
    const path = a.path ?? PATH;
    await mustRun(ctx, sh`mkdir -p "$(dirname ${path})"`, 'making /etc/rabbitmq');
    const put = () => ctx.host.put(path, d.content, { mode: '0644', become: ctx.become });
    await put();
    if (d.online) {
      const enable = sh`rabbitmq-plugins set ${d.want} >/dev/null`;
      await mustRun(ctx, enable, 'enabling the plugins on the running node', 180_000);
      // rabbitmq-plugins writes the file in its own format: ours again, by an atomic put (never through a link).
      await put();
    }
  },
};
