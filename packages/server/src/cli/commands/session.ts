import type { Command } from 'commander';
import { ApiError, type LoginResult } from '../client.js';
import { defaultUrl, isUnencryptedRemote, type Context, type ContextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { formatList, formatTime } from '../output.js';
import { canPrompt, promptHidden, readFirstLine } from '../prompt.js';
import { deleteSession, readSession, writeSession } from '../session-store.js';
import { examples } from './help.js';

interface LoginOptions {
  user?: string;
  org?: string;
  otp?: string;
}

/** `login`, `logout`, `whoami`. */
export function registerSessionCommands(program: Command, contextOf: ContextOf): void {
  program
    .command('login')
    .description('Log in with a password and keep the session in your config directory (mode 0600)')
    .option('--user <name>', 'username (asked on a terminal when left out)')
    .option('--org <org>', 'organization name (default: "default")')
    .option('--otp <code>', 'two-factor code from your authenticator app, or a recovery code (asked on a terminal when needed)')
    .addHelpText(
      'after',
      `
The password is asked without echo on a terminal; scripts set TESSERA_PASSWORD or pipe it
on stdin. When the organization policy has expired the password, a new one is asked for
(twice) on a terminal, or taken from TESSERA_NEW_PASSWORD. With two-factor login on, the
code is asked on a terminal, or taken from --otp or TESSERA_OTP; where the organization
requires it and you have none yet, login walks you through enrolling an authenticator app.
The session is stored in $TESSERA_CONFIG_DIR, $XDG_CONFIG_HOME/tessera or
~/.config/tessera (session.json); it is sent only to the server it came from.
${examples(
  'tessera login --url http://127.0.0.1:8080 --user admin',
  'TESSERA_PASSWORD="$ADMIN_PASSWORD" tessera login --user admin',
  'printf "%s\\n" "$PASSWORD" | tessera login --user alice --org acme',
)}`,
    )
    .action(async (options: LoginOptions, command: Command) => {
      const ctx = contextOf(command);
      const url = ctx.explicitUrl() ?? (await readSession(ctx.env))?.url ?? defaultUrl;
      const username = options.user ?? (canPrompt(ctx.prompts) ? await askLine(ctx, 'Username: ') : undefined);
      if (!username) throw new UsageError('Give the username with --user NAME', 'user');
      const password = await readPassword(ctx, 'TESSERA_PASSWORD', `Password for ${username} at ${url}: `);
      if (isUnencryptedRemote(url)) ctx.out.warn(`${url} is not encrypted: the password and session cross the network in clear; use https://`);
      const client = ctx.anonymousClient(url);
      const given = options.otp ?? ctx.env['TESSERA_OTP'];
      const credentials = { username, password, ...(options.org && { org: options.org }), ...(given && { otp: given }) };
      let result: LoginResult;
      try {
        result = await loginWithSecondFactor(ctx, client, credentials);
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 'PASSWORD_EXPIRED')) throw error;
        // SPEC 4: the policy expired the password. Replace it now: typed twice on a terminal, or
        // TESSERA_NEW_PASSWORD (stdin already gave the current one).
        if (!ctx.env['TESSERA_NEW_PASSWORD'] && !canPrompt(ctx.prompts)) {
          throw new UsageError('The password has expired under the organization policy: set TESSERA_NEW_PASSWORD to a new one (or log in on a terminal)');
        }
        ctx.out.warn('The password has expired under the organization policy; choose a new one.');
        const newPassword = await readNewPassword(ctx, 'TESSERA_NEW_PASSWORD', username);
        result = await client.changePasswordAtLogin({ ...credentials, new_password: newPassword });
        ctx.out.note('Password changed; your other sessions have ended.');
      }
      if (result.recovery_codes) {
        // Shown once, on stderr so a script capturing the result does not keep them by accident.
        ctx.out.warn(`Two-factor login is on. Recovery codes (each works once instead of a code; store them now, they are not shown again):\n  ${result.recovery_codes.join('\n  ')}`);
      }
      const path = await writeSession(ctx.env, {
        url,
        session_token: result.session_token,
        username: result.principal.username,
        org: options.org ?? null,
        expires_at: result.expires_at,
      });
      const shown = { url, username: result.principal.username, org: options.org ?? null, expires_at: result.expires_at, principal: result.principal, session_file: path };
      ctx.out.result(shown, () => {
        ctx.out.line(`Logged in to ${url} as ${result.principal.username}${options.org ? ` in ${options.org}` : ''}.`);
        ctx.out.note(`The session lasts until ${formatTime(result.expires_at)} at most; it is stored in ${path}.`);
      });
    });

  program
    .command('logout')
    .description('End the session on the server and remove it from your config directory')
    .addHelpText('after', examples('tessera logout'))
    .action(async (_options: object, command: Command) => {
      const ctx = contextOf(command);
      const session = await ctx.session();
      const client = await ctx.client();
      let ended = true;
      try {
        await client.logout();
      } catch (error) {
        // Already over on the server (expired, or ended elsewhere): only the file remains.
        if (!(error instanceof ApiError && error.status === 401)) throw error;
        ended = false;
      }
      await deleteSession(ctx.env);
      ctx.out.result({ logged_out: true, url: session.url, username: session.username }, () => {
        ctx.out.line(`Logged out of ${session.url}.`);
        if (!ended) ctx.out.note('The session had already ended on the server.');
      });
    });

  program
    .command('whoami')
    .description('Show who you are logged in as, with your roles and rights')
    .addHelpText('after', examples('tessera whoami', 'tessera whoami --json'))
    .action(async (_options: object, command: Command) => {
      const ctx = contextOf(command);
      const session = await ctx.session();
      const me = await (await ctx.client()).me();
      ctx.out.result({ url: session.url, ...me }, () =>
        ctx.out.fields([
          ['username', me.principal.username],
          ['kind', me.principal.kind === 'user' ? 'user' : 'service account'],
          ['id', me.principal.id],
          ['server', session.url],
          ['organization', session.org ? `${session.org} (${me.principal.org_id})` : me.principal.org_id],
          ['instance admin', me.principal.instance_admin ? 'yes' : 'no'],
          ['roles', formatList(me.effective_roles)],
          ['rights', formatList(me.rights)],
          ['session until', formatTime(session.expires_at)],
        ]),
      );
    });

}

/**
 * A password: from the environment variable (scripts), a prompt without echo (terminal), or
 * the first line of stdin (pipes).
 */
export async function readPassword(ctx: Context, envVar: string, question: string): Promise<string> {
  const fromEnv = ctx.env[envVar];
  let password: string;
  if (fromEnv) password = fromEnv;
  else if (canPrompt(ctx.prompts)) password = await promptHidden(ctx.prompts, question);
  else if (ctx.io.stdin.isTTY === true) throw new UsageError(`No terminal to ask for the password: set ${envVar} or pipe it on stdin`);
  else password = await readFirstLine(ctx.io.stdin);
  if (password === '') throw new UsageError(`No password given: type it at the prompt, set ${envVar} or pipe it on stdin`);
  return password;
}

/**
 * A new password, typed twice on a terminal; from the environment variable or stdin otherwise.
 */
export async function readNewPassword(ctx: Context, envVar: string, whose: string): Promise<string> {
  const password = await readPassword(ctx, envVar, `New password for ${whose}: `);
  if (!ctx.env[envVar] && canPrompt(ctx.prompts)) {
    const again = await promptHidden(ctx.prompts, 'Repeat it: ');
    if (again !== password) throw new UsageError('The two passwords differ; nothing was changed');
  }
  return password;
}

type Credentials = { username: string; password: string; org?: string; otp?: string };

/**
 * A login that may need a second factor (RFC 6238 TOTP): the code is asked on a terminal when
 * the server asks for it; an enrolment the organization requires is done here, the secret shown
 * for an authenticator app and its first code confirming it.
 */
async function loginWithSecondFactor(ctx: Context, client: ReturnType<Context['anonymousClient']>, credentials: Credentials): Promise<LoginResult> {
  try {
    return await client.login(credentials);
  } catch (error) {
    if (!(error instanceof ApiError) || !['SECOND_FACTOR_REQUIRED', 'SECOND_FACTOR_ENROLMENT_REQUIRED'].includes(error.code ?? '') || credentials.otp) throw error;
    if (!canPrompt(ctx.prompts)) {
      throw new UsageError(
        error.code === 'SECOND_FACTOR_REQUIRED'
          ? 'Two-factor login is on for this account: give the code with --otp CODE or TESSERA_OTP (or log in on a terminal)'
          : 'The organization requires two-factor login and this account has none yet: run `tessera login` on a terminal to enrol an authenticator app',
        'otp',
      );
    }
    if (error.code === 'SECOND_FACTOR_ENROLMENT_REQUIRED') {
      const { username, password, org } = credentials;
      const enrolment = await client.beginSecondFactorAtLogin({ username, password, ...(org && { org }) });
      ctx.out.warn(`The organization requires two-factor login. Add this account to an authenticator app:\n  secret: ${enrolment.secret}\n  or open: ${enrolment.otpauth_uri}`);
    }
    const otp = await askLine(ctx, 'Authentication code: ');
    if (!otp) throw new UsageError('No code given; log in again and type the 6-digit code of your authenticator app', 'otp');
    return client.login({ ...credentials, otp });
  }
}

async function askLine(ctx: Context, question: string): Promise<string> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: ctx.io.stdin, output: ctx.io.stderr, terminal: true });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}
