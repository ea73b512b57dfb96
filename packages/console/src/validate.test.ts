import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { query } from './api.js';
import { fieldOfProblem } from './problem-field.js';
import { match } from './router.js';
import { checkEndpoints, checkExpiry, checkIpAllowlist, checkLength, linesOf } from './validate.js';

describe('console: inline checks', () => {
  it('sends the trimmed, non-blank lines of a textarea', () => {
    assert.deepEqual(linesOf(' 10.0.0.0/8 \r\n\n  \n192.168.1.1 - 192.168.1.9\r2001:db8::/32'), ['10.0.0.0/8', '192.168.1.1 - 192.168.1.9', '2001:db8::/32']);
  });

  it('names every bad IP entry by the line it is on, blank lines counted', () => {
    assert.equal(checkIpAllowlist('10.0.0.0/8\n\n2001:db8::1\n192.168.0.0/16'), undefined);
    assert.match(checkIpAllowlist('10.0.0.0/8\n\n010.0.0.1') ?? '', /^line 3: Invalid IP entry "010\.0\.0\.1": .*10\.0\.0\.1/);
    const both = (checkIpAllowlist('300.1.1.1\n10.0.0.0/8\nnope') ?? '').split('\n');
    assert.equal(both.length, 2);
    assert.match(both[0] ?? '', /^line 1: Invalid IP entry "300\.1\.1\.1"/);
    assert.match(both[1] ?? '', /^line 3: Invalid IP entry "nope"/);
  });

  it('refuses a name over the limit, saying by how much', () => {
    assert.equal(checkLength('x'.repeat(100), 100), undefined);
    assert.equal(checkLength('x'.repeat(500), 100), 'A name has at most 100 characters; this one has 500. Shorten it by 400.');
  });

  it('checks endpoint patterns and expiry with the server\'s rules', () => {
    assert.equal(checkEndpoints('GET /plans\n/reports/*'), undefined);
    assert.match(checkEndpoints('/ok\nplans') ?? '', /^line 2: Invalid endpoint pattern, "plans"/);
    assert.equal(checkExpiry(''), undefined);
    assert.equal(checkExpiry('180D'), undefined);
    assert.match(checkExpiry('soon') ?? '', /^Invalid expiry "soon"/);
    assert.match(checkExpiry('1Y', new Date(), 90 * 86400) ?? '', /beyond the maximum token lifetime of 90D/);
  });
});

describe('console: plumbing', () => {
  it('puts a problem next to the input its field names', () => {
    const fields = { '/scope/endpoints': 'endpoints', '/scope': 'scope', '/ip_allowlist': 'ips' };
    const problem = (field?: string) => ({ title: 't', status: 400, detail: 'd', ...(field && { field }) });
    assert.equal(fieldOfProblem(problem('/ip_allowlist/3'), fields), 'ips');
    assert.equal(fieldOfProblem(problem('/scope/endpoints/0'), fields), 'endpoints');
    assert.equal(fieldOfProblem(problem('/scope/kind'), fields), 'scope');
    assert.equal(fieldOfProblem(problem('/ip_allowlister'), fields), undefined);
    assert.equal(fieldOfProblem(problem(), fields), undefined);
  });

  it('builds query strings from the set values only, and matches routes', () => {
    assert.equal(query({ all: true, q: 'ci deploy', status: '', owner: undefined, limit: 50 }), '?all=true&q=ci+deploy&limit=50');
    assert.equal(query({ q: '' }), '');
    assert.deepEqual(match('/security/users/:id', '/security/users/u%2F1'), { id: 'u/1' });
    assert.equal(match('/security/users/:id', '/security/users'), undefined);
  });
});
