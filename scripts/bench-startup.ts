// Start-up benchmark (issue 11, point 4): prints figures, asserts nothing, needs no lab.
// `npm run bench:startup [-- RUNS]` runs, alternately and RUNS times each (default 20), `node -e 0` (the floor:
// Node's own start-up on this machine, now), `rmqplay --help` and a one-task playbook on the local host
// (gather_facts off, one `command: true`), each as a new process as a user starts it (the package's bin), and
// prints the medians. The bin keeps a V8 code cache (scripts/launcher.cjs), here in the bench's temporary folder:
// the first round, not counted, writes it; the last case shows the playbook without it (RMQPLAY_CODE_CACHE=off).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const runs = Number(process.argv[2] ?? 20);
const cli = resolve(JSON.parse(readFileSync('package.json', 'utf8')).bin.rmqplay);
const dir = mkdtempSync(join(tmpdir(), 'rmqplay-startup-'));
const playbook = join(dir, 'one.yml');
const inventory = join(dir, 'hosts.ini');
writeFileSync(playbook, '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - command: "true"\n');
writeFileSync(inventory, 'localhost ansible_connection=local\n');

const cache = join(dir, 'code-cache');
const cases: { label: string; args: string[]; env?: Record<string, string> }[] = [
  { label: 'node -e 0 (the floor)', args: ['-e', '0'] },
  { label: 'rmqplay --help', args: [cli, '--help'] },
  { label: 'one-task playbook, local host', args: [cli, playbook, '-i', inventory] },
  { label: 'the same, no code cache', args: [cli, playbook, '-i', inventory], env: { RMQPLAY_CODE_CACHE: 'off' } },
];
const times = cases.map(() => [] as number[]);
for (let i = 0; i < runs + 1; i++) {
  cases.forEach((c, k) => {
    const start = performance.now();
    const env = { ...process.env, RMQPLAY_CODE_CACHE: cache, ...c.env };
    const r = spawnSync(process.execPath, c.args, { cwd: dir, encoding: 'utf8', env });
    const ms = performance.now() - start;
    if (r.status !== 0) throw new Error(`${c.label}: exit ${r.status}\n${r.stderr}`);
    if (i > 0) times[k].push(ms); // the first round warms the file cache
  });
}
rmSync(dir, { recursive: true, force: true });

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const floor = median(times[0]);
console.log(`start-up, ${runs} runs each, alternately (node ${process.version}):`);
cases.forEach((c, k) => {
  const m = median(times[k]);
  const over = k ? `, ${(m - floor).toFixed(0).padStart(4)} ms over node` : '';
  console.log(
    `  ${c.label.padEnd(32)} median ${m.toFixed(0).padStart(5)} ms, min ${Math.min(...times[k]).toFixed(0)} ms${over}`,
  );
});
