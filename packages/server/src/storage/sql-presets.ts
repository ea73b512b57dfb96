import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Preset } from '../core/model.js';
import type { PresetRepository } from '../core/store.js';
import { json, mapUniqueViolation } from './sql-helpers.js';
import type { Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

function toPreset(row: Selectable<Database['presets']>): Preset {
  return {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    description: row.description,
    endpoints: row.endpoints,
    mode: row.mode,
    scopeLocked: row.scope_locked,
    defaultLifetimeSeconds: row.default_lifetime_seconds,
  };
}

export function createPresetRepository(db: Db): PresetRepository {
  return {
    async list(orgId) {
      return (await db.selectFrom('presets').selectAll().where('org_id', '=', orgId).orderBy('name').execute()).map(toPreset);
    },
    async getByName(orgId, name) {
      const row = await db.selectFrom('presets').selectAll().where('org_id', '=', orgId).where('name', '=', name).executeTakeFirst();
      return row && toPreset(row);
    },
    async create(preset) {
      const insert = db
        .insertInto('presets')
        .values({
          id: preset.id,
          org_id: preset.orgId,
          name: preset.name,
          description: preset.description,
          endpoints: json(preset.endpoints),
          mode: preset.mode,
          scope_locked: preset.scopeLocked,
          default_lifetime_seconds: preset.defaultLifetimeSeconds,
          created_at: preset.createdAt,
        })
        .execute();
      await mapUniqueViolation(insert, '/name', `A preset named "${preset.name}" already exists; choose another name`);
    },
    async update(orgId, id, patch) {
      const row = await db
        .updateTable('presets')
        .set({
          ...(patch.description !== undefined && { description: patch.description }),
          ...(patch.endpoints !== undefined && { endpoints: json(patch.endpoints) }),
          ...(patch.scopeLocked !== undefined && { scope_locked: patch.scopeLocked }),
          ...(patch.defaultLifetimeSeconds !== undefined && { default_lifetime_seconds: patch.defaultLifetimeSeconds }),
        })
        .where('org_id', '=', orgId)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row && toPreset(row);
    },
    async remove(orgId, id) {
      return (await db.deleteFrom('presets').where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst()).numDeletedRows > 0n;
    },
  };
}
