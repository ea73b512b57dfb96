import { useState } from 'preact/hooks';
import { api, problemOf, type CreatedToken, type Problem, type Token } from '../../api.js';
import { announce } from '../announce.js';
import { ConfirmDialog } from '../dialog.js';
import { Field } from '../form.js';
import { OneTimeDialog } from '../one-time-dialog.js';

/** Rotate: a grace period for the old secret, then the new one shown once. */
export function RotateTokenDialog(props: { token: Token; onClose: () => void; onDone: () => void }) {
  const [grace, setGrace] = useState('');
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  const [secret, setSecret] = useState<string>();
  if (secret) {
    return (
      <OneTimeDialog
        title={`New secret for "${props.token.name}"`}
        secrets={[{ label: 'API token', value: secret, testId: 'new-token' }]}
        note={grace.trim() ? `The old secret keeps working for ${grace.trim()}.` : 'The old secret has stopped working.'}
        onClose={() => {
          setSecret(undefined);
          announce(`API token ${props.token.name} rotated`);
          props.onDone();
        }}
      />
    );
  }
  return (
    <ConfirmDialog
      title={`Rotate ${props.token.name}`}
      message="A new secret replaces the current one. Clients must be given the new secret."
      confirmLabel={busy ? 'Rotating…' : 'Rotate'}
      busy={busy}
      onClose={props.onClose}
      onConfirm={async () => {
        setBusy(true);
        try {
          const rotated = await api.post<CreatedToken>(`/tokens/${encodeURIComponent(props.token.id)}/rotate`, grace.trim() ? { grace: grace.trim() } : {});
          setSecret(rotated.token);
        } catch (error) {
          setProblem(problemOf(error));
        } finally {
          setBusy(false);
        }
      }}
    >
      <Field label="Grace period for the old secret" error={problem?.detail} hint="Optional, e.g. 1h or 2D (at most 7D). Empty: the old secret stops at once.">
        {(attrs) => <input {...attrs} value={grace} onInput={(e) => setGrace(e.currentTarget.value)} />}
      </Field>
    </ConfirmDialog>
  );
}
