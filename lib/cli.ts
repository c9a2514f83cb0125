#!/usr/bin/env node
// The command line. The only place that exits: outcomes and typed errors become Ansible's exit codes
// through exitCode() (0 ok, 1 error, 2 a task failed, 3 a host unreachable, 4 bad input, 5 bad options).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  ConnectError,
  EXIT,
  exitCode,
  LabError,
  OptionsError,
  PlaybookError,
  PlaybookErrors,
  RunEnd,
  VaultError,
} from './util/errors.js';
import { parseKv, RAW_PARAMS } from './language/kv.js';
import { connectionKind, CONNECTIONS } from './connection/host.js';
import type { Reporter } from './core/report.js';
import type { RunOptions } from './core/scheduler.js';
import { collectSecrets, redact } from './util/secrets.js';
import { setOwn } from './util/objects.js';
import { PACKAGE_ROOT } from './util/package.js';
import type { VaultSources } from './util/vaultpass.js';

// Start-up time (issue 11): what only some commands need is imported when they run (the runner through
// core/runner.ts), so that --help does not load the runner, nor a run the lab's or the vault tool's code.

export const USAGE = `Usage: rmqplay PLAYBOOK [-i INVENTORY]... [--check] [--diff] [--limit PATTERN]
               [--tags T] [--skip-tags T] [-e KEY=VALUE | -e @FILE]... [--forks N] [--json]
               [--force-handlers] [-u USER] [--private-key FILE] [-c local|ssh]
               [--vault-password-file F]
       rmqplay lab up [--nodes N] [--subnet 10.77.0.0/24] [--cache DIR]
       rmqplay lab down | status | kill NODE | cut NODE | heal NODE | start NODE
       rmqplay vault create|encrypt|decrypt|view|edit|encrypt_string|rekey [FILE...] (see rmqplay vault --help)

Runs an Ansible-style YAML playbook over SSH. Nothing is sent to any host before the
playbook, its imports, templates, variables and the inventory have been validated.

  -i, --inventory X   an inventory path, or a name: inventory/X.yml, .yaml, .ini or inventory/X/,
                      or a list of hosts: host1,host2:2222,
  -u, --user U        log in as U (below remote_user and the inventory's ansible_user, as in Ansible)
      --private-key F log in with the key F (below ansible_ssh_private_key_file)
  -c, --connection C  connect with C: ssh (the default; smart and paramiko are ssh too) or local (run on
                      this machine); below the play's or task's connection and ansible_connection
  -C, --check         dry run: report what would change, change nothing
  -D, --diff          show unified diffs of files that change (or would)
  -l, --limit P       only hosts matching the pattern P (a:b, a:!b, a:&b, globs)
  -t, --tags T        only tasks tagged T (comma separated)
      --skip-tags T   skip tasks tagged T
  -e, --extra-vars    KEY=VALUE, or @FILE (YAML/JSON); highest precedence
  -f, --forks N       hosts worked on at once (default 50)
      --json          NDJSON events on stdout instead of text
      --force-handlers  run notified handlers even on hosts that failed
      --vault-password-file F, --vault-id [ID@]F|prompt, -J/--ask-vault-pass
                      passwords for ansible-vault files and !vault values (also ANSIBLE_VAULT_PASSWORD_FILE)

Exit codes: 0 ok, 1 error, 2 a task failed, 3 a host was unreachable, 4 bad input, 5 bad options.
`;

/** The run's options (core/scheduler.ts RunOptions) as the command line always sets them, and its own. */
export interface CliOptions extends Omit<RunOptions, 'connect' | 'extraData' | 'login'> {
  playbook: string;
  inventories: string[];
  /** -e '{"JSON": ...}': data, never rendered. The last -e that sets a name wins. */
  extraData: Record<string, unknown>;
  json: boolean;
  /** Where vault passwords come from. */
  vault: VaultSources;
  /** -u/--user and --private-key: below remote_user, the inventory and -e (Ansible's precedence). */
  login: { user?: string; privateKey?: string };
}

export async function parseArgs(argv: string[]): Promise<CliOptions> {
  const o: CliOptions = {
    playbook: '',
    inventories: [],
    check: false,
    diff: false,
    tags: [],
    skipTags: [],
    extraVars: {},
    extraData: {},
    forks: 50,
    json: false,
    forceHandlers: false,
    vault: { files: [], ids: [], ask: false },
    login: {},
  };
  const need = (i: number, flag: string) => {
    if (i >= argv.length) throw new OptionsError(`${flag} needs a value`);
    return argv[i];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] =
      a.startsWith('--') && a.includes('=')
        ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]
        : [a, undefined];
    const val = () => inline ?? need(++i, flag);
    switch (flag) {
      case '-i':
      case '--inventory':
        o.inventories.push(val());
        break;
      case '-u':
      case '--user':
        o.login.user = val();
        break;
      case '-c':
      case '--connection': {
        const c = val();
        if (!connectionKind(c)) {
          const known = Object.keys(CONNECTIONS).join(', ');
          throw new OptionsError(`-c ${c}: rmqplay has the connections ${known}; write -c local or -c ssh`);
        }
        o.connection = c;
        break;
      }
      case '--private-key':
      case '--key-file':
        o.login.privateKey = val();
        break;
      case '-C':
      case '--check':
        o.check = true;
        break;
      case '-D':
      case '--diff':
        o.diff = true;
        break;
      case '-l':
      case '--limit':
        o.limit = val();
        break;
      case '-t':
      case '--tags':
        o.tags.push(...val().split(','));
        break;
      case '--skip-tags':
        o.skipTags.push(...val().split(','));
        break;
      case '-e':
      case '--extra-vars':
        await addExtraVars(o, val());
        break;
      case '-f':
      case '--forks': {
        const n = Number(val());
        if (!Number.isInteger(n) || n < 1) throw new OptionsError('--forks needs a whole number of at least 1');
        o.forks = n;
        break;
      }
      case '--json':
        o.json = true;
        break;
      case '--force-handlers':
        o.forceHandlers = true;
        break;
      case '--vault-password-file':
      case '--vault-pass-file':
        o.vault.files.push(val());
        break;
      case '--vault-id':
        o.vault.ids.push(val());
        break;
      case '-J':
      case '--ask-vault-pass':
      case '--ask-vault-password':
        o.vault.ask = true;
        break;
      default:
        if (a.startsWith('-')) throw new OptionsError(`unknown option ${a}; see rmqplay --help`);
        if (o.playbook) throw new OptionsError(`one playbook at a time: got ${o.playbook} and ${a}`);
        o.playbook = a;
    }
  }
  if (!o.playbook) throw new OptionsError('which playbook? rmqplay PLAYBOOK -i INVENTORY (see --help)');
  return o;
}

/** -e @FILE: a YAML or JSON mapping. A file that does not parse is a bad option (exit 5). */
async function loadExtraVarsFile(file: string): Promise<unknown> {
  const { loadYamlFile } = await import('./core/runner.js');
  try {
    return loadYamlFile(resolve(file));
  } catch (e) {
    if (e instanceof PlaybookError) throw new OptionsError(e.message);
    throw e;
  }
}

async function addExtraVars(o: CliOptions, v: string): Promise<void> {
  const json = v.trim().startsWith('{');
  const [into, from] = json ? [o.extraData, o.extraVars] : [o.extraVars, o.extraData];
  for (const [k, value] of Object.entries(await extraVar(v))) {
    delete from[k];
    setOwn(into, k, value);
  }
}

async function extraVar(v: string): Promise<Record<string, unknown>> {
  if (v.startsWith('@')) {
    const data = await loadExtraVarsFile(v.slice(1));
    if (!data || typeof data !== 'object' || Array.isArray(data))
      throw new OptionsError(`-e ${v}: the file must hold a mapping of names to values`);
    return data as Record<string, unknown>;
  }
  if (v.trim().startsWith('{')) {
    try {
      return JSON.parse(v);
    } catch {
      throw new OptionsError(`-e ${v}: not valid JSON`);
    }
  }
  // KEY=VALUE words split as Ansible's parse_kv splits them (quotes, escapes, {{ }} kept whole).
  let out: Record<string, string>;
  try {
    out = parseKv(v);
  } catch (e) {
    throw new OptionsError(`-e ${v}: ${(e as Error).message}`);
  }
  if (out[RAW_PARAMS] !== undefined || !Object.keys(out).length)
    throw new OptionsError(`-e ${v}: expected KEY=VALUE or @FILE`);
  return out;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(USAGE);
    return argv.length ? EXIT.ok : EXIT.badOptions;
  }
  if (argv[0] === '--version') {
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8'));
    process.stdout.write(pkg.version + '\n');
    return EXIT.ok;
  }
  if (argv[0] === 'lab') return await (await import('./lab/cli.js')).labMain(argv.slice(1));
  if (argv[0] === 'vault') return await (await import('./tools/vault.js')).vaultMain(argv.slice(1));
  const opts = await parseArgs(argv);
  const { Reporter } = await import('./core/runner.js');
  const report = new Reporter(opts.json, opts.diff, opts.check);
  try {
    return exitCode(await run(opts, report));
  } catch (e) {
    if (!(e instanceof PlaybookErrors || e instanceof PlaybookError)) throw e;
    for (const pe of e instanceof PlaybookErrors ? e.errors : [e]) {
      report.error(pe.where.file, pe.where.line, pe.where.column, pe.reason);
    }
    if (!opts.json) process.stderr.write('Nothing was run on any host. Fix the input above and run again.\n');
    return exitCode(e);
  }
}

/** Loads and validates everything, then runs the plays. */
async function run(opts: CliOptions, report: Reporter): Promise<RunEnd> {
  const core = await import('./core/runner.js');
  const {
    addImplicitLocalhost,
    loadInventories,
    checkNotify,
    checkVariables,
    loadPlaybook,
    resolvePlaybookPath,
    Scheduler,
  } = core;
  const { loadVaultPasswords, setVaultPasswords, checkRabbitNodes, handlerStatePath } = core;
  // Before anything is read: inventories, vars files and playbooks may hold vaulted values.
  setVaultPasswords(await loadVaultPasswords(opts.vault));
  collectSecrets(opts.extraVars);
  collectSecrets(opts.extraData);
  const inv = loadInventories(opts.inventories.length ? opts.inventories : ['inventory'], process.cwd());
  const found = resolvePlaybookPath(opts.playbook);
  if (found.note) process.stderr.write(`rmqplay: ${found.note}\n`);
  const extra = { ...opts.extraVars, ...opts.extraData };
  const pb = loadPlaybook(found.path, extra);
  addImplicitLocalhost(
    inv,
    pb.plays.map((p) => p.hosts),
  );
  const names = new Set<string>();
  for (const h of inv.hosts.keys()) for (const k of Object.keys(inv.hostVars(h))) names.add(k);
  const errs = pb.plays.flatMap((p) => [
    ...checkVariables(pb, p, names, extra),
    ...checkNotify(p),
    ...checkRabbitNodes(p, inv, extra),
  ]);
  if (errs.length) throw new PlaybookErrors(errs);
  // Handlers a failed run left pending: one file per inventory, in the working folder (core/handlerstate.ts).
  const handlerState = handlerStatePath(inv.sources);
  const scheduler = new Scheduler(pb, inv, { ...opts, handlerState }, report);
  const end = await scheduler.run();
  report.finish();
  return end;
}

/** An error for people: typed errors are their own message; anything else shows where it came from. */
function explainError(e: unknown): string {
  const known = [LabError, OptionsError, ConnectError, VaultError].some((kind) => e instanceof kind);
  return known ? (e as Error).message : String((e as Error)?.stack ?? e);
}

// A reader that went away (| head) is not an error of ours.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(redact(`ERROR: ${explainError(e)}\n`));
    process.exitCode = exitCode(e);
  },
);
