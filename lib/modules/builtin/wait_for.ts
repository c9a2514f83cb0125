import { SkipTask, TaskError } from '../../util/errors.js';
import { q } from '../../connection/quote.js';
import { TaskType } from '../task.js';

interface WaitArgs {
  port?: number;
  host?: string;
  path?: string;
  state?: 'started' | 'stopped' | 'present' | 'absent';
  timeout?: number;
  delay?: number;
  search_regex?: string;
}

/** Waits on the host itself (a port it listens on, a file), so it works on private networks. */
export const wait_for: TaskType<WaitArgs, { waitedS: number }> = {
  name: 'wait_for',
  schema: {
    type: 'object',
    properties: {
      port: { type: 'integer', minimum: 1, maximum: 65535 },
      host: { type: 'string' },
      path: { type: 'string' },
      state: { enum: ['started', 'stopped', 'present', 'absent'] },
      timeout: { type: 'integer', minimum: 0 },
      delay: { type: 'integer', minimum: 0 },
      search_regex: { type: 'string' },
    },
    oneOf: [{ required: ['port'] }, { required: ['path'] }],
    additionalProperties: false,
  },
  async check(ctx, a) {
    if (!ctx.pending.empty) throw new SkipTask('waits for the effect of changes earlier tasks would make');
    const timeout = a.timeout ?? 300;
    const want = a.state ?? 'started';
    const up = want === 'started' || want === 'present';
    const test = a.path
      ? a.search_regex
        ? `grep -Eq ${q(a.search_regex)} ${q(a.path)} 2>/dev/null`
        : `[ -e ${q(a.path)} ]`
      : `(exec 3<>/dev/tcp/${a.host ?? '127.0.0.1'}/${a.port}) 2>/dev/null || (command -v ss >/dev/null && ss -Hltn "sport = :${a.port}" | grep -q .)`;
    const script = `sleep ${a.delay ?? 0}; start=$(date +%s); while :; do if ${a.path ? test : `bash -c ${q(test)}`}; then r=up; else r=down; fi
[ "$r" = ${up ? 'up' : 'down'} ] && { echo $(( $(date +%s) - start )); exit 0; }
[ $(( $(date +%s) - start )) -ge ${timeout} ] && exit 1; sleep 1; done`;
    const r = await ctx.host.run(script, { become: ctx.become, timeoutMs: (timeout + (a.delay ?? 0) + 30) * 1000 });
    if (r.code !== 0)
      throw new TaskError(`timeout after ${timeout} s waiting for ${a.path ?? `port ${a.port}`} to be ${want}`);
    return { waitedS: Number(r.stdout.trim()) || 0 };
  },
  plan: () => [],
  result: (_a, s) => ({ elapsed: s.waitedS }),
  async apply() {},
};
