// Ansible's user: a local user present (created with useradd, then kept with usermod) or absent (userdel).
// The options are Ansible's most used ones, with its defaults: a home folder is created unless
// create_home is false, and a user whose name is already a group's joins that group (useradd -N).
import { sh } from '../../connection/quote.js';
import { mustRun, TaskType } from '../task.js';
import { dataOf } from './_change.js';

interface UserArgs {
  name: string;
  state?: 'present' | 'absent';
  uid?: number;
  group?: string;
  groups?: string | string[];
  append?: boolean;
  shell?: string;
  home?: string;
  create_home?: boolean;
  createhome?: boolean;
  system?: boolean;
  comment?: string;
  remove?: boolean;
}
interface UserState {
  exists: boolean;
  /** Created by an earlier task of a check run: taken as it would be created. */
  pending: boolean;
  uid?: number;
  group?: string;
  groups: string[];
  comment?: string;
  home?: string;
  shell?: string;
  nameIsGroup: boolean;
}

const NAME = { type: 'string', pattern: '^[a-z_][a-z0-9_.-]*[$]?$', maxLength: 32 };
const M = '@@rmqplay-user@@';

/** The supplementary groups asked for: a list or Ansible's comma-separated string. */
function wantedGroups(a: UserArgs): string[] | undefined {
  if (a.groups === undefined) return undefined;
  return [a.groups]
    .flat()
    .flatMap((g) => String(g).split(','))
    .map((g) => g.trim())
    .filter(Boolean);
}

export function parseUser(out: string): Omit<UserState, 'pending'> {
  const st: Omit<UserState, 'pending'> = { exists: false, groups: [], nameIsGroup: false };
  for (const line of out.split('\n')) {
    if (!line.startsWith(M)) continue;
    const [kind, ...rest] = line.slice(M.length + 1).split(' ');
    const v = rest.join(' ');
    if (kind === 'passwd') {
      const [, , uid, , gecos, home, shell] = v.split(':');
      Object.assign(st, { exists: true, uid: Number(uid), comment: gecos, home, shell });
    } else if (kind === 'primary') st.group = v.trim();
    else if (kind === 'groups') st.groups = v.trim().split(/\s+/).filter(Boolean);
    else if (kind === 'samegroup') st.nameIsGroup = true;
  }
  st.groups = st.groups.filter((g) => g !== st.group);
  return st;
}

export const user: TaskType<UserArgs, UserState, string> = {
  name: 'user',
  readAhead: true,
  schema: {
    type: 'object',
    properties: {
      name: NAME,
      state: { enum: ['present', 'absent'] },
      uid: { type: 'integer', minimum: 0 },
      group: NAME,
      groups: { type: ['string', 'array'], items: { type: 'string' } },
      append: { type: 'boolean' },
      shell: { type: 'string', pattern: '^/' },
      home: { type: 'string', pattern: '^/' },
      create_home: { type: 'boolean' },
      createhome: { type: 'boolean' },
      system: { type: 'boolean' },
      comment: { type: 'string', pattern: '^[^:\\n]*$' },
      remove: { type: 'boolean' },
    },
    required: ['name'],
    additionalProperties: false,
  },
  async check(ctx, a) {
    const n = a.name;
    const q = sh`${n}`;
    const script =
      `if e=$(getent passwd ${q}); then echo "${M} passwd $e"; ` +
      `echo "${M} primary $(id -gn ${q})"; echo "${M} groups $(id -Gn ${q})"; fi; ` +
      `if getent group ${q} >/dev/null; then echo "${M} samegroup"; fi`;
    const r = await ctx.host.run(script, { become: ctx.become });
    const pending = ctx.pending.find((e) => e.kind === 'other' && e.what === `user ${n}`) !== undefined;
    return { ...parseUser(r.stdout), pending };
  },
  plan(a, s) {
    const want = (a.state ?? 'present') === 'present';
    const effect = { kind: 'other' as const, what: `user ${a.name}` };
    if (!want) {
      if (!s.exists) return [];
      const del = a.remove ? sh`userdel -r ${a.name}` : sh`userdel ${a.name}`;
      return [{ action: `remove user ${a.name}`, effects: [], data: del }];
    }
    const groups = wantedGroups(a);
    if (!s.exists && !s.pending) {
      const opts: string[] = [];
      if (a.uid !== undefined) opts.push(sh`-u ${String(a.uid)}`);
      if (a.group !== undefined) opts.push(sh`-g ${a.group}`);
      else if (s.nameIsGroup) opts.push('-N');
      if (groups?.length) opts.push(sh`-G ${groups.join(',')}`);
      if (a.comment !== undefined) opts.push(sh`-c ${a.comment}`);
      if (a.home !== undefined) opts.push(sh`-d ${a.home}`);
      if (a.shell !== undefined) opts.push(sh`-s ${a.shell}`);
      opts.push((a.create_home ?? a.createhome ?? true) ? '-m' : '-M');
      if (a.system) opts.push('-r');
      const command = `useradd ${opts.join(' ')} ` + sh`${a.name}`;
      return [{ action: `add user ${a.name}`, effects: [effect], data: command }];
    }
    if (s.pending) return [];
    const opts: string[] = [];
    const what: string[] = [];
    const differs = (field: string, wanted: unknown, have: unknown, opt: string) => {
      if (wanted === undefined || wanted === have) return;
      opts.push(sh`${opt} ${String(wanted)}`);
      what.push(`${field} ${String(wanted)}`);
    };
    differs('uid', a.uid, s.uid, '-u');
    differs('group', a.group, s.group, '-g');
    differs('comment', a.comment, s.comment, '-c');
    differs('home', a.home, s.home, '-d');
    differs('shell', a.shell, s.shell, '-s');
    if (groups !== undefined) {
      const missing = groups.filter((g) => !s.groups.includes(g));
      const extra = s.groups.filter((g) => !groups.includes(g));
      if (a.append && missing.length) {
        opts.push(sh`-a -G ${missing.join(',')}`);
        what.push(`groups +${missing.join(',')}`);
      } else if (!a.append && (missing.length || extra.length)) {
        opts.push(sh`-G ${groups.join(',')}`);
        what.push(`groups ${groups.join(',') || '(none)'}`);
      }
    }
    if (!opts.length) return [];
    const command = `usermod ${opts.join(' ')} ` + sh`${a.name}`;
    return [{ action: `set user ${a.name}: ${what.join(', ')}`, effects: [effect], data: command }];
  },
  async apply(ctx, changes) {
    for (const c of changes) await mustRun(ctx, dataOf(c), c.action);
  },
};
