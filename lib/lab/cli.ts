// rmqplay lab up|down|status|kill|cut|heal|start. Decides no exit code itself: bad options throw OptionsError,
// lab failures throw LabError, and the caller turns them into exit codes with exitCode().
import { EXIT, OptionsError } from '../util/errors.js';
import { DEFAULT_SUBNET, Lab, MAX_NODES } from './lab.js';

interface LabOptions {
  nodes: number;
  subnet: string;
  cache: string;
  names: string[];
}

export function parseLabArgs(args: string[]): LabOptions {
  const opts: LabOptions = {
    nodes: 3,
    subnet: process.env.RMQPLAY_LAB_SUBNET ?? DEFAULT_SUBNET,
    cache: process.env.RMQPLAY_LAB_CACHE ?? '/var/cache/rmqplay/lab',
    names: [],
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--nodes') {
      opts.nodes = Number(args[++i]);
      if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > MAX_NODES)
        throw new OptionsError(
          `--nodes needs a whole number from 1 to ${MAX_NODES}: the lab's /24 subnet gives node1 .11 ` +
            `and has no host address after .254`,
        );
    } else if (a === '--subnet') {
      opts.subnet = args[++i];
      if (!/^\d+\.\d+\.\d+\.0\/24$/.test(opts.subnet ?? ''))
        throw new OptionsError('--subnet needs a /24 such as 10.213.77.0/24');
    } else if (a === '--cache') {
      opts.cache = args[++i];
      if (!opts.cache) throw new OptionsError('--cache needs a folder');
    } else if (a.startsWith('-')) throw new OptionsError(`lab: unknown option ${a}`);
    else opts.names.push(a);
  }
  return opts;
}

function statusLine(h: { name: string; ip: string; running: boolean; ssh: boolean }): string {
  const ssh = h.ssh ? ', answers SSH' : ', no SSH yet';
  const state = h.running ? 'running' + ssh : 'stopped';
  return `${h.name.padEnd(8)} ${h.ip.padEnd(16)} ${state}\n`;
}

export async function labMain(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const { nodes, subnet, cache, names } = parseLabArgs(rest);
  const log = (s: string) => process.stderr.write(s + '\n');
  const lab = new Lab({ cache, subnet, nodes, cwd: process.cwd(), log });
  switch (cmd) {
    case 'up':
      await lab.up();
      return EXIT.ok;
    case 'down':
      await lab.down();
      return EXIT.ok;
    case 'status': {
      const st = await lab.status();
      if (!st.length) {
        process.stdout.write('lab: no hosts (rmqplay lab up)\n');
        return EXIT.ok;
      }
      for (const h of st) process.stdout.write(statusLine(h));
      // Not every host answers SSH: an error, so that a script can wait for the lab.
      return st.every((h) => h.ssh) ? EXIT.ok : EXIT.error;
    }
    case 'kill':
    case 'start':
    case 'cut':
    case 'heal': {
      if (names.length !== 1) throw new OptionsError(`lab ${cmd} needs one host name, e.g. lab ${cmd} node2`);
      const [name] = names;
      if (cmd === 'kill') await lab.kill(name);
      else if (cmd === 'start') await lab.start(name);
      else await lab.link(name, cmd === 'heal');
      return EXIT.ok;
    }
    default:
      throw new OptionsError(`lab: say up, down, status, kill, start, cut or heal (got ${cmd ?? 'nothing'})`);
  }
}
