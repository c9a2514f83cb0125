import { SkipTask, TaskError } from '../../util/errors.js';
import { sh } from '../../connection/quote.js';
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

function pathTest(path: string, regex?: string): string {
  return regex ? sh`grep -Eq ${regex} ${path} 2>/dev/null` : sh`[ -e ${path} ]`;
}

/** A bash script (it needs /dev/tcp): the port accepts a connection, or ss lists it listening. */
function portTest(host: string, port: number): string {
  const listening = `sport = :${port}`;
  const connects = sh`(exec 3<>/dev/tcp/${host}/${port}) 2>/dev/null`;
  return connects + sh` || (command -v ss >/dev/null && ss -Hltn ${listening} | grep -q .)`;
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
    const delay = a.delay ?? 0;
    const wanted = want === 'started' || want === 'present' ? 'up' : 'down';
    const test = a.path ? pathTest(a.path, a.search_regex) : sh`bash -c ${portTest(a.host ?? '127.0.0.1', a.port!)}`;
    const script =
      sh`sleep ${delay}; start=$(date +%s); while :; do if ` +
      test +
      '; then r=up; else r=down; fi\n' +
      sh`[ "$r" = ${wanted} ] && { echo $(( $(date +%s) - start )); exit 0; }\n` +
      sh`[ $(( $(date +%s) - start )) -ge ${timeout} ] && exit 1; sleep 1; done`;
    const r = await ctx.host.run(script, { become: ctx.become, timeoutMs: (timeout + delay + 30) * 1000 });
    if (r.code !== 0)
      throw new TaskError(`timeout after ${timeout} s waiting for ${a.path ?? `port ${a.port}`} to be ${want}`);
    return { waitedS: Number(r.stdout.trim()) || 0 };
  },
  plan: () => [],
  result: (_a, s) => ({ elapsed: s.waitedS }),
  async apply() {},
};
