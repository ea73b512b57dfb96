import type {
  CreateGroup,
  CreateRole,
  CreateServiceAccount,
  CreateUser,
  Group,
  ListQuery,
  Principal,
  Role,
  UpdateGroup,
  UpdateRole,
  UpdateServiceAccount,
  UpdateUser,
} from '@tessera/client';
import type { Transport } from './transport.js';

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** CRUD over one REST collection, e.g. `/users`. */
export interface Collection<T, Create, Update> {
  list(query?: ListQuery): Promise<Page<T>>;
  get(id: string): Promise<T>;
  create(body: Create): Promise<T>;
  update(id: string, body: Update): Promise<T>;
  remove(id: string): Promise<void>;
}

const path = (id: string) => ({ params: { path: { id } } });

export function usersOf(t: Transport): Collection<Principal, CreateUser, UpdateUser> {
  return {
    list: (query = {}) => t.call((signal) => t.api.GET('/api/v1/users', { params: { query }, signal })),
    get: (id) => t.call((signal) => t.api.GET('/api/v1/users/{id}', { ...path(id), signal })),
    create: (body) => t.call((signal) => t.api.POST('/api/v1/users', { body, signal })),
    update: (id, body) => t.call((signal) => t.api.PATCH('/api/v1/users/{id}', { ...path(id), body, signal })),
    remove: async (id) => {
      await t.call((signal) => t.api.DELETE('/api/v1/users/{id}', { ...path(id), signal }));
    },
  };
}

export function serviceAccountsOf(t: Transport): Collection<Principal, CreateServiceAccount, UpdateServiceAccount> {
  return {
    list: (query = {}) => t.call((signal) => t.api.GET('/api/v1/service-accounts', { params: { query }, signal })),
    get: (id) => t.call((signal) => t.api.GET('/api/v1/service-accounts/{id}', { ...path(id), signal })),
    create: (body) => t.call((signal) => t.api.POST('/api/v1/service-accounts', { body, signal })),
    update: (id, body) => t.call((signal) => t.api.PATCH('/api/v1/service-accounts/{id}', { ...path(id), body, signal })),
    remove: async (id) => {
      await t.call((signal) => t.api.DELETE('/api/v1/service-accounts/{id}', { ...path(id), signal }));
    },
  };
}

export function groupsOf(t: Transport): Collection<Group, CreateGroup, UpdateGroup> {
  return {
    list: (query = {}) => t.call((signal) => t.api.GET('/api/v1/groups', { params: { query }, signal })),
    get: (id) => t.call((signal) => t.api.GET('/api/v1/groups/{id}', { ...path(id), signal })),
    create: (body) => t.call((signal) => t.api.POST('/api/v1/groups', { body, signal })),
    update: (id, body) => t.call((signal) => t.api.PATCH('/api/v1/groups/{id}', { ...path(id), body, signal })),
    remove: async (id) => {
      await t.call((signal) => t.api.DELETE('/api/v1/groups/{id}', { ...path(id), signal }));
    },
  };
}

export function rolesOf(t: Transport) {
  return {
    list: (): Promise<{ items: Role[] }> => t.call((signal) => t.api.GET('/api/v1/roles', { signal })),
    get: (id: string): Promise<Role> => t.call((signal) => t.api.GET('/api/v1/roles/{id}', { ...path(id), signal })),
    create: (body: CreateRole): Promise<Role> => t.call((signal) => t.api.POST('/api/v1/roles', { body, signal })),
    update: (id: string, body: UpdateRole): Promise<Role> => t.call((signal) => t.api.PATCH('/api/v1/roles/{id}', { ...path(id), body, signal })),
    remove: async (id: string): Promise<void> => {
      await t.call((signal) => t.api.DELETE('/api/v1/roles/{id}', { ...path(id), signal }));
    },
  };
}
