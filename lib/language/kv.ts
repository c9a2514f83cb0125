// Ansible's k=v argument strings (`apt: name={{ item }} update_cache=yes`), split rule for rule as
// ansible/parsing/splitter.py does (split_args, parse_kv, join_args) and quoting.py (unquote): words
// split on spaces, re-joined inside quotes and inside {{ }}, {% %} and {# #}; escapes decoded; the first
// unescaped "=" after the first character separates key and value; one pair of matching outer quotes
// removed from the value. Words that are not k=v are the free-form text (`_raw_params`).
import { setOwn } from '../util/objects.js';

/** The k=v words Ansible pulls out of a command line (command, shell, raw, script): the rest is the command. */
export const COMMAND_KV = [
  'creates',
  'removes',
  'chdir',
  'executable',
  'warn',
  'stdin',
  'stdin_add_newline',
  'strip_empty_ends',
];

/** The key parseKv gives the words that are not k=v, joined as written. */
export const RAW_PARAMS = '_raw_params';

/** The quote a word leaves open, given the one open before it (splitter.py _get_quote_state). */
function quoteState(token: string, quote: string | undefined): string | undefined {
  let open = quote;
  for (let i = 0; i < token.length; i++) {
    const c = token[i];
    const escaped = i > 0 && token[i - 1] === '\\';
    if ((c === '"' || c === "'") && !escaped) {
      if (!open) open = c;
      else if (c === open) open = undefined;
    }
  }
  return open;
}

function count(token: string, sub: string): number {
  return token.split(sub).length - 1;
}

/** A Jinja block depth after a word (splitter.py _count_jinja2_blocks). */
function depthAfter(token: string, depth: number, open: string, close: string): number {
  const opened = count(token, open);
  const closed = count(token, close);
  if (opened === closed) return depth;
  return Math.max(0, depth + opened - closed);
}

/**
 * Splits on spaces, keeping quoted text and Jinja blocks whole (splitter.py split_args, as ansible-core 2.14
 * has it, quirks included: a line that is one word inside a Jinja block is joined with a second newline,
 * and a space or newline before the first word is an error, "Unable to parse argument string").
 */
export function splitArgs(args: string): string[] {
  if (!args) return [];
  const params: string[] = [];
  // Where Python indexes params[-1] of an empty list (an IndexError, that parse_kv reports as this).
  const last = () => {
    if (!params.length)
      throw new Error(`Unable to parse argument string (a space or newline before the first word): ${args}`);
    return params.length - 1;
  };
  const items = args.split('\n');
  let quote: string | undefined;
  let insideQuotes = false;
  let printDepth = 0;
  let blockDepth = 0;
  let commentDepth = 0;
  const inJinja = () => printDepth > 0 || blockDepth > 0 || commentDepth > 0;
  items.forEach((item, itemIdx) => {
    const tokens = item.split(' ');
    let lineContinuation = false;
    tokens.forEach((token, idx) => {
      // Runs of spaces are kept, to be joined back as written.
      if (token === '' && idx !== 0) {
        params[last()] += ' ';
        return;
      }
      if (token === '\\' && !insideQuotes) {
        lineContinuation = true;
        return;
      }
      const wasInsideQuotes = insideQuotes;
      quote = quoteState(token, quote);
      insideQuotes = quote !== undefined;
      let appended = false;
      if (insideQuotes && !wasInsideQuotes && !inJinja()) {
        params.push(token);
        appended = true;
      } else if (inJinja() || insideQuotes || wasInsideQuotes) {
        const i = last();
        if (idx === 0 && wasInsideQuotes) params[i] += token;
        else if (tokens.length > 1) params[i] += (idx > 0 ? ' ' : '') + token;
        else params[i] += '\n' + token;
        appended = true;
      }
      const depths = [printDepth, blockDepth, commentDepth];
      printDepth = depthAfter(token, printDepth, '{{', '}}');
      blockDepth = depthAfter(token, blockDepth, '{%', '%}');
      commentDepth = depthAfter(token, commentDepth, '{#', '#}');
      const depthChanged = depths[0] !== printDepth || depths[1] !== blockDepth || depths[2] !== commentDepth;
      if (depthChanged && !appended) {
        params.push(token);
        appended = true;
      }
      if (!inJinja() && !insideQuotes && !appended && token !== '') params.push(token);
    });
    // Newlines between lines are kept (inside quotes and blocks too), unless a lone "\" continued the line.
    if (items.length > 1 && itemIdx !== items.length - 1 && !lineContinuation) params[last()] += '\n';
  });
  if (inJinja() || insideQuotes)
    throw new Error(`failed at splitting arguments, either an unbalanced jinja2 block or quotes: ${args}`);
  return params;
}

/** Joins words as split_args left them: a space between words, none after a newline (join_args). */
export function joinArgs(words: string[]): string {
  let out = '';
  for (const w of words) out += out === '' || out.endsWith('\n') ? w : ' ' + w;
  return out;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};
const ESCAPE = /\\U[0-9a-fA-F]{8}|\\u[0-9a-fA-F]{4}|\\x[0-9a-fA-F]{2}|\\[\\'"abfnrtv]/g;

/** Python's escape sequences in a word (splitter.py _decode_escapes; \N{name} is left as written). */
export function decodeEscapes(s: string): string {
  return s.replace(ESCAPE, (m) =>
    m.length === 2 ? SIMPLE_ESCAPES[m[1]] : String.fromCodePoint(parseInt(m.slice(2), 16)),
  );
}

/** One pair of matching outer quotes removed, unless the closing one is escaped (quoting.py unquote). */
export function unquote(s: string): string {
  const quoted = s.length > 1 && s[0] === s[s.length - 1] && (s[0] === '"' || s[0] === "'") && s[s.length - 2] !== '\\';
  return quoted ? s.slice(1, -1) : s;
}

/** The position of the first "=" that is not escaped, not counting one in the first character. */
function separator(word: string): number {
  let pos = word.indexOf('=', 1);
  while (pos > 0 && word[pos - 1] === '\\') pos = word.indexOf('=', pos + 1);
  return pos;
}

/** Python's str.strip(): its whitespace is not JavaScript's (\x1c-\x1f and \x85 are, \ufeff is not). */
const PY_SPACE = '[\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const PY_STRIP = new RegExp(`^${PY_SPACE}+|${PY_SPACE}+$`, 'g');
function pyStrip(s: string): string {
  return s.replace(PY_STRIP, '');
}

/**
 * k=v words to a mapping (splitter.py parse_kv). With `command` (a command line: command, shell), only
 * Ansible's command options (COMMAND_KV) are taken out; every other word stays in the free-form text.
 * Words that are not k=v are joined under RAW_PARAMS. Throws on unbalanced quotes or Jinja blocks.
 */
export function parseKv(args: string, command = false): Record<string, string> {
  const options: Record<string, string> = {};
  const raw: string[] = [];
  for (const word of splitArgs(args)) {
    const x = decodeEscapes(word);
    if (!x.includes('=')) {
      raw.push(word);
      continue;
    }
    const pos = separator(x);
    if (pos < 0) {
      raw.push(x.replace(/\\=/g, '='));
      continue;
    }
    const key = x.slice(0, pos);
    if (command && !COMMAND_KV.includes(key)) raw.push(word);
    else setOwn(options, pyStrip(key), unquote(pyStrip(x.slice(pos + 1))));
  }
  if (raw.length) setOwn(options, RAW_PARAMS, joinArgs(raw));
  return options;
}

/**
 * A task's arguments written as one string, read as Ansible reads them (mod_args.py). A task type that
 * takes free-form text (command, shell: `freeForm` names its argument) gets the text, less Ansible's
 * command options written as k=v; any other type takes k=v words only. Throws with the reason otherwise.
 */
export function freeFormArgs(text: string, freeForm?: string): Record<string, string> {
  const args = parseKv(text, freeForm !== undefined);
  const raw = args[RAW_PARAMS];
  if (raw === undefined) return args;
  delete args[RAW_PARAMS];
  if (freeForm !== undefined) {
    setOwn(args, freeForm, raw);
    return args;
  }
  if (raw.includes('{{'))
    throw new Error(`arguments from a template ("${raw}") are not supported: write them as a mapping`);
  throw new Error(`"${raw.trim()}" is not a key=value argument (only command and shell take free-form text)`);
}
