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
  return { code: code + text.slice(i, i + close.length), end: i + close.length };
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
