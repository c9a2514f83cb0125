// nunjucks' parser with Jinja's grammar for tests (`is`). nunjucks reads the name after `is` as a whole
// comparison and gives `is` a precedence of its own, between `in` and `==`; Jinja reads a test where it
// reads filters (parse_filter_expr: `x | f is t | g` left to right, tighter than arithmetic and
// comparisons), and its name may take one argument without parentheses: `item is in allowed`,
// `x is not divisibleby 3`, `v is sameas false` (parse_test: a primary and its postfix, unless the next
// word is else, or, and).
import nunjucksLexer from 'nunjucks/src/lexer.js';
import nunjucksNodes from 'nunjucks/src/nodes.js';
import nunjucksParser from 'nunjucks/src/parser.js';
import type { JNode } from './jinja.js';

interface Token {
  type: string;
  value: string;
  lineno: number;
  colno: number;
}

/** The parts of nunjucks' Parser class this subclass uses. */
interface ParserBase {
  extensions: unknown[];
  peekToken(): Token | null;
  nextToken(): Token | null;
  skip(type: string): boolean;
  skipSymbol(value: string): boolean;
  skipValue(type: string, value: string): boolean;
  expect(type: string): Token;
  fail(msg: string, lineno?: number, colno?: number): never;
  parsePrimary(): JNode;
  parseSignature(): JNode;
  parseFilterName(): JNode;
  parseFilterArgs(node: JNode): JNode[];
  parseCompare(): JNode;
  parseAsRoot(): JNode;
}
type NodeClass = new (lineno: number, colno: number, ...fields: unknown[]) => JNode;

const { Parser } = nunjucksParser as unknown as { Parser: new (tokens: unknown) => ParserBase };
const lexer = nunjucksLexer as unknown as Record<string, string> & {
  lex(src: string, opts: { trimBlocks: boolean }): unknown;
};
const nodes = nunjucksNodes as unknown as Record<
  'Symbol' | 'NodeList' | 'FunCall' | 'Filter' | 'Is' | 'Not',
  NodeClass
>;

/** Tokens that start a test's argument written without parentheses (Jinja: name, string, number, [ {). */
const ARG_START = new Set(
  ['SYMBOL', 'STRING', 'INT', 'FLOAT', 'BOOLEAN', 'NONE', 'LEFT_BRACKET', 'LEFT_CURLY'].map((k) => lexer[`TOKEN_${k}`]),
);
const NOT_AN_ARG = new Set(['else', 'or', 'and']);
/** Words Jinja reads as names that nunjucks' lexer reads as literals: test names too (`is none`, `is true`). */
const NAME_TOKENS = new Set([lexer.TOKEN_SYMBOL, lexer.TOKEN_BOOLEAN, lexer.TOKEN_NONE]);

class JinjaParser extends Parser {
  /** No `is` at the comparison level: parseFilter reads it. */
  parseIs(): JNode {
    return this.parseCompare();
  }

  /** Filters and tests after a value, left to right (Jinja's parse_filter_expr). */
  parseFilter(node: JNode): JNode {
    for (;;) {
      if (this.skip(lexer.TOKEN_PIPE)) {
        const name = this.parseFilterName();
        const args = new nodes.NodeList(name.lineno, name.colno, [node, ...this.parseFilterArgs(name)]);
        node = new nodes.Filter(name.lineno, name.colno, name, args);
      } else if (this.skipSymbol('is')) {
        node = this.parseTest(node);
      } else {
        return node;
      }
    }
  }

  /** After `is`: [not] name[.name...] and its arguments, in parentheses or one without (Jinja's parse_test). */
  parseTest(left: JNode): JNode {
    const negated = this.skipSymbol('not');
    const tok = this.nextToken();
    if (!tok || !NAME_TOKENS.has(tok.type)) this.fail('expected a test name after "is"', tok?.lineno, tok?.colno);
    let name = tok.value;
    while (this.skipValue(lexer.TOKEN_OPERATOR, '.')) name += '.' + this.expect(lexer.TOKEN_SYMBOL).value;
    let test = new nodes.Symbol(tok.lineno, tok.colno, name);
    const next = this.peekToken();
    const word = next?.type === lexer.TOKEN_SYMBOL ? next.value : undefined;
    if (next?.type === lexer.TOKEN_LEFT_PAREN) {
      test = new nodes.FunCall(next.lineno, next.colno, test, this.parseSignature());
    } else if (next && ARG_START.has(next.type) && !(word && NOT_AN_ARG.has(word))) {
      if (next.type === lexer.TOKEN_SYMBOL && next.value === 'is')
        this.fail('You cannot chain multiple tests with is', next.lineno, next.colno);
      const arg = this.parsePrimary();
      test = new nodes.FunCall(next.lineno, next.colno, test, new nodes.NodeList(next.lineno, next.colno, [arg]));
    }
    const out = new nodes.Is(left.lineno, left.colno, left, test);
    return negated ? new nodes.Not(left.lineno, left.colno, out) : out;
  }
}

/** A template's parse tree (nunjucks' Root node), read with Jinja's grammar for tests. */
export function parseTemplate(src: string, opts: { trimBlocks: boolean }): JNode {
  const p = new JinjaParser(lexer.lex(src, opts));
  p.extensions = [];
  return p.parseAsRoot();
}
