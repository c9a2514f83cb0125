// Cluster membership: this node is a member of the cluster the seed node belongs to.
// Reads the node's snapshot (shared with the other rabbitmq_* tasks); joins one node at a time (parallel joins
// race); never resets a node that holds other members.
import { TaskError } from '../../util/errors.js';
import { sh } from '../../connection/quote.js';
import { TaskCtx, TaskType } from '../task.js';
import { ctl, needNode, nodeName, oneAtATime } from './_rabbitmq.js';
import { part, snapshot } from './_snapshot.js';
import { lastLines } from '../builtin/_output.js';

interface ClusterArgs {
  seed: string;
}
interface ClusterState {
  self: string;
  seed: string;
  disk: string[];
  running: string[];
}

export { nodeName };

/** The node's own name (rabbit@ and its short hostname) is the one the inventory gives it, which the other nodes'
 *  rabbitmq.conf and /etc/hosts use: else the cluster cannot form, so say what to write. */
function sameNode(ctx: TaskCtx, self: string): string {
  const want = nodeName(ctx, ctx.host.name);
  if (self !== want)
    throw new TaskError(
      `this node runs as ${self} (rabbit@ and its short hostname), but the inventory makes it ${want}, the name ` +
        `its peers' rabbitmq.conf and /etc/hosts use: set rabbitmq_nodename: ${self} for ${ctx.host.name} ` +
        '(or give the host the hostname its inventory name says)',
    );
  return self;
}

export const rabbitmq_cluster: TaskType<ClusterArgs, ClusterState> = {
  name: 'rabbitmq_cluster',
  schema: {
    type: 'object',
    properties: { seed: { type: 'string', minLength: 1 } },
    required: ['seed'],
    additionalProperties: false,
  },
  async check(ctx, a) {
    const peers = needNode(ctx, 'cluster membership (first boot may settle it through peer discovery)');
    if (peers) {
      // A stopped node that would be started: its membership is on its disk.
      const r = await ctl(
        ctx,
        {
          self: 'echo rabbit@$(hostname -s)',
          nodes: 'cat /var/lib/rabbitmq/mnesia/rabbit@$(hostname -s)/cluster_nodes.config',
        },
        'reading cluster membership from disk',
      );
      const [all = '', disc = ''] = r.nodes.out.split('],');
      const atoms = (s: string) => s.match(/'?rabbit@[\w.-]+'?/g)?.map((x) => x.replace(/'/g, '')) ?? [];
      return {
        self: sameNode(ctx, r.self.out.trim()),
        seed: nodeName(ctx, a.seed),
        disk: atoms(disc).length ? atoms(disc) : atoms(all),
        running: [],
      };
    }
    const s = await snapshot(ctx, 'cluster membership');
    const c = part(s, 'cluster', 'cluster membership');
    return { self: sameNode(ctx, s.node), seed: nodeName(ctx, a.seed), disk: c.disc, running: c.running };
  },
  plan(_a, s) {
    if (s.self === s.seed || s.disk.includes(s.seed)) return [];
    return [
      {
        action: `join ${s.self} to the cluster of ${s.seed}`,
        effects: [{ kind: 'other', what: 'cluster membership' }],
      },
    ];
  },
  async apply(ctx, _changes, a) {
    const seed = nodeName(ctx, a.seed);
    await oneAtATime(seed, async () => {
      // Read again now: an earlier join (one at a time) may have made this one unneeded.
      const s = await snapshot(ctx, 'cluster membership', { fresh: true });
      const disc = part(s, 'cluster', 'cluster membership').disc;
      const self = s.node;
      if (disc.includes(seed)) return;
      const others = disc.filter((n) => n !== self);
      if (others.length)
        throw new TaskError(
          `${self} is already clustered with ${others.join(', ')} but not with ${seed}: ` +
            "joining would reset it and lose that cluster's data. Decide which cluster is right, then reset the node " +
            'by hand (rabbitmqctl stop_app; rabbitmqctl reset; rabbitmqctl start_app).',
        );
      const j = await ctl(
        ctx,
        {
          stop: 'rabbitmqctl stop_app',
          join: sh`rabbitmqctl join_cluster ${seed}`,
          start: 'rabbitmqctl start_app',
        },
        `joining ${seed}`,
      );
      if (j.join.code !== 0) {
        const down = /unable to connect|nodedown|could not contact|unable to perform/i.test(j.join.out);
        throw new TaskError(
          down
            ? `cannot join ${seed}: the seed node is down or unreachable from ${self} (epmd 4369, 25672, ` +
                'the same Erlang cookie, and /etc/hosts must all be right). Start the seed node, then run again.'
            : `joining ${seed} failed: ${lastLines(j.join.out, 3)}`,
        );
      }
      if (j.start.code !== 0)
        throw new TaskError(`rabbitmqctl start_app failed after joining ${seed}: ${lastLines(j.start.out, 3)}`);
    });
  },
};
