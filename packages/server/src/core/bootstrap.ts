import { auditOf } from './context.js';
import { createOwner } from './directory/index.js';
import { randomBase62, type Clock, type Random } from './ports.js';
import { builtinRoles } from './rights.js';
import { hashPassword } from './secrets.js';
import type { Store } from './store.js';

export const defaultOrgName = 'default';
export const adminUsername = 'admin';

export interface BootstrapResult {
  /** True on the first start, when the default organization and the admin were created. */
  readonly created: boolean;
  /** The generated admin password, present only when it was generated now. */
  readonly generatedPassword: string | undefined;
}

/**
 * Brings the catalog of built-in roles up to date and, on an empty database, creates the
 * organization `default` with the instance admin `admin` (SPEC 7).
 */
export async function bootstrapInstance(
  deps: { store: Store; clock: Clock; random: Random },
  adminPassword: string | undefined,
): Promise<BootstrapResult> {
  const { store, clock, random } = deps;
  const now = clock.now();
  await store.roles.syncBuiltins(
    Object.entries(builtinRoles).map(([name, rights]) => ({
      id: `role_${name}`,
      orgId: null,
      name,
      description: `Built-in role ${name}`,
      rights,
      builtin: true,
      createdAt: now,
    })),
  );
  if ((await store.orgs.count()) > 0) return { created: false, generatedPassword: undefined };

  const generatedPassword = adminPassword === undefined ? randomBase62(random, 24) : undefined;
  const passwordHash = await hashPassword(adminPassword ?? (generatedPassword as string), random.bytes(16));
  const createDefaults = () =>
    store.transaction(async (tx) => {
      const org = await tx.orgs.create({ id: 'org_default', name: defaultOrgName, displayName: 'Default organization', createdAt: now });
      const admin = await createOwner(tx, random, org, adminUsername, passwordHash, true, now);
      await tx.audit.append(
        auditOf({ clientIp: null, userAgent: null, requestId: null }, now, {
          orgId: org.id,
          action: 'instance.bootstrapped',
          outcome: 'success',
          targetType: 'principal',
          targetId: admin.id,
          details: { org: org.name, admin: admin.username, password: adminPassword === undefined ? 'generated' : 'from TESSERA_ADMIN_PASSWORD' },
        }),
      );
    });
  try {
    await createDefaults();
  } catch (error) {
    // Several instances starting at once on an empty database: one wins, the rest carry on.
    if ((await store.orgs.count()) > 0) return { created: false, generatedPassword: undefined };
    throw error;
  }
  return { created: true, generatedPassword };
}
