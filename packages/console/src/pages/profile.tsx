import { useState } from 'preact/hooks';
import { api, problemOf, type Problem } from '../api.js';
import { Field, ProblemAlert, fieldOfProblem } from '../components/form.js';
import { Tabs } from '../components/tabs.js';
import { TokensPanel } from '../components/tokens-panel.js';
import { TwoFactorPanel } from '../components/two-factor-panel.js';
import { useSession } from '../session.js';

function PasswordForm() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [problem, setProblem] = useState<Problem>();
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const mismatch = again !== '' && again !== next ? 'The two new passwords differ: type the same password twice' : undefined;
  const at = fieldOfProblem(problem, { '/current_password': 'current', '/new_password': 'new' });

  async function submit(event: Event) {
    event.preventDefault();
    if (mismatch || next === '') return;
    setBusy(true);
    setDone(false);
    try {
      await api.put('/me/password', { current_password: current, new_password: next });
      setCurrent('');
      setNext('');
      setAgain('');
      setProblem(undefined);
      setDone(true);
    } catch (error) {
      setProblem(problemOf(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} class="narrow" aria-labelledby="password-heading">
      <h2 id="password-heading">Change password</h2>
      {problem && !at && <ProblemAlert problem={problem} />}
      {done && (
        <p class="success" role="status">
          Password changed. Your other sessions have been ended.
        </p>
      )}
      <Field label="Current password" error={at === 'current' ? problem?.detail : undefined}>
        {(attrs) => <input {...attrs} type="password" autocomplete="current-password" required value={current} onInput={(e) => setCurrent(e.currentTarget.value)} />}
      </Field>
      <Field label="New password" error={at === 'new' ? problem?.detail : undefined} hint="12 to 256 characters.">
        {(attrs) => <input {...attrs} type="password" autocomplete="new-password" required value={next} onInput={(e) => setNext(e.currentTarget.value)} />}
      </Field>
      <Field label="New password again" error={mismatch}>
        {(attrs) => <input {...attrs} type="password" autocomplete="new-password" required value={again} onInput={(e) => setAgain(e.currentTarget.value)} />}
      </Field>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Change password
        </button>
      </div>
    </form>
  );
}

/** Profile: one's own API tokens, password change and two-factor login. */
export function ProfilePage(props: { tab: 'tokens' | 'password' | 'two-factor' }) {
  const session = useSession();
  const { principal } = session.me;
  const isUser = principal.kind === 'user';
  return (
    <>
      <h1>Profile</h1>
      <p class="muted">
        {principal.display_name || principal.username} · {principal.username} · roles: {session.me.effective_roles.join(', ') || 'none'}
      </p>
      <Tabs
        label="Profile"
        tabs={[
          { to: '/profile', label: 'API tokens', active: props.tab === 'tokens' },
          ...(isUser
            ? [
                { to: '/profile/password', label: 'Password', active: props.tab === 'password' },
                { to: '/profile/two-factor', label: 'Two-factor login', active: props.tab === 'two-factor' },
              ]
            : []),
        ]}
      />
      {props.tab === 'password' && isUser ? (
        <PasswordForm />
      ) : props.tab === 'two-factor' && isUser ? (
        <TwoFactorPanel />
      ) : (
        <TokensPanel owner={{ id: principal.id, username: principal.username, roles: session.me.effective_roles, self: true }} canCreate={session.has('tokens.own') || session.has('tokens.all')}
          canWrite={session.has('tokens.own') || session.has('tokens.all')}
        />
      )}
    </>
  );
}
