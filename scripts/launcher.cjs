#!/usr/bin/env node
// rmqplay's command line, the package's bin: scripts/build.mjs writes it as dist/lib/rmqplay.cjs (and
// dist/lib/cli.js, which only imports it). It runs the bundle beside it (cli-bundle.cjs, all of lib/ in one
// CommonJS file) through node:vm with a V8 code cache, for start-up time (issue 11): Node 20 has no
// module.enableCompileCache and its ES modules take no cached data, so without the cache every start parses and
// compiles the same functions again. It is CommonJS itself: Node's ES module loader costs ~15 ms more to start.
// The cache is one file per bundle (its path and build id), Node version and kind of command (a run, --help, lab,
// vault), in $RMQPLAY_CODE_CACHE, else $XDG_CACHE_HOME/rmqplay or ~/.cache/rmqplay; a run that found none (or
// found it rejected by V8) writes it at exit with what that run compiled. RMQPLAY_CODE_CACHE=off runs without.
// The build id keys the file, so a new build never reads an old build's code; writing a build's file removes the
// files of the same path's older builds.
'use strict';
const fs = require('node:fs');
const { join } = require('node:path');
const { Script } = require('node:vm');
const { createRequire } = require('node:module');

const BUILD = '@BUILD@';
const file = join(__dirname, 'cli-bundle.cjs');
const first = process.argv[2];
const kind = ['lab', 'vault', '--version'].includes(first)
  ? first.replace(/^-+/, '')
  : first && first !== '-h' && first !== '--help'
    ? 'run'
    : 'help';
const dir = cacheDir();
const prefix = `${pathKey(file)}-`;
const cacheFile = dir && join(dir, `${prefix}${BUILD}-v8-${process.versions.v8}-${process.arch}-${kind}.bin`);
let cachedData;
if (cacheFile) {
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
}
// The bundle has no import() (scripts/build.mjs): node:vm would need --experimental-vm-modules for it. The build
// wrote it already wrapped in Node's CommonJS function (module.wrap).
const script = new Script(fs.readFileSync(file, 'utf8'), { filename: file, cachedData });
if (cacheFile && (!cachedData || script.cachedDataRejected)) process.once('exit', save);
// Once the event loop is empty (no handle, request or timer holds it: every write flushed, every connection
// closed), exit at once: Node's own teardown of the heap and environment would cost ~3 ms more. 'exit' fires.
process.once('beforeExit', () => process.exit());
const bundle = { exports: {}, filename: file, id: '.', loaded: false };
script.runInThisContext()(bundle.exports, createRequire(file), bundle, file, __dirname);

function cacheDir() {
  const setting = process.env.RMQPLAY_CODE_CACHE;
  if (setting === 'off') return undefined;
  if (setting) return setting;
  const base = process.env.XDG_CACHE_HOME || (process.env.HOME && join(process.env.HOME, '.cache'));
  return base ? join(base, 'rmqplay') : undefined;
}

/** A short name for the bundle's path (FNV-1a), so that two installed copies keep a cache each. */
function pathKey(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** Writes the code this run compiled, atomically (runs may start side by side); a failure only costs speed. */
function save() {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
    fs.renameSync(tmp, cacheFile);
    for (const name of fs.readdirSync(dir)) {
      if (name.startsWith(prefix) && !name.startsWith(prefix + BUILD)) fs.rmSync(join(dir, name), { force: true });
    }
  } catch {
    // No cache: the next run compiles again.
  }
}
