// The schema's pieces compiled ahead of time, inside the bundled command line: scripts/build.mjs replaces this
// module, in the bundle only, by one that holds the schema they were compiled from (as JSON text) and requires
// each piece's file (dist/lib/core/schema-validators/) when first used, so that the bundle's V8 code cache
// (scripts/launcher.cjs) holds them too (start-up time, issue 11). Outside the bundle (tsc's dist/, the
// tests) there is none, and core/schema.ts reads the files.
export const bundledValidators: { schema: string; files: Record<string, () => unknown> } | undefined = undefined;
