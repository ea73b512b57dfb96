/**
 * The text rule every input obeys, written once: no U+0000, no unpaired surrogate, no C0
 * control character (U+0001–U+001F) except the tab and line breaks a multi-line field allows.
 * PostgreSQL refuses U+0000 in `text` and `jsonb`, `jsonb` refuses unpaired surrogates, and
 * controls in a name can forge lines in a log or terminal, so such text is refused where it
 * enters (the server's edge, the CLI, the console) rather than failing or being altered later.
 */

/** `line`: a name or other one-line text (no control at all); `multiline`: also tab, LF and CR. */
export type TextKind = 'line' | 'multiline';

/** What is wrong with a piece of text, and where (a 0-based UTF-16 index). */
export interface TextProblem {
  readonly kind: 'nul' | 'unpaired_surrogate' | 'control';
  readonly index: number;
  /** The offending UTF-16 code unit. */
  readonly codeUnit: number;
}

// The last names of the fields documented as multi-line text. Every other field is one line.
const multilineFields: ReadonlySet<string> = new Set(['description']);

/**
 * The kind of text a field holds, by its name (the last segment of a JSON pointer or a
 * parameter name): descriptions may span lines, everything else is one line.
 *
 * @param name - the field's own name, e.g. `description` or `name`
 */
export function textKindOf(name: string): TextKind {
  return multilineFields.has(name) ? 'multiline' : 'line';
}

/** Any C0 control or surrogate code unit (no `u` flag: surrogates match one by one). */
const mayHaveProblem = /[\u0000-\u001f\ud800-\udfff]/;

/**
 * The first problem in `text`, or undefined when it is acceptable text of that kind.
 *
 * @param text - the decoded input
 * @param kind - defaults to `line`
 */
export function findTextProblem(text: string, kind: TextKind = 'line'): TextProblem | undefined {
  // Most text has none of the code units in question: one regular-expression pass says so far
  // faster than the loop below (every token-endpoint request checks a JWT-sized field).
  if (!mayHaveProblem.test(text)) return undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20) {
      if (c === 0) return { kind: 'nul', index: i, codeUnit: c };
      if (kind === 'multiline' && (c === 0x09 || c === 0x0a || c === 0x0d)) continue;
      return { kind: 'control', index: i, codeUnit: c };
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return { kind: 'unpaired_surrogate', index: i, codeUnit: c };
    }
  }
  return undefined;
}

const hex = (unit: number) => `U+${unit.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * A sentence naming the field, the character and the fix. It never quotes the input.
 *
 * @param field - how the caller knows the field: a JSON pointer (`/name`) or a parameter name
 */
export function describeTextProblem(field: string, problem: TextProblem, kind: TextKind = 'line'): string {
  const at = `at position ${problem.index + 1}`;
  switch (problem.kind) {
    case 'nul':
      return `${field} contains the NUL character (U+0000) ${at}; remove it`;
    case 'unpaired_surrogate':
      return `${field} contains an unpaired surrogate (${hex(problem.codeUnit)}) ${at}; send well-formed Unicode text`;
    case 'control':
      return kind === 'multiline'
        ? `${field} contains the control character ${hex(problem.codeUnit)} ${at}; only tab and line breaks are allowed`
        : `${field} contains the control character ${hex(problem.codeUnit)} ${at}; it must be one line without control characters`;
  }
}

/** RFC 6901: `~` and `/` in a member name are escaped in a JSON pointer. */
const pointerSegment = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Checks every string and member name in a parsed JSON value, at any depth. Strings take the
 * kind of the member that holds them ({@link textKindOf}); member names are one line.
 *
 * @param value - what JSON.parse returned
 * @param pointer - the JSON pointer of `value` itself; defaults to the root
 * @returns the JSON pointer of the faulty field and a sentence about it, or undefined
 */
export function findJsonTextProblem(value: unknown, pointer = ''): { field: string; message: string } | undefined {
  // An explicit stack, not recursion: a deeply nested body must not overflow the call stack.
  const stack: { node: unknown; at: string; kind: TextKind }[] = [{ node: value, at: pointer, kind: 'line' }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { node, at, kind } = item;
    if (typeof node === 'string') {
      const problem = findTextProblem(node, kind);
      if (problem) return { field: at || '/', message: describeTextProblem(at || '/', problem, kind) };
    } else if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) stack.push({ node: node[i], at: `${at}/${i}`, kind });
    } else if (node !== null && typeof node === 'object') {
      const keys = Object.keys(node);
      for (const key of keys) {
        const problem = findTextProblem(key);
        if (problem) return { field: at || '/', message: describeTextProblem(`A member name in ${at || '/'}`, problem) };
      }
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i] as string;
        stack.push({ node: (node as Record<string, unknown>)[key], at: `${at}/${pointerSegment(key)}`, kind: textKindOf(key) });
      }
    }
  }
  return undefined;
}
