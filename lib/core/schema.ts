// One JSON schema for playbooks: plays, task keywords and, under $defs, every task type's
// arguments. Validation is done piece by piece from its $defs so each error points at the exact play,
// task or argument. `npm run build` compiles every piece into code ahead of time (ajv's standalone code,
// one file per piece, which scripts/build.mjs writes to dist/lib/core/schema-validators/): a run loads the
// pieces it uses and neither loads ajv nor compiles (start-up time, issue 11). Without those files, or when
// they were made from another schema than this one (a build by tsc alone after a change), the pieces are
// compiled with ajv when first used, with the same result. In the bundled command line (scripts/build.mjs), the
// pieces are inside the bundle (core/schema-bundled.ts), so that its code cache holds them.
import type { Ajv, DefinedError, ErrorObject, ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { nodeCrypto } from '../util/crypto.js';
import { PACKAGE_ROOT } from '../util/package.js';
import { taskTypes } from '../modules/index.js';
import { bundledValidators } from './schema-bundled.js';
import { convertBySchema, plainView } from '../language/convert.js';

const { createHash } = nodeCrypto;

const strOrList = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] };
const boolish = { type: ['boolean', 'string'] };
const cond = { anyOf: [{ type: ['string', 'boolean'] }, { type: 'array', items: { type: ['string', 'boolean'] } }] };

export const TASK_KEYWORDS: Record<string, object> = {
  name: { type: 'string' },
  when: cond,
  loop: { type: ['array', 'string'] },
  with_items: { type: ['array', 'string'] },
  with_list: { type: ['array', 'string'] },
  with_dict: { type: ['object', 'string'] },
  with_nested: { type: ['array', 'string'] },
  with_together: { type: ['array', 'string'] },
  with_sequence: { type: ['object', 'string'] },
  with_subelements: { type: ['array', 'string'] },
  with_fileglob: { type: ['array', 'string'] },
  with_first_found: { type: ['array', 'string', 'object'] },
  with_indexed_items: { type: ['array', 'string'] },
  loop_control: {
    type: 'object',
    properties: {
      loop_var: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      index_var: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      label: { type: 'string' },
      pause: { type: ['number', 'string'] },
      extended: boolish,
    },
    additionalProperties: false,
  },
  register: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
  notify: strOrList,
  listen: strOrList,
  tags: strOrList,
  become: boolish,
  become_user: { type: 'string' },
  become_method: { type: 'string' },
  remote_user: { type: 'string' },
  connection: { type: 'string' },
  throttle: { type: ['integer', 'string'] },
  run_once: boolish,
  delegate_to: { type: 'string' },
  ignore_errors: boolish,
  changed_when: cond,
  failed_when: cond,
  until: { type: ['string', 'boolean'] },
  retries: { type: ['integer', 'string'] },
  delay: { type: ['number', 'string'] },
  check_mode: boolish,
  diff: boolish,
  no_log: boolish,
  vars: { type: 'object' },
  args: { type: 'object' },
  environment: { type: ['object', 'string'] },
  block: { type: 'array' },
  rescue: { type: 'array' },
  always: { type: 'array' },
  import_tasks: { type: 'string' },
  include_tasks: {
    anyOf: [
      { type: 'string' },
      { type: 'object', properties: { file: { type: 'string' } }, required: ['file'], additionalProperties: false },
    ],
  },
  import_role: { type: ['object', 'string'] },
  include_role: { type: ['object', 'string'] },
  include_vars: { type: ['object', 'string'] },
  meta: { enum: ['flush_handlers', 'noop', 'end_play', 'end_host', 'clear_host_errors'] },
  any_errors_fatal: boolish,
  timeout: { type: 'integer' },
};

export const PLAY_KEYS: Record<string, object> = {
  name: { type: 'string' },
  hosts: strOrList,
  vars: { type: 'object' },
  vars_files: strOrList,
  serial: { anyOf: [{ type: ['integer', 'string'] }, { type: 'array', items: { type: ['integer', 'string'] } }] },
  become: boolish,
  become_user: { type: 'string' },
  become_method: { type: 'string' },
  strategy: { enum: ['linear', 'free'] },
  any_errors_fatal: boolish,
  max_fail_percentage: { type: ['number', 'string'] },
  pre_tasks: { type: 'array' },
  roles: { type: 'array' },
  tasks: { type: 'array' },
  post_tasks: { type: 'array' },
  handlers: { type: 'array' },
  tags: strOrList,
  force_handlers: boolish,
  environment: { type: ['object', 'string'] },
  // On unless false; facts are gathered only when the play reads one.
  gather_facts: boolish,
  remote_user: { type: 'string' },
  connection: { type: 'string' },
  // Accepted for Ansible compatibility; they change nothing here.
  gather_subset: strOrList,
  ignore_unreachable: boolish,
  order: { type: 'string' },
  collections: strOrList,
  module_defaults: { type: 'object' },
};

export function buildSchema(): Record<string, any> {
  const tasks: Record<string, object> = {};
  for (const [name, t] of taskTypes) tasks[name] = t.schema;
  return {
    $id: 'https://rmqplay.dev/playbook.schema.json',
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'rmqplay playbook',
    type: 'array',
    items: { anyOf: [{ $ref: '#/$defs/import_playbook' }, { $ref: '#/$defs/play' }] },
    $defs: {
      import_playbook: {
        type: 'object',
        properties: {
          import_playbook: { type: 'string' },
          name: { type: 'string' },
          vars: { type: 'object' },
          when: cond,
          tags: strOrList,
        },
        required: ['import_playbook'],
        additionalProperties: false,
      },
      play: { type: 'object', properties: PLAY_KEYS, required: ['hosts'], additionalProperties: false },
      taskKeywords: { type: 'object', properties: TASK_KEYWORDS },
      roleImport: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          tasks_from: { type: 'string' },
          vars_from: { type: 'string' },
          defaults_from: { type: 'string' },
          handlers_from: { type: 'string' },
          public: boolish,
          allow_duplicates: boolish,
          rolespec_validate: boolish,
        },
        required: ['name'],
        additionalProperties: false,
      },
      includeVars: {
        type: 'object',
        properties: {
          file: { type: 'string' },
          dir: { type: 'string' },
          name: { type: 'string' },
          depth: { type: 'integer' },
          files_matching: { type: 'string' },
          ignore_files: strOrList,
          extensions: { type: 'array', items: { type: 'string' } },
          ignore_unknown_extensions: boolish,
          hash_behaviour: { enum: ['replace', 'merge'] },
        },
        oneOf: [{ required: ['file'] }, { required: ['dir'] }],
        additionalProperties: false,
      },
      role: {
        anyOf: [
          { type: 'string' },
          {
            type: 'object',
            properties: {
              role: { type: 'string' },
              name: { type: 'string' },
              vars: { type: 'object' },
              tags: strOrList,
              when: cond,
            },
            additionalProperties: true,
          },
        ],
      },
      tasks,
    },
  };
}

/** The parts of the schema that validator() checks: every $defs entry and every task type's arguments. */
export function schemaRefs(schema: Record<string, any> = buildSchema()): string[] {
  const defs = Object.keys(schema.$defs).filter((k) => k !== 'tasks');
  return [...defs, ...Object.keys(schema.$defs.tasks).map((t) => `tasks/${t}`)];
}

/** The schema's fingerprint, recorded in the code compiled from it. */
export function schemaHash(schema: Record<string, any> = buildSchema()): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex');
}

/** The ajv options, the same for the code compiled ahead of time and for compiling here. */
export const AJV_OPTIONS = { allErrors: true, strict: false, allowUnionTypes: true } as const;

/** Where the build writes the compiled pieces: index.json ({ hash, files: { ref: file } }) and a CommonJS
 *  file per piece (required, so a piece is loaded when first used). */
export const PRECOMPILED_DIR = join(PACKAGE_ROOT, 'dist', 'lib', 'core', 'schema-validators');

let index: { hash: string; files: Record<string, string> } | null | undefined;
let bundledSame: boolean | undefined;

/** The piece at ref as the build compiled it for this very schema, else undefined. */
export function precompiled(ref: string): ValidateFunction | undefined {
  if (bundledValidators) {
    // The bundle holds the schema it was compiled from: compared as text, with no hash to compute.
    bundledSame ??= JSON.stringify((schema ??= buildSchema())) === bundledValidators.schema;
    const load = bundledSame && Object.prototype.hasOwnProperty.call(bundledValidators.files, ref);
    return load ? (bundledValidators.files[ref]() as ValidateFunction) : undefined;
  }
  if (index === undefined) {
    try {
      index = JSON.parse(readFileSync(join(PRECOMPILED_DIR, 'index.json'), 'utf8'));
      if (index?.hash !== schemaHash((schema ??= buildSchema()))) index = null;
    } catch {
      index = null;
    }
  }
  const file = index && Object.prototype.hasOwnProperty.call(index.files, ref) ? index.files[ref] : undefined;
  return file ? (createRequire(import.meta.url)(join(PRECOMPILED_DIR, file)) as ValidateFunction) : undefined;
}

let schema: Record<string, any> | undefined;
let ajv: Ajv | undefined;
const compiled = new Map<string, Validator>();

/** The schema part at ref (a path under $defs). */
function partOf(ref: string): Record<string, unknown> | undefined {
  let node: any = (schema ??= buildSchema()).$defs;
  for (const key of ref.split('/'))
    node = node && Object.prototype.hasOwnProperty.call(node, key) ? node[key] : undefined;
  return node;
}

/** A schema check that first converts the value in place to the declared types (convertBySchema). */
export interface Validator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

/** The check of one part of the playbook schema. As Ansible does, literal values are converted to their
 *  declared type first ("yes" for a boolean, "80" for an integer), in place; templates stay as written. */
export function validator(ref: string): Validator {
  let check = compiled.get(ref);
  if (!check) {
    const pre = precompiled(ref);
    const part = partOf(ref);
    if (pre && part) check = converting(pre, part);
    else {
      const v = ajvInstance().getSchema(`https://rmqplay.dev/playbook.schema.json#/$defs/${ref}`);
      if (!v) throw new Error(`no schema for ${ref}`);
      check = converting(v, v.schema);
    }
    compiled.set(ref, check);
  }
  return check;
}

/** ajv with the whole schema added (it is CommonJS, so required), for compiling here. */
export function ajvInstance(options: Record<string, unknown> = {}): Ajv {
  if (ajv && !Object.keys(options).length) return ajv;
  const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
  const made = new Ajv({ ...AJV_OPTIONS, ...options });
  made.addSchema(buildSchema());
  if (!Object.keys(options).length) ajv = made;
  return made;
}

function converting(v: ValidateFunction, schema: unknown): Validator {
  const check: Validator = (data) => {
    convertBySchema(data, schema);
    // Unsafe text is checked as the string it is.
    const valid = v(plainView(data));
    check.errors = v.errors;
    return valid;
  };
  return check;
}

/** Ajv errors as (path, message), dropping the noise of anyOf/oneOf branches. */
export function explain(errors: ErrorObject[] | null | undefined): { path: string[]; message: string }[] {
  const out: { path: string[]; message: string }[] = [];
  const seen = new Set<string>();
  // Our schema uses only ajv's own keywords, so every error is one of its DefinedError union, whose keyword
  // tells the shape of its params.
  const defined = (errors ?? []) as DefinedError[];
  for (const e of defined) {
    const path = e.instancePath
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    let message: string;
    if (e.keyword === 'additionalProperties') {
      path.push(String(e.params.additionalProperty));
      message = `unknown key "${e.params.additionalProperty}"`;
    } else if (e.keyword === 'required') message = `missing required argument "${e.params.missingProperty}"`;
    else if (e.keyword === 'enum') message = `must be one of: ${e.params.allowedValues.join(', ')}`;
    else if (e.keyword === 'type') message = `must be ${e.params.type}`;
    else if (e.keyword === 'oneOf' || e.keyword === 'anyOf')
      message =
        e.keyword === 'oneOf' && e.params.passingSchemas
          ? 'give only one of the alternatives'
          : 'does not match any allowed form';
    else message = e.message ?? e.keyword;
    const key = path.join('/') + message;
    if (!seen.has(key)) {
      seen.add(key);
      out.push({ path, message });
    }
  }
  return out;
}

/** Rendered arguments checked against the same schema, with the same conversion, as before connecting:
 *  a rendered "80" for an integer or "yes" for a boolean is converted in place. */
export function argumentErrors(taskType: string, args: Record<string, unknown>): string[] {
  const v = validator(`tasks/${taskType}`);
  if (v(args)) return [];
  return explain(v.errors).map((e) => `${e.path.length ? `"${e.path.join('.')}": ` : ''}${e.message}`);
}
