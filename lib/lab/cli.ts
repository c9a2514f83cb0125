// rmqplay lab up|down|status|kill|cut|heal|start
import { LabError, OptionsError } from '../util/errors.js';
import { DEFAULT_SUBNET, Lab } from './lab.js';

export async function labMain(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  let nodes = 3,
    subnet = process.env.RMQPLAY_LAB_SUBNET ?? DEFAULT_SUBNET,
    cache = process.env.RMQPLAY_LAB_CACHE ?? '/var/cache/rmqplay/lab';
  const names: string[] = [];
  try {
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i];
      if (a === '--nodes') {
        nodes = Number(rest[++i]);
        if (!Number.isInteger(nodes) || nodes < 1 || nodes > 250)
          throw new OptionsError('--nodes needs a whole number from 1 to 250');
      } else if (a === '--subnet') {
        subnet = rest[++i];
        if (!/^\d+\.\d+\.\d+\.0\/24$/.test(subnet ?? ''))
          throw new OptionsError('--subnet needs a /24 such as 10.213.77.0/24');
      } else if (a === '--cache') cache = rest[++i];
      else if (a.startsWith('-')) throw new OptionsError(`lab: unknown option ${a}`);
      else names.push(a);
    }
    const lab = new Lab({ cache, subnet, nodes, cwd: process.cwd(), log: (s) => process.stderr.write(s + '\n') });
    switch (cmd) {
      case 'up':
        await lab.up();
        return 0;
      case 'down':
        await lab.down();
        return 0;
      case 'status': {
        const st = await lab.status();
        if (!st.length) {
          process.stdout.write('lab: no hosts (rmqplay lab up)\n');
          return 0;
        }
        for (const h of st)
          process.stdout.write(
            `${h.name.padEnd(8)} ${h.ip.padEnd(16)} ${h.running ? 'running' : 'stopped'}${h.running ? (h.ssh ? ', answers SSH' : ', no SSH yet') : ''}\n`,
          );
        return st.every((h) => h.ssh) ? 0 : 1;
      }
      case 'kill':
      case 'start':
      case 'cut':
      case 'heal': {
        if (names.length !== 1) throw new OptionsError(`lab ${cmd} needs one host name, e.g. lab ${cmd} node2`);
        if (cmd === 'kill') await lab.kill(names[0]);
        else if (cmd === 'start') await lab.start(names[0]);
        else await lab.link(names[0], cmd === 'heal');
        return 0;
      }
      default:
        throw new OptionsError(`lab: say up, down, status, kill, start, cut or heal (got ${cmd ?? 'nothing'})`);
    }
  } catch (e) {
    if (e instanceof OptionsError) {
      process.stderr.write(`ERROR: ${e.message}\n`);
      return 5;
    }
    if (e instanceof LabError) {
      process.stderr.write(`ERROR: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
