import type { BodyOf, QueryOf, ResponseOf, Token, TokenWithSecret } from '@tessera/client';
import type { Page } from './principals.js';
import type { Transport } from './transport.js';

export type CreateToken = BodyOf<'/api/v1/tokens', 'post'>;
/** A change to a token; on create, `scope` is required. */
export type TokenInput = BodyOf<'/api/v1/tokens/{id}', 'patch'>;
export type TokenListQuery = QueryOf<'/api/v1/tokens', 'get'>;
export type RevokeAll = BodyOf<'/api/v1/tokens/revoke-all', 'post'>;
export type RevokedAll = ResponseOf<'/api/v1/tokens/revoke-all', 'post'>;

const path = (id: string) => ({ params: { path: { id } } });

export function tokensOf(t: Transport) {
  return {
    create: (body: CreateToken): Promise<TokenWithSecret> => t.call((signal) => t.api.POST('/api/v1/tokens', { body, signal })),
    list: (query: TokenListQuery = {}): Promise<Page<Token>> => t.call((signal) => t.api.GET('/api/v1/tokens', { params: { query }, signal })),
    get: (id: string): Promise<Token> => t.call((signal) => t.api.GET('/api/v1/tokens/{id}', { ...path(id), signal })),
    update: (id: string, body: TokenInput): Promise<Token> => t.call((signal) => t.api.PATCH('/api/v1/tokens/{id}', { ...path(id), body, signal })),
    rotate: (id: string, body: BodyOf<'/api/v1/tokens/{id}/rotate', 'post'> = {}): Promise<TokenWithSecret> =>
      t.call((signal) => t.api.POST('/api/v1/tokens/{id}/rotate', { ...path(id), body, signal })),
    revoke: (id: string, body: BodyOf<'/api/v1/tokens/{id}/revoke', 'post'> = {}): Promise<Token> =>
      t.call((signal) => t.api.POST('/api/v1/tokens/{id}/revoke', { ...path(id), body, signal })),
    /** The value travels in the body, never the URL. */
    identify: (token: string): Promise<Token> => t.call((signal) => t.api.POST('/api/v1/tokens/identify', { body: { token }, signal })),
    revokeByValue: (body: BodyOf<'/api/v1/tokens/revoke-by-value', 'post'>): Promise<Token> =>
      t.call((signal) => t.api.POST('/api/v1/tokens/revoke-by-value', { body, signal })),
    revokeAll: (body: RevokeAll): Promise<RevokedAll> => t.call((signal) => t.api.POST('/api/v1/tokens/revoke-all', { body, signal })),
  };
}
