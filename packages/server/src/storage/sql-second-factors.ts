import { sql, type Kysely, type Transaction } from 'kysely';
import type { SecondFactorRepository } from '../core/second-factor-model.js';
import type { Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

interface Row {
  principal_id: string;
  org_id: string;
  seed_cipher: Uint8Array;
  confirmed_at: Date | null;
  last_step: string | number | null;
  recovery_hashes: string[];
  created_at: Date;
}

export function createSecondFactorRepository(db: Db): SecondFactorRepository {
  return {
    async get(principalId) {
      const { rows } = await sql<Row>`SELECT * FROM second_factors WHERE principal_id = ${principalId}`.execute(db);
      const row = rows[0];
      return (
        row && {
          principalId: row.principal_id,
          orgId: row.org_id,
          seedCipher: Buffer.from(row.seed_cipher),
          confirmedAt: row.confirmed_at && new Date(row.confirmed_at),
          lastStep: row.last_step === null ? null : Number(row.last_step),
          recoveryHashes: row.recovery_hashes,
          createdAt: new Date(row.created_at),
        }
      );
    },
    async begin(factor) {
      await sql`
        INSERT INTO second_factors (principal_id, org_id, seed_cipher, created_at) VALUES (${factor.principalId}, ${factor.orgId}, ${factor.seedCipher}, ${factor.createdAt})
        ON CONFLICT (principal_id) DO UPDATE SET seed_cipher = excluded.seed_cipher, created_at = excluded.created_at, last_step = NULL, recovery_hashes = '[]'
        WHERE second_factors.confirmed_at IS NULL`.execute(db);
    },
    async confirm(principalId, at, step, recoveryHashes) {
      await sql`UPDATE second_factors SET confirmed_at = ${at}, last_step = ${step}, recovery_hashes = ${JSON.stringify(recoveryHashes)}::jsonb WHERE principal_id = ${principalId}`.execute(db);
    },
    async useStep(principalId, step) {
      const { rows } = await sql`UPDATE second_factors SET last_step = ${step} WHERE principal_id = ${principalId} AND (last_step IS NULL OR last_step < ${step}) RETURNING principal_id`.execute(db);
      return rows.length === 1;
    },
    async useRecoveryCode(principalId, hash) {
      const { rows } = await sql`
        UPDATE second_factors SET recovery_hashes = recovery_hashes - ${hash}::text
        WHERE principal_id = ${principalId} AND recovery_hashes ? ${hash}::text RETURNING principal_id`.execute(db);
      return rows.length === 1;
    },
    async remove(principalId) {
      const { rows } = await sql`DELETE FROM second_factors WHERE principal_id = ${principalId} RETURNING principal_id`.execute(db);
      return rows.length === 1;
    },
  };
}
