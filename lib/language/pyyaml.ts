// YAML as Ansible's to_yaml and to_nice_yaml write it (PyYAML's yaml.dump): keys sorted, sequences in a
// mapping not indented, plain scalars unless they would read back as something else, single quotes
// otherwise, lines folded at spaces past 80 columns. to_yaml (default_flow_style=None) writes a collection
// of scalars only in flow style ({a: 1}, [1, 2]); to_nice_yaml writes block style with an indent of 4.
// Not done: double-quoted scalars for control characters (written single-quoted here).

const WIDTH = 80;
const BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const NULL = /^(?:~|null|Null|NULL)$/;
const INT = new RegExp(
  '^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$',
);
const FLOAT = new RegExp(
  '^(?:[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+][0-9]+)?|\\.[0-9_]+(?:[eE][-+][0-9]+)?' +
    '|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*|[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN))$',
);
const TIMESTAMP = /^[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?/;

const isCollection = (v: unknown): v is object => typeof v === 'object' && v !== null;
const entries = (v: object): [string, unknown][] =>
  Array.isArray(v)
    ? v.map((x, i) => [String(i), x])
    : Object.keys(v)
        .sort()
        .map((k) => [k, (v as Record<string, unknown>)[k]]);

/** Whether PyYAML writes this string plain (in block or flow context). */
function plainAllowed(s: string, flow: boolean): boolean {
  if (s === '' || s !== s.trim() || s.includes('\n')) return false;
  if (BOOL.test(s) || NULL.test(s) || INT.test(s) || FLOAT.test(s) || TIMESTAMP.test(s) || s === '=' || s === '<<')
    return false;
  if (/^[#,[\]{}&*!|>'"%@`]/.test(s) || /^[-?:](\s|$)/.test(s)) return false;
  if (s.includes(': ') || s.includes(' #') || s.endsWith(':')) return false;
  if (flow && /[,[\]{}]/.test(s)) return false;
  if (flow && (s.includes('?') || s.includes(':'))) return /^[^?:]*$/.test(s);
  return !/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(s);
}

/** Words written from column `col`, a line break (at `indent`) replacing a single space once past 80. */
function fold(text: string, col: number, indent: number): string {
  let out = '';
  let column = col;
  const words = text.split(' ');
  words.forEach((w, i) => {
    if (i > 0) {
      const single = w !== '' && words[i - 1] !== '';
      if (single && column > WIDTH) {
        out += '\n' + ' '.repeat(indent);
        column = indent;
      } else {
        out += ' ';
        column++;
      }
    }
    out += w;
    column += w.length;
  });
  return out;
}

function scalar(v: unknown, col: number, indent: number, flow: boolean): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    if (Number.isNaN(v)) return '.nan';
    if (!Number.isFinite(v)) return v > 0 ? '.inf' : '-.inf';
    return String(v).replace(/e([-+])(\d)$/, 'e$10$2');
  }
  const s = String(v);
  if (plainAllowed(s, flow)) return fold(s, col, indent);
  // Single quoted: a quote doubled, a line break written as an empty line.
  const body = s.replace(/'/g, "''");
  const lines = body.split('\n').map((l, i) => (i === 0 ? fold(l, col + 1, indent) : fold(l, indent, indent)));
  return `'${lines.join('\n\n' + ' '.repeat(indent))}'`;
}

/** A collection of scalars in flow style, from column `col`; past 80 columns the next item goes on a new line. */
function flowCollection(v: object, col: number, indent: number): string {
  let out = Array.isArray(v) ? '[' : '{';
  let column = col + 1;
  entries(v).forEach(([k, x], i) => {
    if (i > 0) {
      out += ',';
      column++;
      if (column > WIDTH) {
        out += '\n' + ' '.repeat(indent);
        column = indent;
      } else {
        out += ' ';
        column++;
      }
    }
    const key = Array.isArray(v) ? '' : `${scalar(k, column, indent, true)}: `;
    const text = key + scalar(x, column + key.length, indent, true);
    out += text;
    const nl = text.lastIndexOf('\n');
    column = nl < 0 ? column + text.length : text.length - nl - 1;
  });
  return out + (Array.isArray(v) ? ']' : '}');
}

/** Lines of a node written at `indent` (for a mapping's keys or a sequence's dashes). */
function block(v: unknown, indent: number, step: number, flowLeaves: boolean): string {
  const pad = ' '.repeat(indent);
  if (!isCollection(v)) return scalar(v, indent, indent, false) + '\n';
  const es = entries(v);
  if (!es.length || (flowLeaves && isLeaf(v))) return flowCollection(v, indent, indent + step) + '\n';
  let out = '';
  for (const [k, x] of es) {
    const nested = isCollection(x) && entries(x).length > 0 && !(flowLeaves && isLeaf(x));
    const dash = nested ? '-' + ' '.repeat(step - 1) : '-';
    const head = Array.isArray(v) ? dash : `${scalar(k, indent, indent, false)}:`;
    if (Array.isArray(v) && nested) {
      // A collection in a sequence starts on the dash's line.
      out += pad + head + block(x, indent + step, step, flowLeaves).slice(indent + step);
    } else if (!nested) {
      const col = indent + head.length + 1;
      const text = isCollection(x) ? flowCollection(x, col, indent + 2 * step) : scalar(x, col, indent + step, false);
      out += pad + head + ' ' + text + '\n';
    } else {
      // A sequence in a mapping is not indented; a mapping is.
      out += pad + head + '\n' + block(x, Array.isArray(x) ? indent : indent + step, step, flowLeaves);
    }
  }
  return out;
}
const isLeaf = (v: object) => entries(v).every(([, x]) => !isCollection(x));

/** Ansible's to_yaml (flowLeaves) and to_nice_yaml (block style, indent 4). */
export function pyYamlDump(value: unknown, opts: { flowLeaves: boolean; indent?: number }): string {
  return block(value, 0, opts.indent ?? 2, opts.flowLeaves);
}
