import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { basic } from '../support/fixtures.js';
import type { TestServer } from '../support/server.js';
import { startCliWorld, type CliWorld, occurrences, requestCount, type Cli } from './harness.js';

const newPassword = 'a brand new password';

describe('tessera user, service-account, group, role, org and app, against a real server', () => {
  let ts: TestServer;
  let cli: Cli;
  let member: Cli;
  let aliceId: string;

  let world: CliWorld;
  before(async () => {
    world = await startCliWorld();
    ({ ts, cli, member, aliceId } = world);
  });
  after(async () => world.close());

  it('user: create (password from TESSERA_NEW_PASSWORD or stdin), list, show, edit, delete', async () => {
    const created = await cli.run(['user', 'create', 'bob', '--role', 'member', '--email', 'bob@example.com'], { env: { TESSERA_NEW_PASSWORD: newPassword } });
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^username\s+bob$/m);
    assert.match(created.stdout, /^email\s+bob@example\.com$/m);
    assert.equal(created.stderr, 'User bob has been created.\n');
    await ts.login('bob', newPassword);

    const piped = await cli.run(['user', 'create', 'carol', '--display-name', 'Carol C', '--json'], { input: `${newPassword}\n` });
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.json().username, 'carol');
    assert.equal(piped.json().display_name, 'Carol C');
    assert.deepEqual(piped.json().roles, ['member']);
    await ts.login('carol', newPassword);

    const table = await cli.run(['user', 'list']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^ID\s+USERNAME\s+DISPLAY NAME\s+STATUS\s+ROLES\n/);
    for (const name of ['admin', 'alice', 'bob', 'carol']) assert.match(table.stdout, new RegExp(`\\s${name}\\s`));
    const listed = (await cli.run(['user', 'list', '--search', 'car', '--json'])).json();
    assert.deepEqual(listed.items.map((u: { username: string }) => u.username), ['carol']);

    const byName = await cli.run(['user', 'show', 'bob']);
    assert.match(byName.stdout, /^display name\s+bob$/m);
    const byId = (await cli.run(['user', 'show', aliceId, '--json'])).json();
    assert.equal(byId.username, 'alice');

    const disabled = (await cli.run(['user', 'edit', 'bob', '--status', 'disabled', '--json'])).json();
    assert.equal(disabled.status, 'disabled');
    const repassword = await cli.run(['user', 'edit', 'carol', '--password'], { input: 'yet another password\n' });
    assert.equal(repassword.code, 0, repassword.stderr);
    await ts.login('carol', 'yet another password');
    assert.equal((await cli.run(['user', 'edit', 'carol'])).code, 2, 'nothing to change');

    assert.equal((await cli.run(['user', 'delete', 'carol'])).code, 2, 'no terminal to confirm on');
    const deleted = await cli.run(['user', 'delete', 'carol', '--yes']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, 'User carol has been deleted.\n');
    const gone = await cli.run(['user', 'show', 'carol']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /^tessera: No user/);

    const taken = await cli.run(['user', 'create', 'bob'], { env: { TESSERA_NEW_PASSWORD: newPassword } });
    assert.equal(taken.code, 1);
    assert.equal(taken.stderr, 'tessera: The username "bob" is taken in this organization; choose another\n');
    const forbidden = await member.run(['user', 'create', 'mallory', '--json'], { env: { TESSERA_NEW_PASSWORD: newPassword } });
    assert.equal(forbidden.code, 1);
    assert.equal(JSON.parse(forbidden.stderr).error.status, 403);

    const before = requestCount(ts);
    const badIp = await cli.run(['user', 'create', 'dave', '--allow-ip', '010.0.0.1'], { env: { TESSERA_NEW_PASSWORD: newPassword } });
    assert.equal(badIp.code, 2);
    assert.equal(requestCount(ts), before, 'refused before sending');
  });

  it('service-account: create, list, show, edit, delete; no password involved', async () => {
    const created = await cli.run(['service-account', 'create', 'ci-bot', '--allow-ip', '10.0.0.0/8', '--json']);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.json().kind, 'service_account');
    assert.deepEqual(created.json().ip_allowlist, ['10.0.0.0/8']);

    const table = await cli.run(['service-account', 'list']);
    assert.match(table.stdout, /\sci-bot\s/);
    assert.doesNotMatch(table.stdout, /\salice\s/, 'users are not service accounts');
    assert.deepEqual((await cli.run(['service-account', 'list', '--json'])).json().items.map((p: { username: string }) => p.username), ['ci-bot']);

    const shown = await cli.run(['service-account', 'show', 'ci-bot']);
    assert.match(shown.stdout, /^kind\s+service account$/m);
    assert.match(shown.stdout, /^allowed IPs\s+10\.0\.0\.0\/8$/m);

    const edited = (await cli.run(['service-account', 'edit', 'ci-bot', '--display-name', 'CI robot', '--json'])).json();
    assert.equal(edited.display_name, 'CI robot');
    const passwordless = await cli.run(['service-account', 'edit', 'ci-bot', '--password']);
    assert.equal(passwordless.code, 2, 'service accounts have no password option');

    const forbidden = await member.run(['service-account', 'delete', 'ci-bot', '--yes']);
    assert.equal(forbidden.code, 1);

    const temp = (await cli.run(['service-account', 'create', 'temp-bot', '--json'])).json();
    const deleted = await cli.run(['service-account', 'delete', temp.id, '--yes', '--json']);
    assert.deepEqual(deleted.json(), { deleted: true, id: temp.id });
  });

  it('group: create with members by username, list, show, edit, delete', async () => {
    const created = await cli.run(['group', 'create', 'ops', '--member', 'alice', '--member', 'ci-bot', '--role', 'auditor', '--description', 'Operations', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const group = created.json();
    assert.equal(group.name, 'ops');
    assert.equal(group.members.length, 2);
    assert.ok(group.members.includes(aliceId), 'usernames became ids');
    assert.deepEqual(group.roles, ['auditor']);
    const me = (await member.run(['whoami', '--json'])).json();
    assert.ok(me.effective_roles.includes('auditor'), 'alice holds the group\'s role');

    const table = await cli.run(['group', 'list']);
    assert.match(table.stdout, /^ID\s+NAME\s+MEMBERS\s+ROLES\n\S+\s+ops\s+2\s+auditor\n$/);
    assert.equal((await cli.run(['group', 'list', '--json'])).json().items.length, 1);
    assert.match((await cli.run(['group', 'show', 'ops'])).stdout, /^description\s+Operations$/m);

    const renamed = (await cli.run(['group', 'edit', 'ops', '--name', 'operators', '--member', 'alice', '--json'])).json();
    assert.equal(renamed.name, 'operators');
    assert.deepEqual(renamed.members, [aliceId]);
    assert.equal((await cli.run(['group', 'edit', 'operators'])).code, 2);

    const unknownRole = await cli.run(['group', 'create', 'x', '--role', 'no-such-role']);
    assert.equal(unknownRole.code, 1);
    assert.match(unknownRole.stderr, /^tessera: .*no-such-role/);
    assert.equal((await member.run(['group', 'delete', 'operators', '--yes'])).code, 1);
    const deleted = await cli.run(['group', 'delete', 'operators', '--yes']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal((await cli.run(['group', 'show', 'operators'])).code, 1);
  });

  it('role: list, show, create, edit, delete a custom role', async () => {
    const table = await cli.run(['role', 'list']);
    assert.match(table.stdout, /^NAME\s+BUILT-IN\s+RIGHTS\n/);
    assert.match(table.stdout, /^auditor\s+yes\s+audit\.read, tokens\.read_all$/m);
    const builtins = (await cli.run(['role', 'list', '--json'])).json().items.map((r: { name: string }) => r.name);
    assert.deepEqual(builtins.sort(), ['admin', 'auditor', 'member', 'org-owner', 'user-manager']);

    assert.match((await cli.run(['role', 'show', 'member'])).stdout, /^rights\s+tokens\.own$/m);

    const created = await cli.run(['role', 'create', 'token-reader', '--right', 'tokens.all', '--right', 'audit.read', '--description', 'Reads tokens', '--json']);
    assert.equal(created.code, 0, created.stderr);
    assert.deepEqual(created.json().rights.sort(), ['audit.read', 'tokens.all']);
    const edited = (await cli.run(['role', 'edit', 'token-reader', '--right', 'audit.read', '--json'])).json();
    assert.deepEqual(edited.rights, ['audit.read']);

    const builtin = await cli.run(['role', 'edit', 'member', '--description', 'changed']);
    assert.equal(builtin.code, 1, 'built-in roles cannot change');
    assert.equal((await member.run(['role', 'create', 'mine', '--right', 'tokens.own'])).code, 1);
    assert.equal((await cli.run(['role', 'create', 'none'])).code, 2, '--right is required');

    const deleted = await cli.run(['role', 'delete', 'token-reader', '--yes']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, 'Role token-reader has been deleted.\n');
  });

  it('org: create with its owner, list, show, edit; members may not', async () => {
    const created = await cli.run(['org', 'create', 'acme', '--owner', 'acme-admin', '--display-name', 'Acme Inc.', '--json'], { env: { TESSERA_NEW_PASSWORD: newPassword } });
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.json().org.name, 'acme');
    assert.equal(created.json().owner.username, 'acme-admin');
    await ts.login('acme-admin', newPassword, 'acme');

    const table = await cli.run(['org', 'list']);
    assert.match(table.stdout, /^ID\s+NAME\s+DISPLAY NAME\s+CREATED\n/);
    assert.match(table.stdout, /\sacme\s+Acme Inc\.\s/);
    assert.deepEqual((await cli.run(['org', 'list', '--json'])).json().items.map((o: { name: string }) => o.name).sort(), ['acme', 'default']);
    assert.match((await cli.run(['org', 'show', 'acme'])).stdout, /^display name\s+Acme Inc\.$/m);

    const renamed = (await cli.run(['org', 'edit', 'acme', '--display-name', 'Acme Corporation', '--json'])).json();
    assert.equal(renamed.display_name, 'Acme Corporation');

    const forbidden = await member.run(['org', 'list']);
    assert.equal(forbidden.code, 1);
    assert.equal((await cli.run(['org', 'create', 'beta'])).code, 2, '--owner is required');
  });

  it('app: create prints the client secret once; regenerate-secret, edit, list, show, delete', async () => {
    const created = await cli.run(['app', 'create', 'billing', '--role', 'member', '--access-token-ttl', '15m']);
    assert.equal(created.code, 0, created.stderr);
    const match = /^App with client id: (\S+) has been created, its client secret is: (\S+) please keep it safe\n$/.exec(created.stdout);
    assert.ok(match, created.stdout);
    const [, clientId, secret] = match as unknown as [string, string, string];
    assert.match(created.stderr, /shown only this once/);
    assert.ok(!created.stderr.includes(secret));
    const exchanged = await ts.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(clientId, secret) });
    assert.equal(exchanged.status, 200, exchanged.text);
    assert.equal(exchanged.body.expires_in, 900);

    const json = await cli.run(['app', 'create', 'gateway', '--can-introspect', 'true', '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(json.json().can_introspect, true);
    assert.equal(occurrences(json.stdout, json.json().client_secret), 1);

    assert.match((await cli.run(['app', 'list'])).stdout, /^ID\s+NAME\s+CLIENT ID\s+ROLES\s+INTROSPECT\n/);
    assert.equal((await cli.run(['app', 'list', '--json'])).json().items.length, 2);
    const shown = await cli.run(['app', 'show', 'billing']);
    assert.match(shown.stdout, /^access-token TTL\s+900 s$/m);
    assert.ok(!shown.stdout.includes(secret), 'never the secret again');

    const edited = (await cli.run(['app', 'edit', 'billing', '--access-token-ttl', '5m', '--json'])).json();
    assert.equal(edited.access_token_ttl_seconds, 300);
    const badTtl = await cli.run(['app', 'edit', 'billing', '--access-token-ttl', '5 m']);
    assert.equal(badTtl.code, 2);

    assert.equal((await cli.run(['app', 'regenerate-secret', 'billing'])).code, 2, 'no terminal to confirm on');
    const regenerated = await cli.run(['app', 'regenerate-secret', 'billing', '--yes']);
    assert.equal(regenerated.code, 0, regenerated.stderr);
    const fresh = /its client secret is: (\S+) please keep it safe\n$/.exec(regenerated.stdout)?.[1] as string;
    assert.notEqual(fresh, secret);
    assert.equal((await ts.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(clientId, secret) })).status, 401, 'the old secret stopped working');
    assert.equal((await ts.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(clientId, fresh) })).status, 200);

    assert.equal((await member.run(['app', 'create', 'rogue'])).code, 1);
    const deleted = await cli.run(['app', 'delete', 'gateway', '--yes']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal((await cli.run(['app', 'show', 'gateway'])).code, 1);

    for (const printed of [secret, fresh, json.json().client_secret as string]) {
      assert.ok(!ts.logs.text.includes(printed), 'no client secret in the server\'s logs');
      assert.ok(cli.transcripts.every((t) => !t.stderr.includes(printed)));
    }
  });
});
