import type { BodyOf, CreateToken, ResponseOf, RevokeAllTokens, Token, TokenListQuery, TokenWithSecret, UpdateToken } from '@tessera/client';
import type { Page } from './principals.js';
import type { Transport } from './transport.js';

export type RevokedAll = ResponseOf<'/api/v1/tokens/revoke-all', 'post'>;

const path = (id: string) => ({ params: { path: { id } } });

export function tokensOf(t: Transport) {
  return {
    create: (body: CreateToken): Promise<TokenWithSecret> => t.call((signal) => t.api.POST('/api/v1/tokens', { body, signal })),
    list: (query: TokenListQuery = {}): Promise<Page<Token>> => t.call((signal) => t.api.GET('/api/v1/tokens', { params: { query }, signal })),
    get: (id: string): Promise<Token> => t.call((signal) => t.api.GET('/api/v1/tokens/{id}', { ...path(id), signal })),
    update: (id: string, body: UpdateToken): Promise<Token> => t.call((signal) => t.api.PATCH('/api/v1/tokens/{id}', { ...path(id), body, signal })),
    rotate: (id: string, body: BodyOf<'/api/v1/tokens/{id}/rotate', 'post'> = {}): Promise<TokenWithSecret> =>
      t.call((signal) => t.api.POST('/api/v1/tokens/{id}/rotate', { ...path(id), body, signal })),
    revoke: (id: string, body: BodyOf<'/api/v1/tokens/{id}/revoke', 'post'> = {}): Promise<Token> =>
      t.call((signal) => t.api.POST('/api/v1/tokens/{id}/revoke', { ...path(id), body, signal })),
    /** The value travels in the body, never the URL. */
    identify: (token: string): Promise<Token> => t.call((signal) => t.api.POST('/api/v1/tokens/identify', { body: { token }, signal })),
    revokeByValue: (body: BodyOf<'/api/v1/tokens/revoke-by-value', 'post'>): Promise<Token> =>
      t.call((signal) => t.api.POST('/api/v1/tokens/revoke-by-value', { body, signal })),
    revokeAll: (body: RevokeAllTokens): Promise<RevokedAll> => t.call((signal) => t.api.POST('/api/v1/tokens/revoke-all', { body, signal })),
  };
}
