import { TaskError, UnknownState } from '../../util/errors.js';
import { Change } from '../pending.js';
import { sh } from '../../connection/quote.js';
import { mustRun, TaskType } from '../task.js';
import { dataOf } from './_change.js';

interface AptArgs {
  name?: string | string[];
  pkg?: string | string[];
  state?: 'present' | 'absent' | 'latest';
  update_cache?: boolean;
  cache_valid_time?: number;
  install_recommends?: boolean;
}
interface AptState {
  installed: Record<string, string | null>;
  candidate: Record<string, string | null>;
  cacheAge: number | null;
}
/** What apt does for one change. */
type AptOp = { op: 'update' } | { op: 'install'; pkgs: string[] } | { op: 'remove'; pkgs: string[] };

/** The packages named: a list, or a string that Ansible's list type splits at commas (`name=curl,socat`). */
const names = (a: AptArgs) =>
  [a.name ?? a.pkg ?? []]
    .flat()
    .flatMap((p) => String(p).split(','))
    .map((p) => p.trim())
    .filter(Boolean);
const APT =
  'DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300 ' +
  '-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold';

const INSTALLED = `printf 'pkg %s %s\\n' "$p" "$(dpkg-query -W -f='\${db:Status-Abbrev}\${Version}' "$p" 2>/dev/null)"`;
const CANDIDATE = `printf 'cand %s %s\\n' "$p" "$(apt-cache policy "$p" 2>/dev/null | sed -n 's/^ *Candidate: //p')"`;
// The cache's age as Ansible's apt reads it: the update-success stamp, else the lists folder's own time (the
// files' times can be the repository's: a file: repository's lists keep its Packages file's time).
const CACHE_AGE =
  's=/var/lib/apt/periodic/update-success-stamp; [ -e $s ] || s=/var/lib/apt/lists; ' +
  'if [ -e $s ]; then echo "age $(( $(date +%s) - $(stat -c %Y $s) ))"; else echo "age none"; fi';

/** One round trip: installed versions, candidate versions (for latest) and the cache's age. */
function factScript(pkgs: string[], latest: boolean): string {
  const installed = sh`for p in ${pkgs}; do ` + INSTALLED + '; done';
  const candidates = latest ? sh`for p in ${pkgs}; do ` + CANDIDATE + '; done' : '';
  return [installed, candidates, CACHE_AGE].filter(Boolean).join('\n');
}

export function parseAptFacts(out: string): AptState {
  const st: AptState = { installed: {}, candidate: {}, cacheAge: null };
  for (const line of out.split('\n')) {
    const [kind, name, ...rest] = line.split(' ');
    const v = rest.join(' ').trim();
    if (kind === 'pkg') st.installed[name] = /^ii/.test(v) ? v.replace(/^\S+\s*/, '') : null;
    else if (kind === 'cand') st.candidate[name] = v && v !== '(none)' ? v : null;
    else if (kind === 'age') st.cacheAge = name === 'none' ? null : Number(name);
  }
  return st;
}

export const apt: TaskType<AptArgs, AptState, AptOp> = {
  name: 'apt',
  readAhead: true,
  schema: {
    type: 'object',
    properties: {
      name: { type: ['string', 'array'], items: { type: 'string' } },
      pkg: { type: ['string', 'array'], items: { type: 'string' } },
      state: { enum: ['present', 'absent', 'latest'] },
      update_cache: { type: 'boolean' },
      cache_valid_time: { type: 'integer', minimum: 0 },
      install_recommends: { type: 'boolean' },
    },
    additionalProperties: false,
  },
  async check(ctx, a) {
    const pkgs = names(a);
    const r = await ctx.host.run(factScript(pkgs, a.state === 'latest'), { become: ctx.become });
    const st = parseAptFacts(r.stdout);
    for (const p of pkgs) {
      const pend = ctx.pending.package(p);
      if (pend && pend.effect.kind === 'package')
        st.installed[p] = pend.effect.state === 'present' ? (st.installed[p] ?? 'pending') : null;
    }
    if (a.state === 'latest' && ctx.pending.find((e) => e.kind === 'other' && e.what === 'apt cache'))
      throw new UnknownState('the package cache would be updated first: the candidate versions may change');
    return st;
  },
  plan(a, s) {
    const pkgs = names(a);
    const state = a.state ?? 'present';
    const changes: Change<AptOp>[] = [];
    const stale =
      a.update_cache && a.cache_valid_time !== undefined && (s.cacheAge === null || s.cacheAge > a.cache_valid_time);
    const install =
      state === 'absent'
        ? []
        : pkgs.filter(
            (p) => !s.installed[p] || (state === 'latest' && s.candidate[p] && s.candidate[p] !== s.installed[p]),
          );
    const remove = state === 'absent' ? pkgs.filter((p) => s.installed[p]) : [];
    // Without cache_valid_time the cache is refreshed only when something is installed, so a converged host stays "ok".
    if (stale || (a.update_cache && install.length))
      changes.push({
        action: 'update the package cache',
        effects: [{ kind: 'other', what: 'apt cache' }],
        data: { op: 'update' },
      });
    if (install.length)
      changes.push({
        action: `install ${install.join(' ')}`,
        effects: install.map((name) => ({ kind: 'package' as const, name, state: 'present' as const })),
        data: { op: 'install', pkgs: install },
      });
    if (remove.length)
      changes.push({
        action: `remove ${remove.join(' ')}`,
        effects: remove.map((name) => ({ kind: 'package' as const, name, state: 'absent' as const })),
        data: { op: 'remove', pkgs: remove },
      });
    return changes;
  },
  async apply(ctx, changes, a) {
    const recommends = a.install_recommends === false ? ' --no-install-recommends' : '';
    const script: string[] = ['set -e'];
    for (const c of changes) {
      const d = dataOf(c);
      if (d.op === 'update') script.push(`${APT} update`);
      if (d.op === 'install') script.push(APT + recommends + sh` install ${d.pkgs}`);
      if (d.op === 'remove') script.push(APT + sh` remove ${d.pkgs}`);
    }
    if (script.length > 1) {
      try {
        await mustRun(ctx, script.join('\n'), changes.map((c) => c.action).join(', '), 30 * 60_000);
      } catch (e) {
        if (
          e instanceof TaskError &&
          /Unable to locate package|has no installation candidate/.test(e.detail.stderr ?? '')
        )
          throw new TaskError(
            `${e.message} — check the package name and the host's apt sources (update_cache: true refreshes them)`,
            e.detail,
          );
        throw e;
      }
    }
  },
};
