import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { describeTextProblem, findJsonTextProblem, findTextProblem, textKindOf } from './text.js';

describe('text rule', () => {
  it('accepts ordinary text, including astral characters (paired surrogates)', () => {
    for (const text of ['', 'ci deploy', 'Zoë & co. — ünïcode', '日本語', '😀 emoji', 'x\u007fy', 'tab\tin description']) {
      if (text.includes('\t')) assert.equal(findTextProblem(text, 'multiline'), undefined);
      else assert.equal(findTextProblem(text), undefined, text);
    }
  });

  it('finds NUL, unpaired surrogates and C0 controls, with their position', () => {
    assert.deepEqual(findTextProblem('ab\u0000c'), { kind: 'nul', index: 2, codeUnit: 0 });
    assert.deepEqual(findTextProblem('a\ud800'), { kind: 'unpaired_surrogate', index: 1, codeUnit: 0xd800 });
    assert.deepEqual(findTextProblem('\udc00x'), { kind: 'unpaired_surrogate', index: 0, codeUnit: 0xdc00 });
    assert.deepEqual(findTextProblem('\ud800\ud800\udc00'), { kind: 'unpaired_surrogate', index: 0, codeUnit: 0xd800 });
    assert.deepEqual(findTextProblem('a\nb'), { kind: 'control', index: 1, codeUnit: 10 });
    assert.deepEqual(findTextProblem('a\u001bb'), { kind: 'control', index: 1, codeUnit: 0x1b });
    // NUL stays refused in multi-line text; other controls than tab and line breaks too.
    assert.equal(findTextProblem('a\u0000', 'multiline')?.kind, 'nul');
    assert.equal(findTextProblem('a\u0007', 'multiline')?.kind, 'control');
    assert.equal(findTextProblem('line one\r\nline two\ttab', 'multiline'), undefined);
  });

  it('agrees with the definition on any string (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.constantFrom('line' as const, 'multiline' as const), (text, kind) => {
        const allowed = kind === 'multiline' ? /[\t\n\r]/ : /$^/;
        const bad = [...text].some((ch) => {
          const c = ch.codePointAt(0) as number;
          return (c < 0x20 && !allowed.test(ch)) || (c >= 0xd800 && c <= 0xdfff);
        });
        assert.equal(findTextProblem(text, kind) !== undefined, bad);
      }),
      { seed: 12, numRuns: 2000 },
    );
  });

  it('names the field and the character, never the input', () => {
    const message = describeTextProblem('/name', findTextProblem('secret\u0000value') as never);
    assert.match(message, /^\/name contains the NUL character \(U\+0000\) at position 7/);
    assert.ok(!message.includes('secret'));
    assert.match(describeTextProblem('q', findTextProblem('\ud83d') as never), /q contains an unpaired surrogate \(U\+D83D\)/);
    assert.match(describeTextProblem('org', findTextProblem('a\u0001') as never), /U\+0001 at position 2; it must be one line/);
  });

  it('documents descriptions as the only multi-line fields', () => {
    assert.equal(textKindOf('description'), 'multiline');
    for (const name of ['name', 'display_name', 'reason', 'org', 'q']) assert.equal(textKindOf(name), 'line');
  });

  it('walks JSON at any depth and names the field by JSON pointer (RFC 6901)', () => {
    assert.equal(findJsonTextProblem({ name: 'ok', description: 'two\nlines', list: ['a', { b: 'c' }] }), undefined);
    assert.deepEqual(findJsonTextProblem({ name: 'a\u0000' })?.field, '/name');
    assert.deepEqual(findJsonTextProblem({ query: { q: 'x', owner: '\ud800' } })?.field, '/query/owner');
    assert.deepEqual(findJsonTextProblem({ list: ['ok', 'b\u0001'] })?.field, '/list/1');
    assert.deepEqual(findJsonTextProblem({ 'a/b~c': 'x\u0000' })?.field, '/a~1b~0c');
    assert.deepEqual(findJsonTextProblem('top\u0000')?.field, '/');
    assert.equal(findJsonTextProblem({ name: 'one\nline' })?.field, '/name', 'a newline is refused outside descriptions');
    assert.equal(findJsonTextProblem({ description: 'x\u0000' })?.field, '/description');
    const key = findJsonTextProblem({ outer: { 'bad\u0000key': 1 } });
    assert.equal(key?.field, '/outer');
    assert.match(key?.message ?? '', /member name in \/outer contains the NUL/);
    assert.equal(findJsonTextProblem([1, true, null, 2.5]), undefined);
  });

  it('walks very deep nesting without overflowing the stack', () => {
    let deep: unknown = 'x\u0000';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    assert.equal(findJsonTextProblem(deep)?.field.length, 100_000 * 2 + 0);
  });
});
