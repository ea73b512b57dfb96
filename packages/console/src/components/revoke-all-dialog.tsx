import { api } from '../api.js';
import { RevokeConfirm } from './revoke-confirm.js';
import type { TokenOwner } from './token-dialogs/index.js';

/**
 * "Revoke all of this principal's tokens" (SPEC 9): every token issued until now, and every
 * access token minted from them, stops working; tokens created afterwards are not touched.
 */
export function RevokeAllDialog(props: { owner: TokenOwner; onClose: () => void; onDone: () => void }) {
  return (
    <RevokeConfirm
      title={`Revoke all of ${props.owner.username}'s tokens?`}
      message={
        <p>
          Every API token of <strong>{props.owner.username}</strong> issued until now, and every access token minted from them, stops working at once. Tokens created afterwards
          keep working. This cannot be undone.
        </p>
      }
      confirmLabel="Revoke all tokens"
      revoke={async (reason) => {
        const result = await api.post<{ revoked: number }>('/tokens/revoke-all', { owner: props.owner.id, ...(reason && { reason }) });
        return `${result.revoked} API token${result.revoked === 1 ? '' : 's'} of ${props.owner.username} revoked`;
      }}
      onClose={props.onClose}
      onDone={props.onDone}
    />
  );
}
