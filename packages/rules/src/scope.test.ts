import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { anyString, assertOnlyRuleErrors, assertRuleError } from '../test/assert-rule-error.js';
import {
  formatEndpointPattern,
  matchesEndpoint,
  normalizePath,
  parseEndpointPattern,
  parseEndpointPatterns,
  type EndpointPattern,
} from './scope.js';

type ScopeVectors = {
  cases: { patterns: string[]; method: string; path: string; allow: boolean }[];
  invalid_patterns: string[];
};
const vectors = JSON.parse(
  readFileSync(new URL('../../../../shared/vectors/scope-match.json', import.meta.url), 'utf8'),
) as ScopeVectors;



describe('scope vectors: matching', () => {
  for (const { patterns, method, path, allow } of vectors.cases) {
    it(`[${patterns.join(', ')}] ${allow ? 'allows' : 'denies'} ${method} ${path}`, () => {
      assert.equal(matchesEndpoint(parseEndpointPatterns(patterns), method, path), allow);
    });
  }
});

describe('scope vectors: invalid patterns', () => {
  for (const line of vectors.invalid_patterns) {
    it(`refuses ${JSON.stringify(line)}`, () => {
      const error = assertRuleError(() => parseEndpointPattern(line), 'INVALID_ENDPOINT_PATTERN');
      assert.ok(error.message.startsWith(`Invalid endpoint pattern ${JSON.stringify(line)}: `), error.message);
      // In a list, a blank line is skipped; anything else is refused the same way.
      if (line.trim() !== '') assertRuleError(() => parseEndpointPatterns([line]), 'INVALID_ENDPOINT_PATTERN');
    });
  }
});

describe('parseEndpointPattern', () => {
  const parsed: [string, EndpointPattern][] = [
    ['/plans', { methods: null, path: '/plans', prefix: false }],
    ['GET /clients', { methods: ['GET'], path: '/clients', prefix: false }],
    ['GET,POST /clients', { methods: ['GET', 'POST'], path: '/clients', prefix: false }],
    ['GET,GET /clients', { methods: ['GET'], path: '/clients', prefix: false }],
    ['DELETE\t/clients', { methods: ['DELETE'], path: '/clients', prefix: false }],
    ['  /reports/*  ', { methods: null, path: '/reports/', prefix: true }],
    ['/plan*', { methods: null, path: '/plan', prefix: true }],
    ['/*', { methods: null, path: '/', prefix: true }],
    ['/', { methods: null, path: '/', prefix: false }],
    ['/V4/ServerGroup', { methods: null, path: '/V4/ServerGroup', prefix: false }],
  ];
  for (const [line, pattern] of parsed) {
    it(`reads ${JSON.stringify(line)}`, () => assert.deepEqual(parseEndpointPattern(line), pattern));
  }

  const refused: [string, RegExp][] = [
    ['get /plans', /write methods in upper case \(GET\)/],
    ['GET, POST /plans', /separate methods with commas and no spaces/],
    ['GET,,POST /plans', /separate methods with commas and no spaces/],
    ['GET plans', /write GET \/plans/],
    ['plans', /write \/plans/],
    ['FETCH /plans', /unknown method "FETCH"; use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS/],
    ['/plans /x', /contains a space/],
    ['/plans?x=1', /remove the query/],
    ['/plans#top', /remove the query or fragment/],
    ['/a%20b', /without percent-encoding/],
    ['/a\\b', /not \\/],
    ['//plans', /collapse the repeated slashes/],
    ['/plans/../admin', /remove the \. and \.\. segments/],
    ['/./plans', /remove the \. and \.\. segments/],
    ['/**', /\* may only end a pattern/],
    [`/${'a'.repeat(1024)}`, /longer than 1024 characters/],
  ];
  for (const [line, message] of refused) {
    it(`refuses ${JSON.stringify(line.slice(0, 40))} saying how to fix it`, () => {
      assert.match(assertRuleError(() => parseEndpointPattern(line), 'INVALID_ENDPOINT_PATTERN').message, message);
    });
  }

  it('round-trips through formatEndpointPattern (property)', () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9_~-]{1,8}$/);
    const line = fc
      .record({
        methods: fc.option(fc.uniqueArray(fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'), { minLength: 1 }), { nil: null }),
        segments: fc.array(segment, { maxLength: 5 }),
        trailingSlash: fc.boolean(),
        star: fc.boolean(),
      })
      .map(({ methods, segments, trailingSlash, star }) => {
        const path = `/${segments.join('/')}${trailingSlash && segments.length > 0 ? '/' : ''}${star ? '*' : ''}`;
        return methods === null ? path : `${methods.join(',')} ${path}`;
      });
    fc.assert(
      fc.property(line, (text) => {
        const pattern = parseEndpointPattern(text);
        assert.equal(formatEndpointPattern(pattern), text);
        assert.deepEqual(parseEndpointPattern(formatEndpointPattern(pattern)), pattern);
      }),
      { numRuns: 300 },
    );
  });

  it('throws nothing but RuleError for any string (property)', () => {
    fc.assert(fc.property(anyString(40), (line) => assertOnlyRuleErrors(() => parseEndpointPattern(line))), { numRuns: 300 });
    fc.assert(fc.property(fc.stringMatching(/^[A-Za-z, \t]{0,12}[/*.%?a-z\\ ]{0,20}$/), (line) => assertOnlyRuleErrors(() => parseEndpointPattern(line))), { numRuns: 300 });
  });
});

describe('parseEndpointPatterns', () => {
  it('reads one pattern per line, ignoring blank lines, with LF, CRLF or CR', () => {
    const patterns = parseEndpointPatterns('/plans\r\n\r\nGET /clients\n   \n/reports/*\r/x');
    assert.deepEqual(patterns.map(formatEndpointPattern), ['/plans', 'GET /clients', '/reports/*', '/x']);
  });

  it('names the line number of a bad line', () => {
    const error = assertRuleError(() => parseEndpointPatterns('/plans\n\nplans'), 'INVALID_ENDPOINT_PATTERN');
    assert.match(error.message, /^Invalid endpoint pattern on line 3, "plans": a path starts with \/; write \/plans$/);
  });

  it('names the position of a bad array item', () => {
    const error = assertRuleError(() => parseEndpointPatterns(['/plans', 'FETCH /x']), 'INVALID_ENDPOINT_PATTERN');
    assert.match(error.message, /at position 2, "FETCH \/x"/);
  });

  it('accepts 100 patterns and refuses 101, naming the limit', () => {
    const lines = Array.from({ length: 101 }, (_, i) => `/p${i}`);
    assert.equal(parseEndpointPatterns(lines.slice(0, 100)).length, 100);
    const error = assertRuleError(() => parseEndpointPatterns(lines.join('\n')), 'TOO_MANY_ENDPOINT_PATTERNS');
    assert.match(error.message, /has 101 endpoint patterns; the limit is 100/);
  });

  it('reads an empty list as no patterns', () => {
    assert.deepEqual(parseEndpointPatterns(''), []);
    assert.deepEqual(parseEndpointPatterns([]), []);
  });

  it('throws nothing but RuleError for any string (property)', () => {
    fc.assert(fc.property(anyString(60), (text) => assertOnlyRuleErrors(() => parseEndpointPatterns(text))), { numRuns: 300 });
  });
});

describe('normalizePath', () => {
  const cases: [string, string | null][] = [
    ['/plans', '/plans'],
    ['/plans/', '/plans/'],
    ['/plans?x=1', '/plans'],
    ['/plans#frag', '/plans'],
    ['//plans///7', '/plans/7'],
    ['/plans/./7', '/plans/7'],
    ['/plans/7/..', '/plans/'],
    ['/plans/7/.', '/plans/7/'],
    ['/admin/../plans/1', '/plans/1'],
    ['/plans/%2e%2e/admin', '/admin'],
    ['/plans/%2E%2E/admin', '/admin'],
    ['/caf%C3%A9', '/café'],
    ['/files/100%25', '/files/100%'],
    ['/a%3Fb', '/a?b'],
    ['/', '/'],
    ['//', '/'],
    ['/..', null],
    ['/../plans', null],
    ['/plans/../../admin', null],
    ['/plans//../admin', null],
    ['/plans%2F..%2Fadmin', null],
    ['/plans/%2f', null],
    ['/plans\\..\\admin', null],
    ['/plans/%5c', null],
    ['/plans/%252e%252e/admin', null],
    ['/plans/%zz', null],
    ['/plans/%e9', null],
    ['/plans/%00', null],
    ['/plans/..;/admin', null],
    ['/plans/.;/x', null],
    ['plans', null],
    ['http://host/plans', null],
    ['*', null],
    ['', null],
  ];
  for (const [raw, normal] of cases) {
    it(`${JSON.stringify(raw)} → ${JSON.stringify(normal)}`, () => assert.equal(normalizePath(raw), normal));
  }

  it('never throws, and its output is a fixed point (property)', () => {
    fc.assert(
      fc.property(fc.oneof(anyString(40), fc.stringMatching(/^\/[a-z./%2eEfF5cC]{0,30}$/), fc.webPath()), (raw) => {
        const normal = normalizePath(raw);
        if (normal === null) return;
        assert.ok(normal.startsWith('/'));
        assert.ok(!normal.includes('//'), normal);
        assert.ok(!normal.split('/').some((segment) => segment === '.' || segment === '..'), normal);
      }),
      { numRuns: 500 },
    );
  });
});

describe('matchesEndpoint', () => {
  it('allows HEAD wherever GET is allowed (RFC 9110 §9.3.2)', () => {
    const scope = parseEndpointPatterns(['GET /clients']);
    assert.equal(matchesEndpoint(scope, 'HEAD', '/clients/4'), true);
    assert.equal(matchesEndpoint(parseEndpointPatterns(['POST /clients']), 'HEAD', '/clients'), false);
  });

  it('compares methods case-sensitively (RFC 9110 §9.1)', () => {
    assert.equal(matchesEndpoint(parseEndpointPatterns(['GET /clients']), 'get', '/clients'), false);
  });

  it('allows every method when the pattern names none', () => {
    assert.equal(matchesEndpoint(parseEndpointPatterns(['/clients']), 'PROPFIND', '/clients'), true);
  });

  it('ignores case when the deployment asks', () => {
    const scope = parseEndpointPatterns(['/Plans', '/rep*']);
    assert.equal(matchesEndpoint(scope, 'GET', '/plans/7', { caseInsensitive: true }), true);
    assert.equal(matchesEndpoint(scope, 'GET', '/REPORTS', { caseInsensitive: true }), true);
    assert.equal(matchesEndpoint(scope, 'GET', '/plans/7'), false);
  });

  it('reads a pattern with a trailing slash as everything below it', () => {
    const scope = parseEndpointPatterns(['/plans/']);
    assert.equal(matchesEndpoint(scope, 'GET', '/plans/7'), true);
    assert.equal(matchesEndpoint(scope, 'GET', '/plans/'), true);
    assert.equal(matchesEndpoint(scope, 'GET', '/plans'), false);
  });

  it('lets /* and / match every normal path', () => {
    for (const pattern of ['/*', '/']) {
      assert.equal(matchesEndpoint(parseEndpointPatterns([pattern]), 'GET', '/anything/at/all'), true);
      assert.equal(matchesEndpoint(parseEndpointPatterns([pattern]), 'GET', '/../x'), false);
    }
  });

  it('never lets a dot-segment path out of a pattern', () => {
    const scope = parseEndpointPatterns(['/plans', '/plan*']);
    for (const path of ['/plans/../admin', '/plans/%2e%2e/admin', '/plans%2f..%2fadmin', '/plans/..;/admin', '/plans//../admin', '/plans/%252e%252e/admin']) {
      assert.equal(matchesEndpoint(scope, 'GET', path), false, path);
    }
  });

  // Reference model: split both on "/", a plain pattern is a segment-wise prefix of the path,
  // a starred one a string prefix. `..` segments are resolved with a stack first.
  it('agrees with a naive segment model on random paths (property)', () => {
    const segment = fc.constantFrom('a', 'b', 'ab', 'ba', 'abc', '..', '.', '');
    const path = fc.array(segment, { maxLength: 6 }).map((segments) => `/${segments.join('/')}`);
    const patternSegments = fc.array(fc.constantFrom('a', 'b', 'ab', 'ba'), { maxLength: 3 });

    function resolve(raw: string): { segments: string[]; text: string } | null {
      const parts = raw.slice(1).split('/');
      const stack: string[] = [];
      for (const part of parts) {
        if (part === '.') continue;
        if (part === '..') {
          // `..` may neither climb above the root nor remove an empty segment (documented rule).
          if (stack.length === 0 || stack[stack.length - 1] === '') return null;
          stack.pop();
        } else stack.push(part);
      }
      const segments = stack.filter((part) => part !== '');
      const last = parts[parts.length - 1];
      const slash = segments.length > 0 && (last === '' || last === '.' || last === '..');
      return { segments, text: `/${segments.join('/')}${slash ? '/' : ''}` };
    }

    fc.assert(
      fc.property(patternSegments, fc.boolean(), path, (patSegments, star, raw) => {
        const base = `/${patSegments.join('/')}`;
        const resolved = resolve(raw);
        const expected =
          resolved !== null &&
          (star ? resolved.text.startsWith(base) : patSegments.every((part, i) => resolved.segments[i] === part));
        const pattern = parseEndpointPattern(`${base}${star ? '*' : ''}`);
        assert.equal(matchesEndpoint([pattern], 'GET', raw), expected, `${base}${star ? '*' : ''} vs ${raw}`);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws for any method and path (property)', () => {
    const scope = parseEndpointPatterns(['/plans', 'GET /clients', '/rep*']);
    fc.assert(
      fc.property(fc.string({ maxLength: 10 }), anyString(40), (method, raw) => {
        assert.equal(typeof matchesEndpoint(scope, method, raw), 'boolean');
      }),
      { numRuns: 300 },
    );
  });
});
