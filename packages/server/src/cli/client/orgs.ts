import type { BodyOf, CreateOrg, ListQuery, Org, ResponseOf } from '@tessera/client';
import type { Page } from './principals.js';
import type { Transport } from './transport.js';

export type CreatedOrg = ResponseOf<'/api/v1/orgs', 'post'>;

export function orgsOf(t: Transport) {
  return {
    list: (query: ListQuery = {}): Promise<Page<Org>> => t.call((signal) => t.api.GET('/api/v1/orgs', { params: { query }, signal })),
    get: (id: string): Promise<Org> => t.call((signal) => t.api.GET('/api/v1/orgs/{id}', { params: { path: { id } }, signal })),
    create: (body: CreateOrg): Promise<CreatedOrg> => t.call((signal) => t.api.POST('/api/v1/orgs', { body, signal })),
    update: (id: string, body: BodyOf<'/api/v1/orgs/{id}', 'patch'>): Promise<Org> =>
      t.call((signal) => t.api.PATCH('/api/v1/orgs/{id}', { params: { path: { id } }, body, signal })),
  };
}
