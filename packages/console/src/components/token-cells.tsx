import type { Token } from '../api.js';
import { expiryLabel, formatDateTime } from '../format.js';

/** Table cells both token tables (a principal's Access tokens tab, the admin API tokens page) show alike. */

/** The name and the public part of the token (never the secret). */
export function TokenNameCell(props: { token: Token }) {
  return (
    <td>
      <strong>{props.token.name}</strong>
      <div class="muted">
        <code>{props.token.display_prefix}…</code>
      </div>
    </td>
  );
}

/** "Expires" or "Renewable until" (refreshable tokens), or Never. */
export function ExpiryCell(props: { token: Token }) {
  const { token } = props;
  return (
    <td>
      {token.expires_at ? (
        <>
          <span class="muted">{expiryLabel(token)}</span> {formatDateTime(token.expires_at)}
        </>
      ) : (
        'Never'
      )}
    </td>
  );
}

/** Last use with its address, or Never used. */
export function LastUsedCell(props: { token: Token }) {
  const { token } = props;
  return (
    <td>
      {token.last_used_at ? (
        <>
          {formatDateTime(token.last_used_at)}
          <div class="muted">{token.last_used_ip}</div>
        </>
      ) : (
        'Never used'
      )}
    </td>
  );
}
