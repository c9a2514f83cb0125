// Variables of a host at a task, in Ansible's precedence order (lowest first):
//   role defaults < inventory (group, then host) < gathered facts < play vars < vars_files < role vars
//   < block and task vars < registered results, set_fact and include_vars < role params < extra vars (-e)
//   < magic variables < the loop item of a dynamic include < the loop variable.
// What does not change during a play (everything up to role vars but facts) is merged once per host and role.
import { Inventory } from './inventory.js';
import { Play, Role } from './playbook.js';
import { holdsTemplate, makeLazy } from '../language/template.js';

export const OMIT = '__omit_place_holder__';

/** An empty layer, the same object each time (templateKeysOf keeps what it found per layer object). */
const NONE: Record<string, unknown> = Object.freeze({});

/** What the scheduler knows about hosts that variables need: their facts and who is still active. */
export interface HostFacts {
  /** Registered results, set_fact and include_vars. */
  facts(host: string): Record<string, unknown>;
  /** Gathered facts: ansible_facts and the ansible_NAME of each (none when not given). */
  gathered?(host: string): Record<string, unknown>;
  activeHosts(): string[];
}

export interface RunFlags {
  check: boolean;
  diff: boolean;
  forks: number;
  playbookDir: string;
  /** -e KEY=VALUE and -e @FILE: written by people, so templates. */
  extraVars: Record<string, unknown>;
  /** -e '{"json": ...}': data, never rendered. */
  extraData: Record<string, unknown>;
}

export class InventoryVars {
  /** Merged inventory variables of each host, computed once per run: the inventory does not change. */
  readonly hostVars = new Map<string, Record<string, unknown>>();
  readonly groups: Record<string, string[]> = {};
  readonly groupNames = new Map<string, string[]>();

  constructor(inv: Inventory) {
    for (const g of inv.groups.keys()) this.groups[g] = inv.groupHosts(g);
    for (const h of inv.hosts.keys()) {
      this.hostVars.set(h, inv.hostVars(h));
      this.groupNames.set(h, inv.groupNames(h));
    }
  }
}

export const shortName = (host: string): string => host.split('.')[0];

/** The variables of one play: built when the play starts, asked for each task on each host. */
export class PlayVars {
  private base = new Map<
    Role | undefined,
    Map<string, { low: Record<string, unknown>; high: Record<string, unknown> }>
  >();
  private magic = new Map<string, Record<string, unknown>>();
  private hostvars: Record<string, unknown>;
  private playRoleDefaults: Record<string, unknown>;
  private playRoleVars: Record<string, unknown>;

  constructor(
    private inv: InventoryVars,
    private play: Play,
    private playHosts: string[],
    private flags: RunFlags,
    private hosts: HostFacts,
  ) {
    // As in Ansible, the play's roles' defaults and vars are visible to the whole play.
    this.playRoleDefaults = Object.assign({}, ...play.roles.map((r) => r.defaults));
    this.playRoleVars = Object.assign({}, ...play.roles.map((r) => r.vars));
    this.hostvars = lazyHostvars(inv, hosts);
  }

  /** Variables of a host at a task; `loop` holds the loop variable of the current item. */
  forTask(task: TaskScope, host: string, loop: Record<string, unknown> = {}): Record<string, unknown> {
    const params = task.role?.params ?? NONE;
    const facts = this.hosts.facts(host);
    const magic = { ...this.magicOf(host), ...this.activeMagic() };
    const { extraVars, extraData } = this.flags;
    // Lowest first; `true` marks data: values that came from hosts or JSON, never rendered.
    const base = this.baseOf(host, task.role);
    const layers: [Record<string, unknown>, boolean][] = [
      [base.low, false],
      [this.hosts.gathered?.(host) ?? {}, true],
      [base.high, false],
      [task.vars, false],
      [facts, true],
      [params, false],
      [extraVars, false],
      [extraData, true],
      [magic, true],
      [task.data ?? {}, true],
      [loop, true],
    ];
    return layered(layers);
  }

  /** Below facts (role defaults, inventory) and above them (play vars, vars files, role vars), per role
   *  object: one role imported twice with other defaults_from is two roles. */
  private baseOf(
    host: string,
    role: Role | undefined,
  ): { low: Record<string, unknown>; high: Record<string, unknown> } {
    let byHost = this.base.get(role);
    if (!byHost) {
      byHost = new Map();
      this.base.set(role, byHost);
    }
    let b = byHost.get(host);
    if (!b) {
      const p = this.play;
      const defaults = { ...this.playRoleDefaults, ...role?.defaults };
      const roleVars = { ...this.playRoleVars, ...role?.vars };
      b = { low: { ...defaults, ...this.inv.hostVars.get(host) }, high: { ...p.vars, ...p.varsFiles, ...roleVars } };
      byHost.set(host, b);
    }
    return b;
  }

  private magicOf(host: string): Record<string, unknown> {
    let m = this.magic.get(host);
    if (!m) {
      m = {
        inventory_hostname: host,
        inventory_hostname_short: shortName(host),
        groups: this.inv.groups,
        group_names: this.inv.groupNames.get(host) ?? [],
        hostvars: this.hostvars,
        ansible_play_hosts_all: this.playHosts,
        ansible_check_mode: this.flags.check,
        ansible_diff_mode: this.flags.diff,
        playbook_dir: this.flags.playbookDir,
        omit: OMIT,
        ansible_forks: this.flags.forks,
      };
      this.magic.set(host, m);
    }
    return m;
  }

  /** The hosts of the play still running: changes as hosts fail, so it is read at each task. */
  private activeMagic(): Record<string, unknown> {
    const active = this.hosts.activeHosts();
    return { ansible_play_hosts: active, play_hosts: active, ansible_play_batch: active };
  }
}

/** What forTask needs of a task: its vars and its role. */
export interface TaskScope {
  vars: Record<string, unknown>;
  role?: Role;
  /** Variables that are data (the loop item of a dynamic include). */
  data?: Record<string, unknown>;
}

/** Merged layers as templates see them: the key's last layer decides whether it is data. Object spread copies
 *  fastest and defines own properties, as setOwn does (a "__proto__" key stays a key); only the keys whose
 *  last layer is not data and holds a template become lazy. */
function layered(layers: [Record<string, unknown>, boolean][]): Record<string, unknown> {
  let merged: Record<string, unknown> = {};
  for (const [layer] of layers) merged = { ...merged, ...layer };
  for (let i = 0; i < layers.length; i++) {
    const [layer, isData] = layers[i];
    if (isData) continue;
    for (const k of templateKeysOf(layer)) {
      let last = true;
      for (let j = i + 1; j < layers.length && last; j++) if (Object.hasOwn(layers[j][0], k)) last = false;
      if (last) makeLazy(merged, k, layer[k]);
    }
  }
  return merged;
}

/** The keys of a layer that is not data whose values hold templates. Those layers (inventory, play, role, block
 *  and task vars, role params, extra vars) do not change during a run, so each is looked through once. */
const templateKeys = new WeakMap<object, string[]>();
function templateKeysOf(layer: Record<string, unknown>): string[] {
  let keys = templateKeys.get(layer);
  if (!keys) {
    keys = Object.keys(layer).filter((k) => holdsTemplate(layer[k]));
    templateKeys.set(layer, keys);
  }
  return keys;
}

/** hostvars: every inventory host, its variables computed only when a template reads them. */
function lazyHostvars(inv: InventoryVars, hosts: HostFacts): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [h, v] of inv.hostVars) {
    const names = { inventory_hostname: h, inventory_hostname_short: shortName(h) };
    const get = () =>
      layered([
        [v, false],
        [hosts.gathered?.(h) ?? {}, true],
        [hosts.facts(h), true],
        [names, true],
      ]);
    Object.defineProperty(out, h, { get, enumerable: true });
  }
  return out;
}
