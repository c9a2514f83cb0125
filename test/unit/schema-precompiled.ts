// The schema compiled at build time (issue 11: scripts/build.mjs writes ajv's standalone code, a file per
// piece, to dist/lib/core/schema-validators/) is the schema of lib/core/schema.ts, and judges every value as
// ajv compiling the schema at run time does: same verdict, same errors, for every piece and many values.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ajvInstance,
  buildSchema,
  precompiled,
  PRECOMPILED_DIR,
  schemaHash,
  schemaRefs,
} from '../../dist/lib/core/schema.js';

const indexFile = join(PRECOMPILED_DIR, 'index.json');

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
  t.ok(existsSync(indexFile), `${indexFile} exists (npm run build writes it)`);
  const index = JSON.parse(readFileSync(indexFile, 'utf8'));
  t.equal(index.hash, schemaHash(), 'its fingerprint is the schema of lib/core/schema.ts');
  t.same(Object.keys(index.files).sort(), schemaRefs().sort(), 'one file per piece of the schema');
  for (const ref of schemaRefs()) t.equal(typeof precompiled(ref), 'function', `${ref} is compiled`);
});

t.test('compiled ahead of time and compiled now agree on every piece', async (t) => {
  const ajv = ajvInstance();
  const defs = buildSchema().$defs;
  let compared = 0;
  for (const ref of schemaRefs()) {
    const now = ajv.getSchema(`https://rmqplay.dev/playbook.schema.json#/$defs/${ref}`)!;
    const part = ref.startsWith('tasks/') ? defs.tasks[ref.slice(6)] : defs[ref];
    const ahead = precompiled(ref)!;
    for (const value of samples(part)) {
      const a = ahead(structuredClone(value));
      const b = now(structuredClone(value));
      if (a !== b || JSON.stringify(ahead.errors) !== JSON.stringify(now.errors)) {
        t.fail(`${ref}: ${JSON.stringify(value)}: ahead ${a} ${JSON.stringify(ahead.errors)}, now ${b}`);
      }
      compared++;
    }
  }
  t.ok(compared > 500, `${compared} values compared`);
});
