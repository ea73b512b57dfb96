import { formatEndpointPattern, isRuleError, parseEndpointPatterns, parseRelativeExpiry } from '@tessera/rules';
import { authorize } from '../authorize.js';
import { auditOf, type ActorContext } from '../context.js';
import { TesseraError, invalid, notFound } from '../errors.js';
import type { Preset } from '../model.js';
import { newId } from '../ports.js';
import type { TokenContext } from './context.js';

/** Organization presets: named scopes with a mode and a default lifetime. */
export function createPresetManagement({ deps, store, clock, random }: TokenContext) {
  return {
    async createPreset(ctx: ActorContext, input: Omit<Preset, 'id' | 'orgId' | 'defaultLifetimeSeconds'> & { defaultLifetime?: string | undefined }): Promise<Preset> {
      await authorize(deps, ctx, { kind: 'manage_policy' }, { action: 'preset.create', targetType: 'preset' });
      const defaultLifetimeSeconds = input.defaultLifetime === undefined ? null : presetLifetime(input.defaultLifetime);
      if (['all', 'custom'].includes(input.name)) throw invalid('/name', '"all" and "custom" are built-in scope kinds; choose another name');
      const endpoints = presetEndpoints(input.endpoints);
      const now = clock.now();
      const preset: Preset = {
        name: input.name,
        description: input.description,
        mode: input.mode,
        scopeLocked: input.scopeLocked,
        defaultLifetimeSeconds,
        endpoints,
        id: newId(random, 'pre'),
        orgId: ctx.actor.orgId,
      };
      await store.transaction(async (tx) => {
        // Through `tx` only: PGlite has one connection, so a query on `store` here would wait for this transaction forever.
        if (deps.configPresets.some((p) => p.name === input.name) || (await tx.presets.getByName(ctx.actor.orgId, input.name))) {
          throw new TesseraError('CONFLICT', `A preset named "${input.name}" already exists; choose another name`, { field: '/name' });
        }
        await tx.presets.create({ ...preset, orgId: ctx.actor.orgId, createdAt: now });
        await tx.audit.append(auditOf(ctx, now, { action: 'preset.created', outcome: 'success', targetType: 'preset', targetId: preset.id, details: { name: preset.name, endpoints, mode: preset.mode } }));
      });
      return preset;
    },

    /**
     * Changes an organization preset. Name and mode stay (delete and create instead); tokens keep
     * the endpoints they were created with, so an edit shapes the tokens created after it.
     */
    async updatePreset(
      ctx: ActorContext,
      id: string,
      changes: { description?: string | undefined; endpoints?: readonly string[] | undefined; scopeLocked?: boolean | undefined; defaultLifetime?: string | null | undefined },
    ): Promise<Preset> {
      await authorize(deps, ctx, { kind: 'manage_policy' }, { action: 'preset.update', targetType: 'preset', targetId: id });
      const endpoints = changes.endpoints && presetEndpoints(changes.endpoints);
      const lifetime = changes.defaultLifetime === undefined ? undefined : changes.defaultLifetime === null ? null : presetLifetime(changes.defaultLifetime);
      const now = clock.now();
      return store.transaction(async (tx) => {
        const before = (await tx.presets.list(ctx.actor.orgId)).find((p) => p.id === id);
        if (!before) throw notFound('preset', id);
        const after = await tx.presets.update(ctx.actor.orgId, id, {
          ...(changes.description !== undefined && { description: changes.description }),
          ...(endpoints !== undefined && { endpoints }),
          ...(changes.scopeLocked !== undefined && { scopeLocked: changes.scopeLocked }),
          ...(lifetime !== undefined && { defaultLifetimeSeconds: lifetime }),
        });
        if (!after) throw notFound('preset', id);
        const diff: Record<string, { from: unknown; to: unknown }> = {};
        for (const key of ['description', 'endpoints', 'scopeLocked', 'defaultLifetimeSeconds'] as const) {
          if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) diff[key] = { from: before[key], to: after[key] };
        }
        await tx.audit.append(auditOf(ctx, now, { action: 'preset.updated', outcome: 'success', targetType: 'preset', targetId: id, details: { name: after.name, changes: diff } }));
        return after;
      });
    },

    async deletePreset(ctx: ActorContext, id: string): Promise<void> {
      await authorize(deps, ctx, { kind: 'manage_policy' }, { action: 'preset.delete', targetType: 'preset', targetId: id });
      const now = clock.now();
      await store.transaction(async (tx) => {
        if (!(await tx.presets.remove(ctx.actor.orgId, id))) throw notFound('preset', id);
        await tx.audit.append(auditOf(ctx, now, { action: 'preset.deleted', outcome: 'success', targetType: 'preset', targetId: id }));
      });
    },
  };
}

function presetEndpoints(input: readonly string[]): string[] {
  let endpoints: string[];
  try {
    endpoints = parseEndpointPatterns(input).map(formatEndpointPattern);
  } catch (error) {
    if (isRuleError(error)) throw invalid('/endpoints', error.message);
    throw error;
  }
  if (endpoints.length === 0) throw invalid('/endpoints', 'A preset needs at least one endpoint pattern, such as /scim/v2/*');
  return endpoints;
}

function presetLifetime(input: string): number {
  try {
    return parseRelativeExpiry(input);
  } catch (error) {
    if (isRuleError(error)) throw invalid('/default_lifetime', error.message);
    throw error;
  }
}
