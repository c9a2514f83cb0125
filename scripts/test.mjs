#!/usr/bin/env node
// The test command: the unit tests and the end-to-end tests on the lab. The end-to-end files run one at a
// time, in order (they share the lab's hosts); the unit tests run beside them (they use no lab host), one
// file at a time so they take little of the machine, and their TAP is printed as one block between two lines
// of the end-to-end TAP when they end. Prints tap's TAP and ends with "N passed, N failed", counting each
// test (each t.test) so a run that executed nothing shows "0 passed". With files named, runs those alone.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const only = process.argv.slice(2);
const list = (dir) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .map((f) => `${dir}/${f}`);

if (!existsSync('dist/lib/cli.js')) {
  console.error('dist/ is missing: run "npm run build" first');
  process.exit(1);
}

/** Runs tap on files; each complete line of its TAP goes to `line`. Resolves with the group's counts. */
function runGroup(files, jobs, line) {
  let passed = 0;
  let failed = 0;
  return new Promise((resolve) => {
    const args = ['tap', '--reporter=tap', '--disable-coverage', '--allow-incomplete-coverage', `--jobs=${jobs}`];
    const p = spawn('npx', [...args, '--timeout=1800', ...files], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    const fileFailedAlone = new Map();
    let current = '';
    p.stdout.setEncoding('utf8').on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const text = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        line(text);
        const sub = /^# Subtest: (\S+)/.exec(text);
        if (sub) {
          current = sub[1];
          fileFailedAlone.set(current, 0);
        }
        // A test is a point one level inside a file: "    ok 1 - name" / "    not ok 1 - name".
        const m = /^ {4}(not )?ok \d+ - /.exec(text);
        if (m) {
          if (m[1]) failed++;
          else passed++;
          fileFailedAlone.set(current, (fileFailedAlone.get(current) ?? 0) + 1);
        }
        // A file that failed before any test of its own (a crash) counts as one failure.
        const f = /^not ok \d+ - (\S+)/.exec(text);
        if (f && !fileFailedAlone.get(f[1])) failed++;
      }
    });
    p.on('close', (code) => {
      if (buf) line(buf);
      if (code !== 0 && failed === 0) failed++;
      resolve({ passed, failed });
    });
  });
}

const print = (text) => process.stdout.write(text + '\n');
let results;
if (only.length) {
  results = [await runGroup(only, 1, print)];
} else {
  const unitLines = [];
  const unit = runGroup(list('test/unit'), 1, (l) => unitLines.push(l)).then((r) => {
    print(unitLines.join('\n'));
    return r;
  });
  const e2e = runGroup(list('test/e2e'), 1, print);
  results = await Promise.all([unit, e2e]);
}
const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
