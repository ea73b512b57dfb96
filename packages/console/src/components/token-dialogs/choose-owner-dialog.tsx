import { useState } from 'preact/hooks';
import { api, problemOf, query, type Page, type Principal, type Problem } from '../../api.js';
import { useSession } from '../../session.js';
import { Dialog, DialogActions } from '../dialog.js';
import { Field, ProblemAlert } from '../form.js';
import type { TokenOwner } from './fields.js';

/** The user or service account with exactly this username, or undefined. */
async function byUsername(username: string): Promise<Principal | undefined> {
  for (const path of ['/users', '/service-accounts']) {
    const page = await api.get<Page<Principal>>(`${path}${query({ q: username, limit: 50 })}`);
    const found = page.items.find((p) => p.username.toLowerCase() === username.toLowerCase());
    if (found) return found;
  }
  return undefined;
}

/**
 * "Add token" on the API tokens page: first whose token it is (a token always has an owner),
 * then the usual Add token dialog for that owner.
 */
export function ChooseOwnerDialog(props: { onClose: () => void; onChosen: (owner: TokenOwner) => void }) {
  const session = useSession();
  const [username, setUsername] = useState('');
  const [error, setError] = useState<string>();
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  return (
    <Dialog title="Add token: whose is it?" onClose={props.onClose} testId="choose-owner-dialog">
      <form
        noValidate
        onSubmit={async (event) => {
          event.preventDefault();
          const wanted = username.trim();
          if (!wanted) {
            setError('Write the username of the user or service account the token is for');
            return;
          }
          setBusy(true);
          try {
            const owner = await byUsername(wanted);
            if (!owner) setError(`No user or service account is called "${wanted}"`);
            else props.onChosen({ id: owner.id, username: owner.username, roles: owner.roles, self: owner.id === session.me.principal.id });
          } catch (failure) {
            setProblem(problemOf(failure));
          } finally {
            setBusy(false);
          }
        }}
      >
        <ProblemAlert problem={problem} />
        <Field label="Owner" error={error} hint="The username of a user or service account; the token acts with at most its roles.">
          {(attrs) => (
            <input
              {...attrs}
              value={username}
              autocomplete="off"
              onInput={(e) => {
                setUsername(e.currentTarget.value);
                setError(undefined);
              }}
            />
          )}
        </Field>
        <DialogActions label="Continue" busy={busy} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}
