import type { App, AppWithSecret, CreateApp, ListQuery, UpdateApp } from '@tessera/client';
import type { Page } from './principals.js';
import type { Transport } from './transport.js';

const path = (id: string) => ({ params: { path: { id } } });

export function appsOf(t: Transport) {
  return {
    list: (query: ListQuery = {}): Promise<Page<App>> => t.call((signal) => t.api.GET('/api/v1/apps', { params: { query }, signal })),
    get: (id: string): Promise<App> => t.call((signal) => t.api.GET('/api/v1/apps/{id}', { ...path(id), signal })),
    create: (body: CreateApp): Promise<AppWithSecret> => t.call((signal) => t.api.POST('/api/v1/apps', { body, signal })),
    update: (id: string, body: UpdateApp): Promise<App> => t.call((signal) => t.api.PATCH('/api/v1/apps/{id}', { ...path(id), body, signal })),
    remove: async (id: string): Promise<void> => {
      await t.call((signal) => t.api.DELETE('/api/v1/apps/{id}', { ...path(id), signal }));
    },
    /** The old secret stops working at once; the new one is in this answer only. */
    regenerateSecret: (id: string): Promise<AppWithSecret> => t.call((signal) => t.api.POST('/api/v1/apps/{id}/secret', { ...path(id), signal })),
  };
}
