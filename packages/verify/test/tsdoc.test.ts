import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** STYLE.md 10: TSDoc on every export of the SDK, each with an example. */
describe('the public surface of @tessera/verify', () => {
  it('has TSDoc with an @example code block on every export of index.ts', () => {
    const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url));
    const program = ts.createProgram([entry], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true });
    const checker = program.getTypeChecker();
    const source = program.getSourceFile(entry);
    assert.ok(source);
    const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(source) as ts.Symbol);
    assert.ok(exports.length >= 19, `found ${exports.length} exports`);
    const missing: string[] = [];
    for (const exported of exports) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const docs = (symbol.declarations ?? []).flatMap((declaration) => ts.getJSDocCommentsAndTags(declaration)).map((doc) => doc.getText());
      if (!docs.some((doc) => /@example\s+\*\s*```ts\n/.test(doc))) missing.push(exported.name);
    }
    assert.deepEqual(missing, [], 'exports without a TSDoc @example');
  });
});
