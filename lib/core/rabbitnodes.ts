// Before any connection: the hosts of a play that builds a RabbitMQ cluster have node names (and, where the play
// writes /etc/hosts, addresses) that util/nodenames.ts can derive. An IP address as inventory name without
// rabbitmq_nodename, or a node with no IP address for /etc/hosts, is bad input (exit 4) naming the host.
import { PlaybookError } from '../util/errors.js';
import { rabbitNode, rabbitNodeName } from '../util/nodenames.js';
import { Inventory } from './inventory.js';
import { matchHosts } from './patterns.js';
import { allTasks, Play } from './playbook.js';

/** Task types that name nodes rabbit@<host>, and the filter and helper that write /etc/hosts lines. */
const NAMES_NODES = /^(rabbitmq_|amqp_verify$)/;
const WRITES_HOSTS = /rabbitmq_hosts_line|rabbit_hosts_line/;

export function checkRabbitNodes(play: Play, inv: Inventory, extra: Record<string, unknown>): PlaybookError[] {
  const tasks = allTasks(play);
  const namesNodes = tasks.some((t) => NAMES_NODES.test(t.type ?? ''));
  const writesHosts = tasks.some((t) => WRITES_HOSTS.test(JSON.stringify(t.args ?? {})));
  if (!namesNodes && !writesHosts) return [];
  const file = inv.sources.join(', ');
  const errors: PlaybookError[] = [];
  let hosts: string[];
  try {
    hosts = matchHosts(inv, play.hosts);
  } catch {
    return []; // a pattern that is a template: its hosts are known at run time only
  }
  for (const h of hosts) {
    const vars = { ...inv.hostVars(h), ...extra };
    const n = writesHosts ? rabbitNode(h, vars) : rabbitNodeName(h, vars);
    if ('error' in n) errors.push(new PlaybookError({ file }, `host ${h} in play "${play.name}": ${n.error}`));
  }
  return errors;
}
