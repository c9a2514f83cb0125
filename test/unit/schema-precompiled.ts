// The schema compiled at build time (issue 11: scripts/build.mjs writes ajv's standalone code to
// dist/lib/core/schema-validators.js) is the schema of lib/core/schema.ts, and judges every value as ajv
// compiling the schema at run time does: same verdict, same errors, for every piece and many values.
import t from 'tap';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ajvInstance, buildSchema, schemaHash, schemaRefs } from '../../dist/lib/core/schema.js';

const file = resolve('dist/lib/core/schema-validators.js');

/** Values of many shapes for a schema part: each property given each kind of value, and a few wholes. */
function samples(part: Record<string, any>): unknown[] {
  const kinds: unknown[] = ['x', 'yes', '80', 80, 1.5, true, null, [], ['a'], [1], {}, { a: 1 }];
  const out: unknown[] = [...kinds, { unknown_key: 1 }];
  const props = Object.keys(part.properties ?? {});
  for (const p of props) for (const v of kinds) out.push({ [p]: v });
  const required = (part.required ?? []) as string[];
  if (required.length) out.push(Object.fromEntries(required.map((r) => [r, 'x'])));
  if (props.length > 1) out.push(Object.fromEntries(props.map((p) => [p, 'x'])));
  return out;
}

t.test('the build wrote the compiled schema, from this schema', async (t) => {
  t.ok(existsSync(file), `${file} exists (npm run build writes it)`);
  const mod = await import(file);
  t.equal(mod.SCHEMA_HASH, schemaHash(), 'its fingerprint is the schema of lib/core/schema.ts');
  t.same(Object.keys(mod.VALIDATORS).sort(), schemaRefs().sort(), 'one function per piece of the schema');
});

t.test('compiled ahead of time and compiled now agree on every piece', async (t) => {
  const { VALIDATORS } = await import(file);
  const ajv = ajvInstance();
  const defs = buildSchema().$defs;
  let compared = 0;
  for (const ref of schemaRefs()) {
    const now = ajv.getSchema(`https://rmqplay.dev/playbook.schema.json#/$defs/${ref}`)!;
    const part = ref.startsWith('tasks/') ? defs.tasks[ref.slice(6)] : defs[ref];
    for (const value of samples(part)) {
      const a = VALIDATORS[ref](structuredClone(value));
      const b = now(structuredClone(value));
      if (a !== b || JSON.stringify(VALIDATORS[ref].errors) !== JSON.stringify(now.errors)) {
        t.fail(`${ref}: ${JSON.stringify(value)}: ahead ${a} ${JSON.stringify(VALIDATORS[ref].errors)}, now ${b}`);
      }
      compared++;
    }
  }
  t.ok(compared > 500, `${compared} values compared`);
});
