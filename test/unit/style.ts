// The style and layering gate (issue 7, DESIGN.md section 8): imports in lib/ only point down the layers,
// every file of lib/ is in a layer, no line is over 120 columns and lib/ has no `as any`.
// Each violation is reported as file:line.
import t from 'tap';
import ts from 'typescript';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, posix } from 'node:path';

/** A source file: its path from the repository's root (with "/") and its text. */
interface Source {
  path: string;
  text: string;
}

/**
 * The layers of lib/, highest first. A folder ending in "/" owns everything under it; "folder/*" owns only
 * the files directly in it (so a new subfolder of lib/modules/ is in no layer until it is added here).
 */
const LAYERS: [match: string, rank: number][] = [
  ['lib/cli.ts', 7],
  ['lib/lab/', 6],
  ['lib/tools/', 6],
  ['lib/core/', 5],
  // The registry of task types stands above the folders it registers.
  ['lib/modules/index.ts', 4.3],
  ['lib/modules/rabbitmq/', 4.2],
  ['lib/modules/builtin/', 4.1],
  ['lib/modules/*', 4.0],
  ['lib/language/', 3],
  ['lib/connection/', 2],
  ['lib/util/', 1],
];

const MAX_COLUMNS = 120;

function owns(match: string, path: string): boolean {
  if (match.endsWith('/*')) {
    const folder = match.slice(0, -1);
    return path.startsWith(folder) && !path.slice(folder.length).includes('/');
  }
  if (match.endsWith('/')) return path.startsWith(match);
  return path === match;
}

/** The layer a file of lib/ belongs to, or undefined when it is in none. */
function layerOf(path: string): { match: string; rank: number } | undefined {
  const found = LAYERS.find(([match]) => owns(match, path));
  return found && { match: found[0], rank: found[1] };
}

function lineAt(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length;
}

/** Relative imports (static, type-only, re-exports and import()) with their line, as TypeScript reads them. */
function relativeImports(text: string): { spec: string; line: number }[] {
  const { importedFiles } = ts.preProcessFile(text, true, true);
  const relative = importedFiles.filter((f) => f.fileName.startsWith('.'));
  return relative.map((f) => ({ spec: f.fileName, line: lineAt(text, f.pos) }));
}

/** Files of lib/ that are in no layer. */
function unlayered(files: Source[]): string[] {
  const outside = files.filter((f) => !layerOf(f.path));
  return outside.map((f) => `${f.path}: in no layer (add its folder to LAYERS in test/unit/style.ts)`);
}

/** Imports that point to a higher layer, or to a file that is in no layer. */
function layerViolations(files: Source[]): string[] {
  const out: string[] = [];
  for (const file of files) {
    const from = layerOf(file.path);
    if (!from) continue;
    for (const { spec, line } of relativeImports(file.text)) {
      const resolved = posix.normalize(posix.join(posix.dirname(file.path), spec));
      const target = resolved.replace(/\.js$/, '.ts');
      const to = layerOf(target);
      const where = `${file.path}:${line}`;
      if (!to) out.push(`${where}: imports ${target}, which is in no layer`);
      else if (to.rank > from.rank)
        out.push(`${where}: ${from.match} (${from.rank}) imports ${target} from the higher ${to.match} (${to.rank})`);
    }
  }
  return out;
}

/** What a per-line check finds, as "file:line: finding"; the check returns undefined for a good line. */
function lineFindings(files: Source[], check: (text: string) => string | undefined): string[] {
  const out: string[] = [];
  for (const file of files) {
    file.text.split('\n').forEach((text, i) => {
      const finding = check(text);
      if (finding !== undefined) out.push(`${file.path}:${i + 1}: ${finding}`);
    });
  }
  return out;
}

/** Lines longer than MAX_COLUMNS characters. */
function longLines(files: Source[]): string[] {
  return lineFindings(files, (text) => {
    const columns = [...text.replace(/\r$/, '')].length;
    return columns > MAX_COLUMNS ? `${columns} columns` : undefined;
  });
}

/** Lines with an `as any` cast. */
function anyCasts(files: Source[]): string[] {
  return lineFindings(files, (text) => (/\bas\s+any\b/.test(text) ? text.trim() : undefined));
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The files under a folder of the repository whose name ends with one of the extensions, fixtures left out. */
function sources(folder: string, extensions: string[]): Source[] {
  const names = readdirSync(join(ROOT, folder), { recursive: true, encoding: 'utf8' });
  const paths = names.map((name) => posix.join(folder, name.split('\\').join('/'))).sort();
  const wanted = paths.filter((p) => extensions.some((ext) => p.endsWith(ext)) && !p.startsWith('test/fixtures/'));
  return wanted.map((path) => ({ path, text: readFileSync(join(ROOT, path), 'utf8') }));
}

t.test('the layer check finds upward imports, with file:line', async (t) => {
  const upward = "import { Runner } from '../../core/runner.js';\n";
  const dynamic = "export async function f() {\n  return await import(\n    '../lab/lab.js'\n  );\n}\n";
  const files: Source[] = [
    { path: 'lib/modules/builtin/copy.ts', text: "import x from '../task.js';\n" + upward },
    { path: 'lib/modules/builtin/apt.ts', text: "import { ctl } from '../rabbitmq/_rabbitmq.js';\n" },
    { path: 'lib/modules/rabbitmq/amqp.ts', text: "import { file } from '../builtin/file.js';\n" },
    { path: 'lib/core/runner.ts', text: "// from '../cli.js' in a comment is no import\n" + dynamic },
    { path: 'lib/util/errors.ts', text: "import { q } from '../nowhere/q.js';\n" },
  ];
  const found = layerViolations(files);
  t.equal(found.length, 4, found.join('\n'));
  t.match(found[0], /^lib\/modules\/builtin\/copy\.ts:2: .* imports lib\/core\/runner\.ts /);
  t.match(found[1], /^lib\/modules\/builtin\/apt\.ts:1: .* imports lib\/modules\/rabbitmq\/_rabbitmq\.ts /);
  t.match(found[2], /^lib\/core\/runner\.ts:4: .* imports lib\/lab\/lab\.ts /);
  t.match(found[3], /^lib\/util\/errors\.ts:1: imports lib\/nowhere\/q\.ts, which is in no layer/);
});

t.test('every layer is where the table says', async (t) => {
  t.equal(layerOf('lib/cli.ts')?.rank, 7);
  t.equal(layerOf('lib/modules/task.ts')?.rank, 4.0);
  t.equal(layerOf('lib/modules/builtin/file.ts')?.rank, 4.1);
  t.equal(layerOf('lib/modules/community/x.ts'), undefined, 'a new subfolder of modules/ is added on purpose');
  t.equal(layerOf('lib/newlayer/x.ts'), undefined, 'and so is a new folder of lib/');
  t.equal(layerOf('lib/other.ts'), undefined);
  const fake = [{ path: 'lib/newlayer/x.ts', text: '' }];
  t.same(unlayered(fake), ['lib/newlayer/x.ts: in no layer (add its folder to LAYERS in test/unit/style.ts)']);
});

t.test('the line and cast checks find their lines', async (t) => {
  const long = `const s = '${'x'.repeat(MAX_COLUMNS)}';`;
  const fitting = 'x'.repeat(MAX_COLUMNS);
  t.same(longLines([{ path: 'lib/a.ts', text: `${fitting}\n${long}\n` }]), ['lib/a.ts:2: 133 columns']);
  const cast = 'const a = 1;\nconst b = (a as any).c;\nconst any = 2;\nconst c = a as anything;\n';
  t.same(anyCasts([{ path: 'lib/a.ts', text: cast }]), ['lib/a.ts:2: const b = (a as any).c;']);
});

const lib = sources('lib', ['.ts']);
const tests = sources('test', ['.ts']);
const scripts = sources('scripts', ['.ts', '.mjs']);

t.test('the real tree: every file of lib/ is in a layer', async (t) => {
  t.ok(lib.length > 40, `lib/ has its files (${lib.length})`);
  const found = unlayered(lib);
  t.same(found, [], `${found.length} files of lib/ in no layer`);
});

t.test('the real tree: imports in lib/ only point down the layers', async (t) => {
  const found = layerViolations(lib);
  t.same(found, [], `${found.length} imports point up or outside the layers`);
});

t.test(`the real tree: no line over ${MAX_COLUMNS} columns in lib/, test/ and scripts/`, async (t) => {
  const found = longLines([...lib, ...tests, ...scripts]);
  t.same(found, [], `${found.length} lines over ${MAX_COLUMNS} columns`);
});

t.test('the real tree: no `as any` in lib/', async (t) => {
  const found = anyCasts(lib);
  t.same(found, [], `${found.length} \`as any\` casts in lib/`);
});
