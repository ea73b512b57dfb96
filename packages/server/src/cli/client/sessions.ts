import type { BodyOf, LoginBody, LoginResult, Me, ResponseOf } from '@tessera/client';
import type { Transport } from './transport.js';

export type SecondFactorEnrolment = ResponseOf<'/api/v1/sessions/second-factor', 'post'>;

/** Logging in and out, and who the session is. */
export function sessionCalls(t: Transport) {
  return {
    /** POST /sessions: password login. */
    login: (body: LoginBody): Promise<LoginResult> => t.call((signal) => t.api.POST('/api/v1/sessions', { body, signal })),
    /** POST /sessions/second-factor: starts a TOTP enrolment with the password, before a session exists. */
    beginSecondFactorAtLogin: (body: BodyOf<'/api/v1/sessions/second-factor', 'post'>): Promise<SecondFactorEnrolment> =>
      t.call((signal) => t.api.POST('/api/v1/sessions/second-factor', { body, signal })),
    /** POST /sessions/password-change: replaces a password with the current one and logs in. */
    changePasswordAtLogin: (body: BodyOf<'/api/v1/sessions/password-change', 'post'>): Promise<LoginResult> =>
      t.call((signal) => t.api.POST('/api/v1/sessions/password-change', { body, signal })),
    /** DELETE /sessions/current: ends the session this client carries. */
    logout: async (): Promise<void> => {
      await t.call((signal) => t.api.DELETE('/api/v1/sessions/current', { signal }));
    },
    me: (): Promise<Me> => t.call((signal) => t.api.GET('/api/v1/me', { signal })),
  };
}
