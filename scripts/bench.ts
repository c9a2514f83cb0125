// Benchmark: prints figures, asserts nothing. Needs the lab (rmqplay lab up).
//  1. 20 commands over one persistent shell vs 20 commands each in its own SSH session (exec).
//  2. The 20-task core playbook on every lab host: first (changing) and second (converged) run,
//     with the number of SSH connections, channels and commands.
import { spawnSync } from 'node:child_process';
import { loadInventories } from '../lib/core/inventory.js';
import { SshHost, sshTarget } from '../lib/connection/ssh.js';

const inv = loadInventories(['lab']);
const [first] = [...inv.hosts.keys()];
const host = new SshHost(sshTarget(first, inv.hostVars(first)));
const t0 = performance.now();
await host.connect();
const connectMs = performance.now() - t0;
const time = async (fn: () => Promise<unknown>) => {
  const s = performance.now();
  for (let i = 0; i < 20; i++) await fn();
  return performance.now() - s;
};
await host.run('true');
const shellMs = await time(() => host.run('cat /etc/hostname'));
const execMs = await time(() => host.exec('cat /etc/hostname'));
await host.close();
console.log(`SSH connect to ${first}: ${connectMs.toFixed(0)} ms`);
console.log(`20 commands, persistent shell: ${shellMs.toFixed(1)} ms (${(shellMs / 20).toFixed(2)} ms each)`);
console.log(`20 commands, exec (a session each): ${execMs.toFixed(1)} ms (${(execMs / 20).toFixed(2)} ms each)`);

const hosts = inv.hosts.size;
const addresses = [...inv.hosts.keys()].map((h) => inv.hostVars(h).ansible_host).join(' ');
const labKeys = '-i /var/cache/rmqplay/lab/id_ed25519 -o UserKnownHostsFile=/var/cache/rmqplay/lab/known_hosts';
const cleanDemo = `for h in ${addresses}; do ssh ${labKeys} root@$h rm -rf /srv/rmqplay-demo; done`;
spawnSync('bash', ['-c', cleanDemo]);
for (const label of ['first run (changes)', 'second run (converged)', 'check mode (converged)']) {
  const s = performance.now();
  const r = spawnSync(
    'node',
    [
      'dist/lib/cli.js',
      'test/fixtures/core/twenty.yml',
      '-i',
      'lab',
      ...(label.startsWith('check') ? ['--check'] : []),
    ],
    { encoding: 'utf8', env: { ...process.env, RMQPLAY_STATS: '1' } },
  );
  const ms = performance.now() - s;
  const stats = /hosts=.*/.exec(r.stderr)?.[0] ?? '';
  console.log(`20-task playbook on ${hosts} hosts, ${label}: ${ms.toFixed(0)} ms, exit ${r.status}; ${stats}`);
}
