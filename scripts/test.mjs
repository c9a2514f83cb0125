#!/usr/bin/env node
// The test command: unit tests (in parallel), then the end-to-end tests on the lab (one file at a
// time, in order: they share the lab's hosts). Prints tap's TAP and ends with "N passed, N failed",
// counting each test (each t.test) so a run that executed nothing shows "0 passed".
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const only = process.argv.slice(2);
const groups = only.length
  ? [{ files: only, jobs: 1 }]
  : [
      {
        files: readdirSync('test/unit')
          .filter((f) => f.endsWith('.ts'))
          .sort()
          .map((f) => `test/unit/${f}`),
        jobs: 2,
      },
      {
        files: readdirSync('test/e2e')
          .filter((f) => f.endsWith('.ts'))
          .sort()
          .map((f) => `test/e2e/${f}`),
        jobs: 1,
      },
    ];

if (!existsSync('dist/lib/cli.js')) {
  console.error('dist/ is missing: run "npm run build" first');
  process.exit(1);
}

let passed = 0,
  failed = 0;
for (const g of groups) {
  if (!g.files.length) continue;
  const code = await new Promise((resolve) => {
    const p = spawn(
      'npx',
      [
        'tap',
        '--reporter=tap',
        '--disable-coverage',
        '--allow-incomplete-coverage',
        `--jobs=${g.jobs}`,
        '--timeout=1800',
        ...g.files,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let buf = '';
    const fileFailedAlone = new Map();
    let current = '';
    p.stdout.on('data', (d) => {
      process.stdout.write(d);
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const sub = /^# Subtest: (\S+)/.exec(line);
        if (sub) {
          current = sub[1];
          fileFailedAlone.set(current, 0);
        }
        // A test is a point one level inside a file: "    ok 1 - name" / "    not ok 1 - name".
        const m = /^ {4}(not )?ok \d+ - /.exec(line);
        if (m) {
          if (m[1]) failed++;
          else passed++;
          fileFailedAlone.set(current, (fileFailedAlone.get(current) ?? 0) + 1);
        }
        // A file that failed before any test of its own (a crash) counts as one failure.
        const f = /^not ok \d+ - (\S+)/.exec(line);
        if (f && !fileFailedAlone.get(f[1])) failed++;
      }
    });
    p.on('close', resolve);
  });
  if (code !== 0 && failed === 0) failed++;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
