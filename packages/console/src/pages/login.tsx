import { useState } from 'preact/hooks';
import { api, problemOf, type Problem } from '../api.js';
import { Field, ProblemAlert, fieldOfProblem } from '../components/form.js';

/**
 * Password login: POST /api/v1/sessions sets the HttpOnly session cookie. When the policy has
 * expired the password (403 PASSWORD_EXPIRED), the same form asks for a new one and logs in
 * through POST /api/v1/sessions/password-change.
 */
export function LoginPage(props: { onLoggedIn: () => Promise<void> }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [org, setOrg] = useState('');
  const [expired, setExpired] = useState(false);
  const [newPassword, setNewPassword] = useState('');
  const [again, setAgain] = useState('');
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  const mismatch = expired && again !== '' && again !== newPassword ? 'The two new passwords differ: type the same password twice' : undefined;
  const newPasswordError = expired && fieldOfProblem(problem, { '/new_password': 'new' }) ? problem?.detail : undefined;

  async function submit(event: Event) {
    event.preventDefault();
    if (mismatch) return;
    setBusy(true);
    setProblem(undefined);
    const credentials = { username: username.trim(), password, ...(org.trim() && { org: org.trim() }) };
    try {
      if (expired) await api.post('/sessions/password-change', { ...credentials, new_password: newPassword });
      else await api.post('/sessions', credentials);
      setPassword('');
      setNewPassword('');
      setAgain('');
      await props.onLoggedIn();
    } catch (error) {
      const refusal = problemOf(error);
      if (refusal.code === 'PASSWORD_EXPIRED') setExpired(true);
      else setProblem(refusal);
      setBusy(false);
    }
  }

  return (
    <main id="main" class="login">
      <form onSubmit={submit} class="card" aria-labelledby="login-title">
        <h1 id="login-title">{expired ? 'Choose a new password' : 'Log in to Tessera'}</h1>
        {expired && (
          <p class="warning" role="status">
            Your password has expired under your organization’s policy. Choose a new one to log in; your other sessions will end.
          </p>
        )}
        {!newPasswordError && <ProblemAlert problem={problem} />}
        <Field label="Username">
          {(attrs) => <input {...attrs} name="username" autocomplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />}
        </Field>
        <Field label={expired ? 'Current password' : 'Password'}>
          {(attrs) => (
            <input {...attrs} name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
          )}
        </Field>
        {expired && (
          <>
            <Field label="New password" error={newPasswordError} hint="12 to 256 characters, not the current one.">
              {(attrs) => (
                <input {...attrs} name="new-password" type="password" autocomplete="new-password" required value={newPassword} onInput={(e) => setNewPassword(e.currentTarget.value)} />
              )}
            </Field>
            <Field label="New password again" error={mismatch}>
              {(attrs) => <input {...attrs} type="password" autocomplete="new-password" required value={again} onInput={(e) => setAgain(e.currentTarget.value)} />}
            </Field>
          </>
        )}
        <Field label="Organization" hint="Leave empty for the default organization.">
          {(attrs) => <input {...attrs} name="org" autocomplete="organization" value={org} onInput={(e) => setOrg(e.currentTarget.value)} />}
        </Field>
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Logging in…' : expired ? 'Change password and log in' : 'Log in'}
          </button>
        </div>
      </form>
    </main>
  );
}
