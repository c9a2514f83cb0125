// What running a playbook needs, in one module: the command line imports it only when it runs one, so that
// --help, the lab and the vault tool do not load the runner (start-up time, issue 11), and the bundle
// (scripts/build.mjs) keeps the runner in one file.
export { addImplicitLocalhost, loadInventories } from './inventory.js';
export { handlerStatePath } from './handlerstate.js';
export { checkRabbitNodes } from './rabbitnodes.js';
export { checkNotify, checkVariables, loadPlaybook, resolvePlaybookPath } from './playbook.js';
export { Reporter } from './report.js';
export { Scheduler } from './scheduler.js';
export { loadYamlFile } from '../language/yaml.js';
export { setVaultPasswords } from '../util/vault.js';
export { loadVaultPasswords } from '../util/vaultpass.js';
