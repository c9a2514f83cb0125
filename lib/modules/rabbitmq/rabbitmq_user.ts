// A RabbitMQ user: password (checked with authenticate_user, passed on stdin, never printed),
// tags, and permissions per vhost (vhosts not listed lose theirs).
import { Change } from '../pending.js';
import { sh } from '../../connection/quote.js';
import { TaskType } from '../task.js';
import { applyCtl, json, listing, readCluster, withStdin } from './_rabbitmq.js';

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
    const cmds = {
      users: 'rabbitmqctl list_users --formatter json',
      perms: sh`rabbitmqctl list_user_permissions ${a.name} --formatter json`,
      auth: withStdin(a.password ?? '', sh`rabbitmqctl authenticate_user ${a.name}`),
    };
    const r = await readCluster(ctx, `user ${a.name}`, cmds, `reading user ${a.name}`);
    if (!r) return { exists: false, tags: [], passwordOk: false, perms: [] };
    const users = listing<{ user: string; tags: string[] }[]>(r.users, 'rabbitmqctl list_users');
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
      return s.exists ? [{ action: `delete user ${a.name}`, data: sh`rabbitmqctl delete_user ${a.name}` }] : [];
    const out: Change<string>[] = [];
    const effects = [{ kind: 'other' as const, what: `user ${a.name}` }];
    if (!s.exists)
      out.push({
        action: `create user ${a.name}`,
        effects,
        data: withStdin(a.password!, sh`rabbitmqctl add_user ${a.name}`),
      });
    else if (!s.passwordOk)
      out.push({
        action: `change the password of ${a.name}`,
        effects,
        data: withStdin(a.password!, sh`rabbitmqctl change_password ${a.name}`),
      });
    const tags = [...(a.tags ?? [])].sort();
    if (tags.join(',') !== (s.exists ? s.tags : []).join(','))
      out.push({
        action: `tags of ${a.name}: ${tags.join(', ') || 'none'}`,
        effects,
        data: sh`rabbitmqctl set_user_tags ${a.name} ${tags}`,
      });
    for (const p of a.permissions ?? []) {
      const want = { configure: p.configure ?? '.*', write: p.write ?? '.*', read: p.read ?? '.*' };
      const have = s.perms.find((x) => x.vhost === p.vhost);
      if (!have || have.configure !== want.configure || have.write !== want.write || have.read !== want.read)
        out.push({
          action: `permissions of ${a.name} on ${p.vhost}: ${want.configure} ${want.write} ${want.read}`,
          effects,
          data: sh`rabbitmqctl set_permissions -p ${p.vhost} ${a.name} ${want.configure} ${want.write} ${want.read}`,
        });
    }
    for (const have of s.perms)
      if (!(a.permissions ?? []).some((p) => p.vhost === have.vhost))
        out.push({
          action: `clear permissions of ${a.name} on ${have.vhost}`,
          effects,
          data: sh`rabbitmqctl clear_permissions -p ${have.vhost} ${a.name}`,
        });
    return out;
  },
  apply: (ctx, changes) => applyCtl(ctx, changes, 'changing a user'),
};
