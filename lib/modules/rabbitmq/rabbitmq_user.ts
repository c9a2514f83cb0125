// A RabbitMQ user: password (checked with authenticate_user, passed on stdin, never printed),
// tags, and permissions per vhost (vhosts not listed lose theirs).
import { Change } from '../pending.js';
import { q } from '../../connection/quote.js';
import { TaskType } from '../task.js';
import { dataOf } from '../builtin/_change.js';
import { brandNewCluster, ctl, json, mustOk, needNode, withStdin } from './_rabbitmq.js';

interface Perm {
  vhost: string;
  configure?: string;
  write?: string;
  read?: string;
}
interface UserArgs {
  name: string;
  password?: string;
  tags?: string[];
  permissions?: Perm[];
  state?: 'present' | 'absent';
}
interface UserState {
  exists: boolean;
  tags: string[];
  passwordOk: boolean;
  perms: Perm[];
}

export const rabbitmq_user: TaskType<UserArgs, UserState, string> = {
  name: 'rabbitmq_user',
  schema: {
    type: 'object',
    properties: {
      name: { type: 'string', minLength: 1 },
      password: { type: 'string' },
      tags: { type: 'array', items: { type: 'string' } },
      permissions: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            vhost: { type: 'string' },
            configure: { type: 'string' },
            write: { type: 'string' },
            read: { type: 'string' },
          },
          required: ['vhost'],
          additionalProperties: false,
        },
      },
      state: { enum: ['present', 'absent'] },
    },
    required: ['name'],
    additionalProperties: false,
  },
  validate: (a) =>
    a.state !== 'absent' && a.password === undefined
      ? `rabbitmq_user ${a.name}: a password is needed (keep it in group_vars/rabbitmq/vault.yml)`
      : undefined,
  async check(ctx, a) {
    if (brandNewCluster(ctx)) return { exists: false, tags: [], passwordOk: false, perms: [] };
    const peers = needNode(ctx, `user ${a.name}`);
    const r = await ctl(
      ctx,
      {
        users: 'rabbitmqctl list_users --formatter json',
        perms: `rabbitmqctl list_user_permissions ${q(a.name)} --formatter json`,
        auth: withStdin(a.password ?? '', `rabbitmqctl authenticate_user ${q(a.name)}`),
      },
      `reading user ${a.name}`,
      peers,
    );
    const users = json<{ user: string; tags: string[] }[]>(mustOk(r.users, 'rabbitmqctl list_users'), 'list_users');
    const u = users.find((x) => x.user === a.name);
    return {
      exists: !!u,
      tags: (u?.tags ?? []).sort(),
      passwordOk: !!u && r.auth.code === 0,
      perms: u && r.perms.code === 0 ? json<Perm[]>(r.perms.out, 'list_user_permissions') : [],
    };
  },
  plan(a, s) {
    if (a.state === 'absent')
      return s.exists ? [{ action: `delete user ${a.name}`, data: `rabbitmqctl delete_user ${q(a.name)}` }] : [];
    const out: Change<string>[] = [];
    const effects = [{ kind: 'other' as const, what: `user ${a.name}` }];
    if (!s.exists)
      out.push({
        action: `create user ${a.name}`,
        effects,
        data: withStdin(a.password!, `rabbitmqctl add_user ${q(a.name)}`),
      });
    else if (!s.passwordOk)
      out.push({
        action: `change the password of ${a.name}`,
        effects,
        data: withStdin(a.password!, `rabbitmqctl change_password ${q(a.name)}`),
      });
    const tags = [...(a.tags ?? [])].sort();
    if (tags.join(',') !== (s.exists ? s.tags : []).join(','))
      out.push({
        action: `tags of ${a.name}: ${tags.join(', ') || 'none'}`,
        effects,
        data: `rabbitmqctl set_user_tags ${q(a.name)} ${tags.map(q).join(' ')}`,
      });
    for (const p of a.permissions ?? []) {
      const want = { configure: p.configure ?? '.*', write: p.write ?? '.*', read: p.read ?? '.*' };
      const have = s.perms.find((x) => x.vhost === p.vhost);
      if (!have || have.configure !== want.configure || have.write !== want.write || have.read !== want.read)
        out.push({
          action: `permissions of ${a.name} on ${p.vhost}: ${want.configure} ${want.write} ${want.read}`,
          effects,
          data: `rabbitmqctl set_permissions -p ${q(p.vhost)} ${q(a.name)} ${q(want.configure)} ${q(want.write)} ${q(want.read)}`,
        });
    }
    for (const have of s.perms)
      if (!(a.permissions ?? []).some((p) => p.vhost === have.vhost))
        out.push({
          action: `clear permissions of ${a.name} on ${have.vhost}`,
          effects,
          data: `rabbitmqctl clear_permissions -p ${q(have.vhost)} ${q(a.name)}`,
        });
    return out;
  },
  async apply(ctx, changes) {
    const cmds: Record<string, string> = {};
    changes.forEach((c, i) => {
      cmds[`c${i}`] = dataOf(c);
    });
    const r = await ctl(ctx, cmds, 'changing a user');
    changes.forEach((c, i) => mustOk(r[`c${i}`], c.action));
  },
};
