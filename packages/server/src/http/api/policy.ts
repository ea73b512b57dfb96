import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../../app/container.js';
import { policyDurationRanges, type Policy } from '../../core/policy.js';
import { actorContext } from '../request-context.js';
import { IpAllowlist, bearerSecurity, problemResponses, withDomainRules } from '../schemas.js';

type DurationField = (typeof policyDurationRanges)[number][0];

/** A policy duration with the range checkPolicy enforces (documented; the domain's message names the range). */
const ranged = (field: DurationField) => {
  const [, minimum, maximum] = policyDurationRanges.find(([name]) => name === field) as (typeof policyDurationRanges)[number];
  return withDomainRules(Type.Integer({ minimum: 1 }), { minimum, maximum });
};
const Seconds = (field: DurationField, description: string) => ({ ...ranged(field), description });
const OptionalSeconds = (field: DurationField, description: string) => Type.Union([ranged(field), Type.Null()], { description });

const PolicyBody = Type.Object(
  {
    access_token_ttl_seconds: Seconds('accessTokenTtlSeconds', 'Access-token lifetime (60 to 2592000, i.e. 30 days; default 1800)'),
    renewable_period_seconds: OptionalSeconds('renewablePeriodSeconds', 
      'Default renewable-until of refreshable tokens (default 90 days); null: "none", tokens do not expire unless an expiry is given (needs allow_no_expiry, or a maximum then serves as the default)',
    ),
    max_token_lifetime_seconds: OptionalSeconds('maxTokenLifetimeSeconds', 'Longest token lifetime; null: none'),
    default_token_lifetime_seconds: OptionalSeconds('defaultTokenLifetimeSeconds', 'Default lifetime of direct tokens; null: the renewable period (no expiry when that is null)'),
    password_expiry_seconds: OptionalSeconds('passwordExpirySeconds', 'User password expiry; without a maximum it is also the default and maximum token lifetime'),
    idle_timeout_seconds: OptionalSeconds('idleTimeoutSeconds', 'A token unused this long becomes idle and stops working; null: never'),
    max_tokens_per_user: Type.Integer({ minimum: 1, maximum: 10_000 }),
    max_tokens_per_service_account: Type.Integer({ minimum: 1, maximum: 10_000 }),
    allow_no_expiry: Type.Boolean(),
    allow_direct_tokens: Type.Boolean(),
    refresh_token_rotation: Type.Boolean({ description: 'Each refresh returns a new API token secret; reuse of an old one revokes the token' }),
    ip_allowlist: IpAllowlist,
    require_second_factor: Type.Boolean({ description: 'Users must log in with a TOTP code too (they enrol at their next login); token exchanges never ask for one' }),
  },
  { additionalProperties: false },
);

function policyBody(policy: Policy) {
  return {
    access_token_ttl_seconds: policy.accessTokenTtlSeconds,
    renewable_period_seconds: policy.renewablePeriodSeconds,
    max_token_lifetime_seconds: policy.maxTokenLifetimeSeconds,
    default_token_lifetime_seconds: policy.defaultTokenLifetimeSeconds,
    password_expiry_seconds: policy.passwordExpirySeconds,
    idle_timeout_seconds: policy.idleTimeoutSeconds,
    max_tokens_per_user: policy.maxTokensPerUser,
    max_tokens_per_service_account: policy.maxTokensPerServiceAccount,
    allow_no_expiry: policy.allowNoExpiry,
    allow_direct_tokens: policy.allowDirectTokens,
    refresh_token_rotation: policy.refreshTokenRotation,
    ip_allowlist: [...policy.ipAllowlist],
    require_second_factor: policy.requireSecondFactor,
  };
}

/** `/policy`: the organization's token policy (SPEC 4). Anyone may read it; policy.manage changes it. */
export function policyRoutes(container: Container): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/policy',
      { schema: { tags: ['policy'], summary: 'The organization\'s policy', security: bearerSecurity, response: { 200: PolicyBody, ...problemResponses } } },
      async (request) => policyBody(await container.tokens.getPolicy(actorContext(request, container))),
    );

    app.put(
      '/policy',
      {
        schema: {
          tags: ['policy'],
          summary: 'Change the policy (needs policy.manage); fields left out keep their value',
          description: 'Limits apply to tokens created after the change; the idle timeout and the organization allowlist apply at use.',
          security: bearerSecurity,
          body: Type.Partial(PolicyBody, { additionalProperties: false, minProperties: 1 }),
          response: { 200: PolicyBody, ...problemResponses },
        },
      },
      async (request) => {
        const ctx = actorContext(request, container);
        const current = await container.tokens.getPolicy(ctx);
        const b = request.body;
        const pick = <T>(value: T | undefined, fallback: T): T => (value === undefined ? fallback : value);
        const next: Policy = {
          accessTokenTtlSeconds: pick(b.access_token_ttl_seconds, current.accessTokenTtlSeconds),
          renewablePeriodSeconds: pick(b.renewable_period_seconds, current.renewablePeriodSeconds),
          maxTokenLifetimeSeconds: pick(b.max_token_lifetime_seconds, current.maxTokenLifetimeSeconds),
          defaultTokenLifetimeSeconds: pick(b.default_token_lifetime_seconds, current.defaultTokenLifetimeSeconds),
          passwordExpirySeconds: pick(b.password_expiry_seconds, current.passwordExpirySeconds),
          idleTimeoutSeconds: pick(b.idle_timeout_seconds, current.idleTimeoutSeconds),
          maxTokensPerUser: pick(b.max_tokens_per_user, current.maxTokensPerUser),
          maxTokensPerServiceAccount: pick(b.max_tokens_per_service_account, current.maxTokensPerServiceAccount),
          allowNoExpiry: pick(b.allow_no_expiry, current.allowNoExpiry),
          allowDirectTokens: pick(b.allow_direct_tokens, current.allowDirectTokens),
          refreshTokenRotation: pick(b.refresh_token_rotation, current.refreshTokenRotation),
          ipAllowlist: pick(b.ip_allowlist, current.ipAllowlist),
          requireSecondFactor: pick(b.require_second_factor, current.requireSecondFactor),
        };
        return policyBody(await container.tokens.setPolicy(ctx, next));
      },
    );
  };
}
