import { api, type Token } from '../../api.js';
import { RevokeConfirm } from '../revoke-confirm.js';

/** Revoke, after confirmation; irreversible. */
export function RevokeTokenDialog(props: { token: Token; onClose: () => void; onDone: () => void }) {
  return (
    <RevokeConfirm
      title={`Revoke ${props.token.name}?`}
      message={
        <p>
          The API token <strong>{props.token.name}</strong> of {props.token.owner} and every access token minted from it stop working at once. This cannot be undone.
        </p>
      }
      confirmLabel="Revoke token"
      revoke={async (reason) => {
        await api.post<Token>(`/tokens/${encodeURIComponent(props.token.id)}/revoke`, reason ? { reason } : {});
        return `API token ${props.token.name} revoked`;
      }}
      onClose={props.onClose}
      onDone={props.onDone}
    />
  );
}
