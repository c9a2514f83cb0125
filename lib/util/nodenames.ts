// RabbitMQ node names and the /etc/hosts line of each node, from the inventory name and its variables.
// RabbitMQ names a node rabbit@<short hostname>: with an inventory name mq1 or mq1.example.com that is rabbit@mq1
// (Ansible's inventory_hostname_short); an IP address says nothing about the hostname, so such a host needs
// rabbitmq_nodename. Its peers reach it at rabbitmq_address, else ansible_host, else its name when that is an IP.
import { isIP } from 'node:net';

export interface RabbitNode {
  /** rabbit@mq1 */
  node: string;
  /** The names /etc/hosts gives the address: the FQDN (if the inventory name is one) and the node's host part. */
  names: string[];
  /** The address peers reach the node at (an IP address). */
  address: string;
}

const templated = (v: unknown) => typeof v === 'string' && v.includes('{{');
const NODE = /^[A-Za-z0-9_.-]+@([A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)*)$/;

/** The node name of an inventory host (rabbit@mq1), and the names it has in /etc/hosts; or what to write. */
export function rabbitNodeName(
  host: string,
  vars: Record<string, unknown> = {},
): { node: string; names: string[] } | { error: string } {
  const given = vars.rabbitmq_nodename;
  if (given !== undefined && given !== null && given !== '') {
    const m = NODE.exec(String(given));
    if (!m && !templated(given))
      return { error: `rabbitmq_nodename "${given}" is not a node name: write it as rabbit@<short hostname>` };
    return { node: String(given), names: [m ? m[1] : String(given)] };
  }
  if (isIP(host))
    return {
      error:
        'an IP address as inventory name gives no RabbitMQ node name (RabbitMQ names nodes ' +
        'rabbit@<short hostname>): name the host by its hostname, with the address as ansible_host ' +
        `(mq1: { ansible_host: ${host} }), or give it rabbitmq_nodename: rabbit@<its short hostname>`,
    };
  const short = host.split('.')[0];
  return { node: `rabbit@${short}`, names: short === host ? [short] : [host, short] };
}

/** The node of an inventory host with its address, or a message saying what to write for it. Values that are
 *  still templates are taken as they come (the caller checks them when rendered). */
export function rabbitNode(host: string, vars: Record<string, unknown> = {}): RabbitNode | { error: string } {
  const name = rabbitNodeName(host, vars);
  if ('error' in name) return name;
  const addr = vars.rabbitmq_address ?? vars.ansible_host ?? vars.ansible_ssh_host ?? (isIP(host) ? host : undefined);
  if (addr === undefined || addr === null || addr === '')
    return {
      error:
        'site.yml writes every node into /etc/hosts of its peers, and nothing gives this one an address: ' +
        'set ansible_host (or rabbitmq_address) to its IP address',
    };
  if (!isIP(String(addr)) && !templated(addr))
    return {
      error:
        `its address "${addr}" is not an IP address, and /etc/hosts needs one: set rabbitmq_address ` +
        'to the IP address its peers reach it at',
    };
  return { ...name, address: String(addr) };
}

/** The node name of a host (rabbit@mq1), or an Error naming the host and what to write. A name with @ is one. */
export function nodeNameOf(host: string, vars: Record<string, unknown> = {}): string {
  if (host.includes('@')) return host;
  const n = rabbitNodeName(host, vars);
  if ('error' in n) throw new Error(`host ${host}: ${n.error}`);
  return n.node;
}

/** The /etc/hosts line of a node: "10.0.1.11 mq1.example.com mq1"; an Error naming the host and what to write. */
export function hostsLine(host: string, vars: Record<string, unknown> = {}): string {
  const n = rabbitNode(host, vars);
  if ('error' in n) throw new Error(`host ${host}: ${n.error}`);
  return `${n.address} ${n.names.join(' ')}`;
}
