// Backslashes in Jinja string literals, as Ansible reads them, and nested dict literals' braces.
// nunjucks drops the backslash of an escape it does not know ('\d' is "d"); Python keeps it ('\d' is "\d").
// And in playbook strings Ansible doubles every
// backslash inside {{ }} literals before Jinja reads them (YAML has already read the escapes), so there
// '\d+' and '\n' are the characters as written. This rewrites literals so nunjucks' lexer reads the same.

const KNOWN_ESCAPES = new Set(['n', 't', 'r', '\\', "'", '"']);

/** A string literal's body (between its quotes), rewritten for nunjucks. */
function literalBody(body: string, asWritten: boolean): string {
  if (asWritten) return body.replace(/\\/g, '\\\\');
  return body.replace(/\\(.)/gs, (m, c: string) => (KNOWN_ESCAPES.has(c) ? m : `\\\\${c}`));
}

/** Where the code that starts at `from` ends (after its closing delimiter), literals rewritten. */
function scanCode(text: string, from: number, close: string, asWritten: boolean): { code: string; end: number } {
  let code = '';
  let i = from;
  let depth = 0;
  while (i < text.length && (depth > 0 || !text.startsWith(close, i))) {
    const c = text[i];
    if (c !== "'" && c !== '"') {
      depth += c === '{' ? 1 : c === '}' ? -1 : 0;
      // A nested dict's }} must not end the expression for nunjucks' lexer (Jinja counts braces).
      code += c === '}' ? '} ' : c;
      i++;
      continue;
    }
    let j = i + 1;
    while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
    code += c + literalBody(text.slice(i + 1, j), asWritten) + (j < text.length ? c : '');
    i = j + 1;
  }
  return { code: pythonIndexing(code) + text.slice(i, i + close.length), end: i + close.length };
}

/** Python's indexing that nunjucks' parser lacks, rewritten into what it reads: `x.1` is `x[1]`, and a
 *  slice `x[a:b:c]` is `x[__rmqplay_slice(a, b, c)]` (an empty part is none). String literals are skipped. */
export function pythonIndexing(code: string): string {
  let out = code;
  for (;;) {
    const next = rewriteOneSlice(out);
    if (next === undefined) break;
    out = next;
  }
  return mapOutsideLiterals(out, (run) => {
    // Again until nothing changes: in `x.0.1` the second index follows the first's rewritten `]`.
    for (let prev = ''; prev !== run;)
      [prev, run] = [run, run.replace(/([A-Za-z_][\w]*|[\])])\.(\d+)(?!\w)/g, '$1[$2]')];
    return run;
  });
}

/** Applies fn to each stretch of code outside string literals. */
function mapOutsideLiterals(code: string, fn: (run: string) => string): string {
  let out = '';
  let run = '';
  for (let i = 0; i < code.length; i++) {
    const c = code[i];
    if (c !== "'" && c !== '"') {
      run += c;
      continue;
    }
    let j = i + 1;
    while (j < code.length && code[j] !== c) j += code[j] === '\\' ? 2 : 1;
    out += fn(run) + code.slice(i, j + 1);
    run = '';
    i = j;
  }
  return out + fn(run);
}

/** The innermost subscript holding a top-level ':' rewritten as a slice call, or undefined when none is left. */
function rewriteOneSlice(code: string): string | undefined {
  const stack: { open: string; at: number; subscript: boolean; colons: number[] }[] = [];
  let prev = '';
  for (let i = 0; i < code.length; i++) {
    const c = code[i];
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < code.length && code[j] !== c) j += code[j] === '\\' ? 2 : 1;
      i = j;
      prev = c;
      continue;
    }
    if (c === '[' || c === '(' || c === '{') {
      stack.push({ open: c, at: i, subscript: c === '[' && /[\w)\]'"]/.test(prev), colons: [] });
    } else if (c === ':' && stack.length && stack[stack.length - 1].open === '[') {
      stack[stack.length - 1].colons.push(i);
    } else if (c === ']' || c === ')' || c === '}') {
      const top = stack.pop();
      if (top && top.open === '[' && top.subscript && top.colons.length && top.colons.length <= 2) {
        const cuts = [top.at, ...top.colons, i];
        const parts = cuts.slice(1).map((end, k) => code.slice(cuts[k] + 1, end).trim() || 'none');
        return `${code.slice(0, top.at)}[__rmqplay_slice(${parts.join(', ')})]${code.slice(i + 1)}`;
      }
    }
    if (!/\s/.test(c)) prev = c;
  }
  return undefined;
}

const RAW_START = /\{%-?\s*raw\s*-?%\}/y;
const RAW_END = /\{%-?\s*endraw\s*-?%\}/g;

/** The text with every string literal in {{ }} and {% %} rewritten; comments and raw blocks untouched.
 *  `playbook`: a playbook string, whose {{ }} literals keep their backslashes as written. */
export function prepareLiterals(text: string, playbook: boolean): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const open = text.slice(i).search(/\{[{%#]/);
    if (open < 0) return out + text.slice(i);
    const at = i + open;
    out += text.slice(i, at);
    const kind = text[at + 1];
    RAW_START.lastIndex = at;
    if (kind === '%' && RAW_START.test(text)) {
      RAW_END.lastIndex = at;
      const end = RAW_END.exec(text);
      const stop = end ? end.index + end[0].length : text.length;
      out += text.slice(at, stop);
      i = stop;
    } else if (kind === '#') {
      const end = text.indexOf('#}', at + 2);
      const stop = end < 0 ? text.length : end + 2;
      out += text.slice(at, stop);
      i = stop;
    } else {
      const scanned = scanCode(text, at + 2, kind === '{' ? '}}' : '%}', playbook && kind === '{');
      out += text.slice(at, at + 2) + scanned.code;
      i = scanned.end;
    }
  }
  return out;
}
