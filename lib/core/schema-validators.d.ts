// The schema's pieces compiled ahead of time by `npm run build` (scripts/build.mjs writes
// dist/lib/core/schema-validators.js); read by schema.ts, which falls back to ajv without it.
import type { ValidateFunction } from 'ajv';

/** schemaHash() of the schema the code was compiled from. */
export declare const SCHEMA_HASH: string;
/** One validation function per schemaRefs() entry. */
export declare const VALIDATORS: Record<string, ValidateFunction>;
