import type { Token } from '../api.js';
import { ActionMenu } from './menu.js';
import { daysUntil, expiryLabel, formatDateTime, formatRelative } from '../format.js';

/**
 * Table cells both token tables (a principal's API tokens tab, the admin API tokens page) show
 * alike. Each carries data-label: at phone width the rows stack and each cell is labelled by it.
 */

/** A time as people read it ("in 12 hours", "3 days ago"), the exact one as its title. */
export function RelativeTime(props: { iso: string; now?: number }) {
  return (
    <time dateTime={props.iso} title={formatDateTime(props.iso)}>
      {formatRelative(props.iso, props.now)}
    </time>
  );
}

/** An active token this close to its end (or renewable-until) gets the warning style. */
export const soonDays = 7;

/** The row's class: dimmed once the token no longer works. */
export function tokenRowClass(token: Pick<Token, 'status'>): string | undefined {
  return token.status === 'expired' || token.status === 'revoked' ? 'token-inactive' : undefined;
}

/** The name and the public part of the token (never the secret). */
export function TokenNameCell(props: { token: Token }) {
  return (
    <td data-label="Name">
      <strong>{props.token.name}</strong>
      <div class="muted">
        <code>{props.token.display_prefix}…</code>
      </div>
    </td>
  );
}

/** "Expires in 12 hours" or "Renewable until …" (refreshable tokens), or Never; a warning within 7 days. */
export function ExpiryCell(props: { token: Token; now?: number }) {
  const { token } = props;
  const left = token.expires_at ? daysUntil(token.expires_at, props.now) : null;
  const soon = token.status === 'active' && left !== null && left <= soonDays;
  return (
    <td data-label="Expires" class={soon ? 'expiry-soon' : undefined} data-testid="expiry">
      {token.expires_at ? (
        <>
          <span class="muted">{left !== null && left < 0 ? (token.mode === 'refreshable' ? 'Renewal ended' : 'Expired') : expiryLabel(token)}</span>{' '}
          <RelativeTime iso={token.expires_at} now={props.now} />
          {soon && <span class="visually-hidden"> (soon)</span>}
        </>
      ) : (
        'Never'
      )}
    </td>
  );
}

/** Last use with its address and the other recent addresses, or Never used. */
export function LastUsedCell(props: { token: Token }) {
  const { token } = props;
  const others = (token.recent_ips ?? []).filter((entry) => entry.ip !== token.last_used_ip);
  return (
    <td data-label="Last used">
      {token.last_used_at ? (
        <>
          <RelativeTime iso={token.last_used_at} />
          <div class="muted">{token.last_used_ip}</div>
          {others.length > 0 && (
            <div class="muted" data-testid="recent-ips" title={others.map((entry) => `${entry.ip}: ${formatDateTime(entry.last_seen_at)}`).join('\n')}>
              also {others.map((entry) => entry.ip).join(', ')}
            </div>
          )}
        </>
      ) : (
        'Never used'
      )}
    </td>
  );
}

/** Days before expiry (or renewable-until) at which a token is flagged, as the webhooks warn (SPEC 9). */
const warningDays = [1, 7, 14];

/** Why a revoked token was revoked, in words, for the reasons the system itself sets. */
export function revokeReasonLabel(reason: string | null): string | null {
  if (reason === 'leaked') return 'Leaked: reported by secret scanning';
  if (reason === 'cutoff') return 'Revoked with every token issued before a cutoff';
  return reason;
}

/** The status badge, with the revoke reason or an expiry warning under it. */
export function TokenStatusCell(props: { token: Token; now?: number }) {
  const { token } = props;
  const now = props.now ?? Date.now();
  const left = token.status === 'active' && token.expires_at ? (Date.parse(token.expires_at) - now) / 86_400_000 : null;
  const within = left === null ? undefined : warningDays.find((days) => left <= days);
  return (
    <td data-label="Status">
      <span class={`badge status-${token.status}`}>{token.status}</span>
      {token.status === 'revoked' && token.revoke_reason && (
        <div class="muted" data-testid="revoke-reason">
          {revokeReasonLabel(token.revoke_reason)}
        </div>
      )}
      {within !== undefined && left !== null && (
        <div class="expiry-warning" data-testid="expiry-warning">
          {token.mode === 'refreshable' ? 'Renewal ends' : 'Expires'} {left < 1 ? 'within a day' : `in ${Math.ceil(left)} days`}
        </div>
      )}
    </td>
  );
}

/** The row's ⋯ menu: Edit, Rotate (where offered) and Revoke, listed disabled once revoked. */
export function TokenActionsCell(props: { token: Token; canWrite: boolean; rotate?: boolean; onOpen: (kind: 'edit' | 'rotate' | 'revoke', token: Token) => void }) {
  const { token } = props;
  const revoked = token.status === 'revoked';
  const items = [
    { label: 'Edit', onSelect: () => props.onOpen('edit', token), disabled: revoked },
    ...(props.rotate ? [{ label: 'Rotate', onSelect: () => props.onOpen('rotate', token), disabled: revoked }] : []),
    { label: 'Revoke', onSelect: () => props.onOpen('revoke', token), danger: true, disabled: revoked },
  ];
  return <td class="row-actions">{props.canWrite && <ActionMenu label={`Actions for ${token.name}`} items={items} />}</td>;
}
