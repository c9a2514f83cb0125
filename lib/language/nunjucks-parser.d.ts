// nunjucks' parser module, which its types do not declare (jinja.ts names the tree's type).
declare module 'nunjucks/src/parser.js' {
  const parser: { parse(src: string, extensions: unknown[], opts: { trimBlocks: boolean }): unknown };
  export default parser;
}
