/**
 * @tessera/verify: verify Tessera access tokens in your API servers.
 *
 * A stub until the SDK issue lands: it only pins the package's place in the workspace and the
 * dependency rule (it may depend on @tessera/rules and jose, never on the server).
 *
 * @packageDocumentation
 */
export { matchesEndpoint, isIpAllowed, resolveClientAddress } from '@tessera/rules';
