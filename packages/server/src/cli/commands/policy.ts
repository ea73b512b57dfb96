import type { Command } from 'commander';
import { formatDuration } from '@tessera/rules';
import type { Policy } from '../client.js';
import type { Context, ContextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { booleanValue, checkIpAllowlist, collect, durationSeconds, optionalDurationSeconds, positiveInteger } from '../input.js';
import { formatList } from '../output.js';
import { examples, group } from './help.js';

interface SetOptions {
  accessTokenTtl?: string;
  renewablePeriod?: string;
  maxTokenLifetime?: string;
  defaultTokenLifetime?: string;
  passwordExpiry?: string;
  idleTimeout?: string;
  maxTokensPerUser?: number;
  maxTokensPerServiceAccount?: number;
  allowNoExpiry?: boolean;
  allowDirectTokens?: boolean;
  refreshTokenRotation?: boolean;
  allowIp?: string[];
  anyIp?: boolean;
}

/** `policy show|set`: the organization's token policy (SPEC 4). */
export function registerPolicyCommands(program: Command, contextOf: ContextOf): void {
  const command = group(program, 'policy', 'Show or change the organization\'s token policy', examples('tessera policy show', 'tessera policy set --max-tokens-per-user 5'));

  command
    .command('show')
    .description('Show the organization\'s policy')
    .addHelpText('after', examples('tessera policy show', 'tessera policy show --json'))
    .action(async (_options: object, cmd: Command) => {
      const ctx = contextOf(cmd);
      const policy = await (await ctx.client()).policy.get();
      ctx.out.result(policy, () => printPolicy(ctx, policy));
    });

  command
    .command('set')
    .description('Change the policy (needs policy.manage); settings left out keep their value')
    .option('--access-token-ttl <duration>', 'access-token lifetime, 1m to 30D (e.g. 30m)')
    .option('--renewable-period <duration>', 'default renewable-until of refreshable tokens (e.g. 90D), or none: tokens do not expire unless --expiry-date is given (needs --allow-no-expiry true)')
    .option('--max-token-lifetime <duration>', 'longest token lifetime (e.g. 1Y), or none')
    .option('--default-token-lifetime <duration>', 'default lifetime of direct tokens, or none (the renewable period; never when that is none)')
    .option('--password-expiry <duration>', 'user password expiry, or none; without a maximum it is also the default and maximum token lifetime')
    .option('--idle-timeout <duration>', 'a token unused this long becomes idle and stops working, or none')
    .option('--max-tokens-per-user <n>', 'active tokens a user may hold', positiveInteger)
    .option('--max-tokens-per-service-account <n>', 'active tokens a service account may hold', positiveInteger)
    .option('--allow-no-expiry <true|false>', 'whether tokens may never expire', booleanValue)
    .option('--allow-direct-tokens <true|false>', 'whether presets of direct tokens may be used', booleanValue)
    .option('--refresh-token-rotation <true|false>', 'each refresh returns a new API token secret', booleanValue)
    .option('--allow-ip <entry>', 'an address, CIDR or range the organization\'s tokens may be used from; replaces the list; repeatable', collect)
    .option('--any-ip', 'clear the organization\'s IP allowlist (any address)')
    .addHelpText(
      'after',
      `
Durations are written like token expiries: 30m, 12h, 90D, 1Y (M is 30 days, m minutes).
Limits apply to tokens created after the change; the idle timeout and the allowlist apply at use.
${examples('tessera policy set --max-tokens-per-user 5', 'tessera policy set --max-token-lifetime 180D --allow-no-expiry false', 'tessera policy set --allow-no-expiry true --renewable-period none', 'tessera policy set --allow-ip 10.0.0.0/8 --json')}`,
    )
    .action(async (options: SetOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body = policyInput(options);
      if (Object.keys(body).length === 0) throw new UsageError('Nothing to change: give at least one setting (see tessera policy set --help)');
      const policy = await (await ctx.client()).policy.set(body);
      ctx.out.result(policy, () => {
        ctx.out.note('The policy has been updated.');
        printPolicy(ctx, policy);
      });
    });
}

function policyInput(options: SetOptions): Partial<Policy> {
  if (options.allowIp !== undefined && options.anyIp) throw new UsageError('Give either --allow-ip or --any-ip, not both');
  const body: Partial<Policy> = {};
  if (options.accessTokenTtl !== undefined) body.access_token_ttl_seconds = durationSeconds('/access_token_ttl_seconds', options.accessTokenTtl);
  if (options.renewablePeriod !== undefined) body.renewable_period_seconds = optionalDurationSeconds('/renewable_period_seconds', options.renewablePeriod);
  if (options.maxTokenLifetime !== undefined) body.max_token_lifetime_seconds = optionalDurationSeconds('/max_token_lifetime_seconds', options.maxTokenLifetime);
  if (options.defaultTokenLifetime !== undefined) body.default_token_lifetime_seconds = optionalDurationSeconds('/default_token_lifetime_seconds', options.defaultTokenLifetime);
  if (options.passwordExpiry !== undefined) body.password_expiry_seconds = optionalDurationSeconds('/password_expiry_seconds', options.passwordExpiry);
  if (options.idleTimeout !== undefined) body.idle_timeout_seconds = optionalDurationSeconds('/idle_timeout_seconds', options.idleTimeout);
  if (options.maxTokensPerUser !== undefined) body.max_tokens_per_user = options.maxTokensPerUser;
  if (options.maxTokensPerServiceAccount !== undefined) body.max_tokens_per_service_account = options.maxTokensPerServiceAccount;
  if (options.allowNoExpiry !== undefined) body.allow_no_expiry = options.allowNoExpiry;
  if (options.allowDirectTokens !== undefined) body.allow_direct_tokens = options.allowDirectTokens;
  if (options.refreshTokenRotation !== undefined) body.refresh_token_rotation = options.refreshTokenRotation;
  if (options.allowIp !== undefined) body.ip_allowlist = checkIpAllowlist(options.allowIp);
  if (options.anyIp) body.ip_allowlist = [];
  return body;
}

const duration = (seconds: number | null, none: string) => (seconds === null ? none : formatDuration(seconds));
const yesNo = (value: boolean) => (value ? 'yes' : 'no');

function printPolicy(ctx: Context, p: Policy): void {
  ctx.out.fields([
    ['access-token TTL', duration(p.access_token_ttl_seconds, '-')],
    ['renewable period', duration(p.renewable_period_seconds, 'none (tokens do not expire unless given an expiry)')],
    ['max token lifetime', duration(p.max_token_lifetime_seconds, 'none')],
    ['default token lifetime', duration(p.default_token_lifetime_seconds, 'the renewable period')],
    ['password expiry', duration(p.password_expiry_seconds, 'none')],
    ['idle timeout', duration(p.idle_timeout_seconds, 'none')],
    ['max tokens per user', p.max_tokens_per_user],
    ['max tokens per service account', p.max_tokens_per_service_account],
    ['tokens without expiry', p.allow_no_expiry ? 'allowed' : 'not allowed'],
    ['direct tokens', p.allow_direct_tokens ? 'allowed' : 'not allowed'],
    ['refresh-token rotation', yesNo(p.refresh_token_rotation)],
    ['allowed IPs', p.ip_allowlist.length === 0 ? 'any' : formatList(p.ip_allowlist)],
  ]);
}
