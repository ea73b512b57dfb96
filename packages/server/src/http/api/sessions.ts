import { Type, type FastifyPluginAsyncTypebox, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Container } from '../../app/container.js';
import type { LoginResult } from '../../core/auth.js';
import { actorContext, authenticate, requestContext, sessionCookie } from '../request-context.js';
import { NewPassword, Password, PrincipalBody, Timestamp, Username, bearerSecurity, principalBody, problemResponses } from '../schemas.js';

const OrgName = Type.String({ minLength: 1, maxLength: 64, description: 'Organization name; default "default"' });
const Otp = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'With two-factor login on: the 6-digit code of the authenticator app (RFC 6238), or an unused recovery code',
});

const LoginBody = Type.Object(
  {
    username: Username,
    password: Password,
    org: Type.Optional(OrgName),
    otp: Type.Optional(Otp),
  },
  { additionalProperties: false },
);

const MeBody = Type.Object({
  principal: PrincipalBody,
  rights: Type.Array(Type.String()),
  effective_roles: Type.Array(Type.String()),
  auth_method: Type.Union([Type.Literal('pwd'), Type.Literal('token'), Type.Literal('client')]),
  token_id: Type.Union([Type.String(), Type.Null()]),
});

const PasswordChangeBody = Type.Object(
  {
    username: Username,
    password: Password,
    new_password: NewPassword,
    org: Type.Optional(OrgName),
    otp: Type.Optional(Otp),
  },
  { additionalProperties: false },
);

const SessionBody = Type.Object({
  session_token: Type.String(),
  expires_at: Timestamp,
  principal: PrincipalBody,
  recovery_codes: Type.Optional(Type.Array(Type.String(), { description: 'When this login completed a two-factor enrolment: the recovery codes, shown once' })),
});

/** A TOTP enrolment: the seed to type in, and the otpauth:// URI a QR code carries. */
export const EnrolmentBody = Type.Object({ secret: Type.String({ description: 'Base32 TOTP seed (RFC 6238); shown once' }), otpauth_uri: Type.String() });

/** Password login, logout, who-am-I and password change. */
export function sessionRoutes(container: Container): FastifyPluginAsyncTypebox {
  /** Answers a new session: the token in the body, and as the console's cookie. */
  async function sendSession(request: FastifyRequest, reply: FastifyReply, result: LoginResult) {
    const view = await container.directory.getPrincipal({ ...requestContext(request, container), actor: result.actor }, result.principal.kind, result.principal.id);
    reply.setCookie(sessionCookie, result.sessionToken, {
      httpOnly: true,
      sameSite: 'strict',
      secure: request.protocol === 'https',
      path: '/',
      expires: result.expiresAt,
    });
    return reply.code(201).send({
      session_token: result.sessionToken,
      expires_at: result.expiresAt.toISOString(),
      principal: principalBody(view),
      ...(result.recoveryCodes && { recovery_codes: [...result.recoveryCodes] }),
    });
  }

  return async (app) => {
    app.post(
      '/sessions',
      {
        schema: {
          tags: ['sessions'],
          summary: 'Log in with a password',
          description:
            'Returns a session token to send as `Authorization: Bearer`, and sets it as an HttpOnly, SameSite=Strict cookie for the console.',
          body: LoginBody,
          response: {
            201: SessionBody,
            ...problemResponses,
          },
        },
      },
      async (request, reply) => sendSession(request, reply, await container.auth.login(request.body, requestContext(request, container))),
    );

    app.post(
      '/sessions/password-change',
      {
        schema: {
          tags: ['sessions'],
          summary: 'Change a password with the current one, and log in',
          description:
            'For a password that has expired under the organization policy (login answers 403 PASSWORD_EXPIRED), or any time. ' +
            'Throttled and answered like a login; every other session of the user ends. Returns a new session as `POST /sessions` does.',
          body: PasswordChangeBody,
          response: {
            201: SessionBody,
            ...problemResponses,
          },
        },
      },
      async (request, reply) => {
        const { new_password: newPassword, ...credentials } = request.body;
        return sendSession(request, reply, await container.auth.changePasswordAtLogin({ ...credentials, newPassword }, requestContext(request, container)));
      },
    );

    app.post(
      '/sessions/second-factor',
      {
        schema: {
          tags: ['sessions'],
          summary: 'Start a two-factor enrolment with a password, before logging in',
          description:
            'For an organization that requires two-factor login (login answers 403 SECOND_FACTOR_ENROLMENT_REQUIRED). Add the secret to an authenticator app, then log in with POST /sessions and its first code as otp: that login confirms the enrolment and answers the recovery codes once. Throttled and audited like a login.',
          body: LoginBody,
          response: { 201: EnrolmentBody, ...problemResponses },
        },
      },
      async (request, reply) => {
        const { otp: _ignored, ...credentials } = request.body;
        const enrolment = await container.auth.beginSecondFactorAtLogin(credentials, requestContext(request, container));
        return reply.code(201).send({ secret: enrolment.secret, otpauth_uri: enrolment.otpauthUri });
      },
    );

    await app.register(async (plugin) => {
      const authed = plugin.withTypeProvider<TypeBoxTypeProvider>();
      authed.addHook('onRequest', authenticate(container));

      authed.delete(
        '/sessions/current',
        { schema: { tags: ['sessions'], summary: 'Log out', security: bearerSecurity, response: { 204: Type.Null(), ...problemResponses } } },
        async (request, reply) => {
          await container.auth.logout(actorContext(request, container));
          reply.clearCookie(sessionCookie, { path: '/' });
          return reply.code(204).send(null);
        },
      );

      authed.get(
        '/me',
        { schema: { tags: ['sessions'], summary: 'Who am I, with my rights', security: bearerSecurity, response: { 200: MeBody, ...problemResponses } } },
        async (request) => {
          const { principal, actor } = await container.directory.me(actorContext(request, container));
          return {
            principal: principalBody(principal),
            rights: [...actor.rights].sort(),
            effective_roles: [...actor.roles],
            auth_method: actor.authMethod,
            token_id: actor.tokenId,
          };
        },
      );

      authed.put(
        '/me/password',
        {
          schema: {
            tags: ['sessions'],
            summary: 'Change my password',
            description: 'Ends every other session of the caller.',
            security: bearerSecurity,
            body: Type.Object({ current_password: Password, new_password: NewPassword }, { additionalProperties: false }),
            response: { 204: Type.Null(), ...problemResponses },
          },
        },
        async (request, reply) => {
          await container.auth.changePassword(actorContext(request, container), {
            currentPassword: request.body.current_password,
            newPassword: request.body.new_password,
          });
          return reply.code(204).send(null);
        },
      );
    });
  };
}
