import { useState } from 'preact/hooks';
import { api, problemOf, type Problem } from '../api.js';
import { Field, ProblemAlert } from '../components/form.js';

/** Password login: POST /api/v1/sessions sets the HttpOnly session cookie. */
export function LoginPage(props: { onLoggedIn: () => Promise<void> }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [org, setOrg] = useState('');
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setProblem(undefined);
    try {
      await api.post('/sessions', { username: username.trim(), password, ...(org.trim() && { org: org.trim() }) });
      setPassword('');
      await props.onLoggedIn();
    } catch (error) {
      setProblem(problemOf(error));
      setBusy(false);
    }
  }

  return (
    <main id="main" class="login">
      <form onSubmit={submit} class="card" aria-labelledby="login-title">
        <h1 id="login-title">Log in to Tessera</h1>
        <ProblemAlert problem={problem} />
        <Field label="Username">
          {(attrs) => <input {...attrs} name="username" autocomplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />}
        </Field>
        <Field label="Password">
          {(attrs) => (
            <input {...attrs} name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
          )}
        </Field>
        <Field label="Organization" hint="Leave empty for the default organization.">
          {(attrs) => <input {...attrs} name="org" autocomplete="organization" value={org} onInput={(e) => setOrg(e.currentTarget.value)} />}
        </Field>
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Logging in…' : 'Log in'}
          </button>
        </div>
      </form>
    </main>
  );
}
