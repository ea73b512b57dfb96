import { createAuditReading } from './audit.js';
import { createDirectoryContext } from './context.js';
import { createGroupManagement } from './groups.js';
import { createOrgManagement } from './orgs.js';
import { createPrincipalManagement } from './principals.js';
import { createRoleManagement } from './roles.js';
import type { DirectoryDeps } from './types.js';

export { createOwner } from './orgs.js';
export type { DirectoryDeps, GroupView, PrincipalChanges, PrincipalInput, PrincipalView } from './types.js';

/**
 * Users, service accounts, roles, groups and organizations. One file per resource in this
 * folder; this composes them into the one service the container wires.
 */
export function createDirectoryService(deps: DirectoryDeps) {
  const d = createDirectoryContext(deps);
  return {
    ...createPrincipalManagement(d),
    ...createRoleManagement(d),
    ...createGroupManagement(d),
    ...createOrgManagement(d),
    ...createAuditReading(d),
  };
}

export type DirectoryService = ReturnType<typeof createDirectoryService>;
