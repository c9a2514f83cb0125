// nunjucks' parser module, which its types do not declare (jinja.ts names the tree's type).
declare module 'nunjucks/src/parser.js' {
  const parser: { parse(src: string, extensions: unknown[], opts: { trimBlocks: boolean }): unknown; Parser: unknown };
  export default parser;
}
declare module 'nunjucks/src/lexer.js' {
  const lexer: unknown;
  export default lexer;
}
declare module 'nunjucks/src/nodes.js' {
  const nodes: unknown;
  export default nodes;
}
