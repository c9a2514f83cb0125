// A RabbitMQ user: password (checked against the node's salted hash on the controller, or with
// authenticate_user on stdin for a hashing this does not know; never printed), tags, and permissions per vhost
// (vhosts not listed lose theirs).
import { Change } from '../pending.js';
import { sh } from '../../connection/quote.js';
import { TaskCtx, TaskType } from '../task.js';
import { applyCtl, ctl, CtlChange, ctlChange, needNode, withStdin } from './_rabbitmq.js';
import { asReadFromStdin, clusterSnapshot, part, passwordMatches, Snapshot } from './_snapshot.js';

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

/** The user as the node's snapshot has it; passwordOk undefined: only the node can tell (authenticate_user). */
export function userState(s: Snapshot, a: UserArgs): Omit<UserState, 'passwordOk'> & { passwordOk?: boolean } {
  const what = `user ${a.name}`;
  const u = part(s, 'users', what).find((x) => x.name === a.name);
  if (!u) return { exists: false, tags: [], passwordOk: false, perms: [] };
  const perms = part(s, 'permissions', what)
    .filter((p) => p.user === a.name)
    .map((p) => ({ vhost: p.vhost, configure: p.configure, write: p.write, read: p.read }));
  const passwordOk = a.password === undefined ? false : passwordMatches(u, a.password);
  return { exists: true, tags: [...u.tags].sort(), passwordOk, perms };
}

/** authenticate_user, the password on stdin (the node's own check, for a hashing passwordMatches does not know). */
async function authenticate(ctx: TaskCtx, a: UserArgs): Promise<boolean> {
  const auth = withStdin(a.password ?? '', sh`rabbitmqctl authenticate_user ${a.name}`);
  const r = await ctl(ctx, { auth }, `checking the password of ${a.name}`, needNode(ctx, `user ${a.name}`));
  return r.auth.code === 0;
}

const INTERNAL = 'rabbit_auth_backend_internal';

/** rabbitmqctl COMMAND NAME [ARGS...] and the internal backend's function it calls (fn, when named otherwise). */
function userCall(command: string, args: [string, ...(string | string[])[]], fn = command): CtlChange {
  return ctlChange(sh`rabbitmqctl ${command} ${args.flat()}`, INTERNAL, fn, args);
}

/** add_user and change_password: the password on rabbitmqctl's stdin, or in the expression erl_call reads on its
 *  stdin, as rabbitmqctl would have read it (its first line, trimmed). Never on a command line. */
function passwordCall(command: 'add_user' | 'change_password', name: string, password: string): CtlChange {
  const ctl = withStdin(password, sh`rabbitmqctl ${command} ${name}`);
  return ctlChange(ctl, INTERNAL, command, [name, asReadFromStdin(password)]);
}

export const rabbitmq_user: TaskType<UserArgs, UserState, CtlChange> = {
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
    const s = await clusterSnapshot(ctx, `user ${a.name}`);
    if (!s) return { exists: false, tags: [], passwordOk: false, perms: [] };
    const st = userState(s, a);
    return { ...st, passwordOk: st.passwordOk ?? (await authenticate(ctx, a)) };
  },
  plan(a, s) {
    if (a.state === 'absent')
      return s.exists ? [{ action: `delete user ${a.name}`, data: userCall('delete_user', [a.name]) }] : [];
    const out: Change<CtlChange>[] = [];
    const effects = [{ kind: 'other' as const, what: `user ${a.name}` }];
    if (!s.exists)
      out.push({
        action: `create user ${a.name}`,
        effects,
        data: passwordCall('add_user', a.name, a.password!),
      });
    else if (!s.passwordOk)
      out.push({
        action: `change the password of ${a.name}`,
        effects,
        data: passwordCall('change_password', a.name, a.password!),
      });
    const tags = [...(a.tags ?? [])].sort();
    if (tags.join(',') !== (s.exists ? s.tags : []).join(','))
      out.push({
        action: `tags of ${a.name}: ${tags.join(', ') || 'none'}`,
        effects,
        data: userCall('set_user_tags', [a.name, tags], 'set_tags'),
      });
    for (const p of a.permissions ?? []) {
      const want = { configure: p.configure ?? '.*', write: p.write ?? '.*', read: p.read ?? '.*' };
      const have = s.perms.find((x) => x.vhost === p.vhost);
      if (!have || have.configure !== want.configure || have.write !== want.write || have.read !== want.read)
        out.push({
          action: `permissions of ${a.name} on ${p.vhost}: ${want.configure} ${want.write} ${want.read}`,
          effects,
          data: ctlChange(
            sh`rabbitmqctl set_permissions -p ${p.vhost} ${a.name} ${want.configure} ${want.write} ${want.read}`,
            INTERNAL,
            'set_permissions',
            [a.name, p.vhost, want.configure, want.write, want.read],
          ),
        });
    }
    for (const have of s.perms)
      if (!(a.permissions ?? []).some((p) => p.vhost === have.vhost))
        out.push({
          action: `clear permissions of ${a.name} on ${have.vhost}`,
          effects,
          data: ctlChange(sh`rabbitmqctl clear_permissions -p ${have.vhost} ${a.name}`, INTERNAL, 'clear_permissions', [
            a.name,
            have.vhost,
          ]),
        });
    return out;
  },
  apply: (ctx, changes) => applyCtl(ctx, changes, 'changing a user'),
};
