import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../../app/container.js';
import { actorContext } from '../request-context.js';
import { IdParams, bearerSecurity, problemResponses } from '../schemas.js';
import { EnrolmentBody } from './sessions.js';

const Code = Type.String({ minLength: 1, maxLength: 64, description: 'The 6-digit code of the authenticator app, or (to turn it off) an unused recovery code' });

/** `/me/second-factor` (one's own TOTP login factor) and an administrator's reset of a user's. */
export function secondFactorRoutes(container: Container): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['sessions'];
    app.get(
      '/me/second-factor',
      {
        schema: {
          tags,
          summary: 'Whether two-factor login is on for me',
          security: bearerSecurity,
          response: { 200: Type.Object({ enabled: Type.Boolean(), pending: Type.Boolean(), recovery_codes_left: Type.Integer({ minimum: 0 }) }), ...problemResponses },
        },
      },
      async (request) => {
        const status = await container.secondFactors.status(actorContext(request, container));
        return { enabled: status.enabled, pending: status.pending, recovery_codes_left: status.recoveryCodesLeft };
      },
    );

    app.post(
      '/me/second-factor',
      {
        schema: {
          tags,
          summary: 'Start enrolling an authenticator app (TOTP); confirm with its first code',
          description: 'Needs an interactive login. Answers the seed and its otpauth:// URI (show it as a QR code); nothing changes at login until it is confirmed.',
          security: bearerSecurity,
          response: { 201: EnrolmentBody, ...problemResponses },
        },
      },
      async (request, reply) => {
        const enrolment = await container.secondFactors.beginOwn(actorContext(request, container));
        return reply.code(201).send({ secret: enrolment.secret, otpauth_uri: enrolment.otpauthUri });
      },
    );

    app.post(
      '/me/second-factor/confirm',
      {
        schema: {
          tags,
          summary: 'Confirm the enrolment with the first code; answers the recovery codes once',
          security: bearerSecurity,
          body: Type.Object({ code: Code }, { additionalProperties: false }),
          response: { 200: Type.Object({ recovery_codes: Type.Array(Type.String(), { description: 'Each works once instead of a code; shown once' }) }), ...problemResponses },
        },
      },
      async (request) => ({ recovery_codes: [...(await container.secondFactors.confirmOwn(actorContext(request, container), request.body.code))] }),
    );

    app.post(
      '/me/second-factor/disable',
      {
        schema: {
          tags,
          summary: 'Turn two-factor login off, with a current code (refused where the policy requires it)',
          security: bearerSecurity,
          body: Type.Object({ code: Code }, { additionalProperties: false }),
          response: { 204: Type.Null(), ...problemResponses },
        },
      },
      async (request, reply) => {
        const ctx = actorContext(request, container);
        const { requireSecondFactor } = await container.tokens.getPolicy(ctx);
        await container.secondFactors.disableOwn(ctx, request.body.code, requireSecondFactor);
        return reply.code(204).send(null);
      },
    );

    app.delete(
      '/users/:id/second-factor',
      {
        schema: {
          tags: ['users'],
          summary: "Reset a user's second factor (a lost phone); they enrol again at their next login",
          security: bearerSecurity,
          params: IdParams,
          response: { 204: Type.Null(), ...problemResponses },
        },
      },
      async (request, reply) => {
        await container.secondFactors.reset(actorContext(request, container), request.params.id);
        return reply.code(204).send(null);
      },
    );
  };
}
