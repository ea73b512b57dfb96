import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { builtinRoles, can, type Action, type Actor, type AuthMethod, type Right } from './rights.js';

const actor = (roles: (keyof typeof builtinRoles)[], authMethod: AuthMethod = 'pwd'): Actor => ({
  principalId: 'usr_1',
  orgId: 'org_1',
  username: 'someone',
  kind: 'user',
  instanceAdmin: false,
  rights: new Set<Right>(roles.flatMap((role) => builtinRoles[role] ?? [])),
  roles,
  authMethod,
  tokenId: authMethod === 'pwd' ? null : 'AAAAAAAAAAAA',
  sessionId: null,
});

/** The token operations of SPEC 2, decided for each built-in role and both kinds of session. */
describe('the rights decision for API tokens', () => {
  it('gives members their own tokens, tokens.all holders everyone\'s, auditors read-only', () => {
    const member = actor(['member']);
    assert.equal(can(member, { kind: 'write_tokens', own: true }).allowed, true);
    assert.equal(can(member, { kind: 'read_tokens', own: true }).allowed, true);
    assert.equal(can(member, { kind: 'read_tokens', own: false }).allowed, false);
    assert.equal(can(member, { kind: 'write_tokens', own: false }).allowed, false);
    assert.equal(can(member, { kind: 'create_token_for_others' }).allowed, false);

    const admin = actor(['admin']);
    for (const action of [{ kind: 'read_tokens', own: false }, { kind: 'write_tokens', own: false }, { kind: 'create_token_for_others' }] as Action[]) {
      assert.equal(can(admin, action).allowed, true, action.kind);
    }

    const auditor = actor(['auditor']);
    assert.equal(can(auditor, { kind: 'read_tokens', own: false }).allowed, true);
    const refused = can(auditor, { kind: 'write_tokens', own: false });
    assert.equal(refused.allowed, false);
    assert.ok(!refused.allowed && !refused.restricted && /tokens\.all/.test(refused.reason));
  });

  it('never lets a secret carry rights its recipient lacks', () => {
    const admin = actor(['admin']);
    assert.equal(can(admin, { kind: 'delegate_rights', rights: ['tokens.own', 'users.manage'] }).allowed, true);
    const refused = can(admin, { kind: 'delegate_rights', rights: ['tokens.own', 'policy.manage'] });
    assert.ok(!refused.allowed && /policy\.manage/.test(refused.reason));
  });

  it('refuses a token-derived caller every token change and other principals\' tokens, as a restriction', () => {
    for (const method of ['token', 'client'] as const) {
      const owner = actor(['org-owner'], method);
      const restricted: Action[] = [
        { kind: 'write_tokens', own: true },
        { kind: 'write_tokens', own: false },
        { kind: 'create_token_for_others' },
        { kind: 'read_tokens', own: false },
        { kind: 'manage_policy' },
        { kind: 'manage_principals' },
        { kind: 'manage_apps' },
        { kind: 'change_own_password' },
      ];
      for (const action of restricted) {
        const decision = can(owner, action);
        assert.equal(decision.allowed, false, `${method} ${action.kind}`);
        assert.ok(!decision.allowed && decision.restricted, `${action.kind} is refused as a restriction, not a missing right`);
        assert.match(decision.reason, /token/);
      }
      // SPEC 2: it keeps read access to the directory and to its own tokens' metadata.
      assert.equal(can(owner, { kind: 'read_tokens', own: true }).allowed, true);
      assert.equal(can(owner, { kind: 'read_directory' }).allowed, true);
    }
  });

  it('refuses the same operations to an interactive login only for missing rights', () => {
    const owner = actor(['org-owner']);
    for (const action of [{ kind: 'write_tokens', own: false }, { kind: 'read_tokens', own: false }, { kind: 'manage_policy' }] as Action[]) {
      assert.equal(can(owner, action).allowed, true, action.kind);
    }
  });
});
