import { useState } from 'preact/hooks';
import { api, problemOf, type CreatedToken, type Principal, type Problem } from '../../api.js';
import { formatSeconds } from '../../format.js';
import { checkExpiry, checkIpAllowlist, linesOf } from '../../validate.js';
import { Dialog, DialogActions } from '../dialog.js';
import { Field, ProblemAlert, fieldOfProblem } from '../form.js';
import { OneTimeDialog } from '../one-time-dialog.js';
import { RolesPicker } from '../roles-picker.js';
import { useTokenSettings } from '../tokens-panel.js';
import { focusInvalid, nounOf, pathOf, useChecked, type Kind } from './common.js';
import { useFirstFieldFocus } from '../first-field.js';

/** The server's limit on token names (the token route's maxLength). */
const maxTokenName = 100;

interface FirstToken {
  readonly on: boolean;
  readonly name: string;
  readonly expires: string;
  readonly scope: string;
}

/**
 * The optional "first API token" of a new service account: name, expiry and scope (All or a
 * preset; custom endpoints and narrower roles are for the Add token dialog afterwards).
 */
function FirstTokenSection(props: {
  username: string;
  token: FirstToken;
  set: (patch: Partial<FirstToken>) => void;
  errors: Record<string, string | undefined>;
  onBlur: (field: string) => void;
}) {
  const settings = useTokenSettings();
  const { token, set, errors } = props;
  const policy = settings.data?.policy;
  return (
    <fieldset class="field">
      <legend>First API token</legend>
      <label class="check">
        <input type="checkbox" checked={token.on} onChange={(e) => set({ on: e.currentTarget.checked })} /> Also create an API token for it now
      </label>
      {token.on && (
        <>
          <p class="hint">Its secret is shown once, right after the service account is created.</p>
          <Field label="Token name" error={errors['name']} hint={`Optional; default ${props.username.trim() || '<username>'}_api_token. At most ${maxTokenName} characters.`}>
            {(attrs) => <input {...attrs} value={token.name} onInput={(e) => set({ name: e.currentTarget.value })} onBlur={() => props.onBlur('token_name')} />}
          </Field>
          <Field
            label="Token expiry"
            error={errors['expires']}
            hint={`Relative (180D, 12h, 1Y) or a date (2027-01-31). Empty: the policy default${policy?.max_token_lifetime_seconds ? `; at most ${formatSeconds(policy.max_token_lifetime_seconds)}` : ''}.`}
          >
            {(attrs) => <input {...attrs} value={token.expires} placeholder="180D" onInput={(e) => set({ expires: e.currentTarget.value })} onBlur={() => props.onBlur('token_expires')} />}
          </Field>
          <Field label="Token scope" error={errors['scope']}>
            {(attrs) => (
              <select {...attrs} value={token.scope} onChange={(e) => set({ scope: e.currentTarget.value })}>
                <option value="all">All — every endpoint the roles allow</option>
                {(settings.data?.presets ?? []).map((preset) => (
                  <option key={preset.id} value={preset.name}>
                    Preset: {preset.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </>
      )}
    </fieldset>
  );
}

/**
 * Add user / Add service account. A service account can get its first token in the same
 * dialog: the account is created first, then the token; if only the token is refused, the
 * dialog stays open to fix it and create just the token.
 */
export function CreatePrincipalDialog(props: { kind: Kind; canCreateToken: boolean; onClose: (created?: Principal) => void }) {
  const firstField = useFirstFieldFocus();
  const isUser = props.kind === 'user';
  const [form, setForm] = useState({ username: '', display_name: '', email: '', password: '', ips: '', roles: ['member'] as string[] });
  const [token, setToken] = useState<FirstToken>({ on: false, name: '', expires: '', scope: 'all' });
  const [principal, setPrincipal] = useState<Principal>();
  const [secret, setSecret] = useState<CreatedToken>();
  const [problem, setProblem] = useState<Problem>();
  const [tokenProblem, setTokenProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  const checked = useChecked();
  const set = (patch: Partial<typeof form>) => {
    setForm((f) => ({ ...f, ...patch }));
    setProblem(undefined);
  };
  const setTok = (patch: Partial<FirstToken>) => {
    setToken((t) => ({ ...t, ...patch }));
    setTokenProblem(undefined);
  };
  const wantToken = props.canCreateToken && !isUser && token.on;
  const tokenName = token.name.trim();
  const inline: Record<string, string | undefined> = {
    ips: checkIpAllowlist(form.ips),
    token_name: wantToken && tokenName.length > maxTokenName ? `A token name has at most ${maxTokenName} characters; this one has ${tokenName.length}` : undefined,
    token_expires: wantToken ? checkExpiry(token.expires) : undefined,
  };
  const shown = (name: string) => (checked.shown(name) ? inline[name] : undefined);
  const at = fieldOfProblem(problem, { '/username': 'username', '/display_name': 'display_name', '/email': 'email', '/password': 'password', '/ip_allowlist': 'ips', '/roles': 'roles' });
  const err = (name: string) => shown(name) ?? (at === name ? problem?.detail : undefined);
  const tokenAt = fieldOfProblem(tokenProblem, { '/name': 'name', '/expires': 'expires', '/scope': 'scope' });
  const tokenErrors = {
    name: shown('token_name') ?? (tokenAt === 'name' ? tokenProblem?.detail : undefined),
    expires: shown('token_expires') ?? (tokenAt === 'expires' ? tokenProblem?.detail : undefined),
    scope: tokenAt === 'scope' ? tokenProblem?.detail : undefined,
  };

  async function createToken(owner: Principal) {
    try {
      setSecret(
        await api.post<CreatedToken>('/tokens', {
          owner: owner.id,
          ...(tokenName && { name: tokenName }),
          ...(token.expires.trim() && { expires: token.expires.trim() }),
          scope: { kind: token.scope },
        }),
      );
    } catch (error) {
      setTokenProblem(problemOf(error));
      setBusy(false);
    }
  }

  async function submit(event: Event) {
    event.preventDefault();
    const element = event.currentTarget;
    checked.submit();
    if (Object.values(inline).some(Boolean)) return focusInvalid(element);
    setBusy(true);
    if (principal) {
      // The account exists already: only its token is left to create.
      await createToken(principal);
      return;
    }
    let created: Principal;
    try {
      const ips = linesOf(form.ips);
      created = await api.post<Principal>(pathOf(props.kind), {
        username: form.username.trim(),
        ...(form.display_name.trim() && { display_name: form.display_name.trim() }),
        ...(form.email.trim() && { email: form.email.trim() }),
        ...(isUser && { password: form.password }),
        roles: form.roles,
        ...(ips.length > 0 && { ip_allowlist: ips }),
      });
    } catch (error) {
      setProblem(problemOf(error));
      setBusy(false);
      focusInvalid(element);
      return;
    }
    if (!wantToken) return props.onClose(created);
    setPrincipal(created);
    await createToken(created);
  }

  if (principal && secret) {
    return (
      <OneTimeDialog
        title={`Service account ${principal.username} and token "${secret.name}" created`}
        secrets={[{ label: 'API token', value: secret.token, testId: 'new-token' }]}
        note="Trade the API token for access tokens at /oauth/token (grant_type=refresh_token)."
        onClose={() => props.onClose(principal)}
      />
    );
  }

  const locked = principal !== undefined;
  return (
    <Dialog title={`Add ${nounOf(props.kind)}`} onClose={() => props.onClose(principal)} testId="create-principal-dialog" wide>
      <form onSubmit={submit} noValidate ref={firstField}>
        {problem && !at && <ProblemAlert problem={problem} testId="dialog-problem" />}
        {principal && tokenProblem && (
          <div class="problem" role="alert" data-testid="token-problem">
            <strong>Service account {principal.username} was created; its token was not.</strong>
            <p>{tokenProblem.detail}</p>
            <p class="hint">Fix the token fields and choose Create token, or Cancel and add one later from its API tokens tab.</p>
          </div>
        )}
        <Field label="Username" error={err('username')} hint="Letters, digits and . _ @ -">
          {(attrs) => <input {...attrs} required disabled={locked} value={form.username} onInput={(e) => set({ username: e.currentTarget.value })} />}
        </Field>
        <Field label="Display name" error={err('display_name')}>
          {(attrs) => <input {...attrs} disabled={locked} value={form.display_name} onInput={(e) => set({ display_name: e.currentTarget.value })} />}
        </Field>
        <Field label="Email" error={err('email')}>
          {(attrs) => <input {...attrs} type="email" disabled={locked} value={form.email} onInput={(e) => set({ email: e.currentTarget.value })} />}
        </Field>
        {isUser && (
          <Field label="Initial password" error={err('password')} hint="12 to 256 characters; tell the person to change it.">
            {(attrs) => <input {...attrs} type="password" autocomplete="new-password" required value={form.password} onInput={(e) => set({ password: e.currentTarget.value })} />}
          </Field>
        )}
        {!locked && <RolesPicker legend="Roles" chosen={form.roles} onChange={(roles) => set({ roles })} error={err('roles')} />}
        <Field label="IP allowlist" error={err('ips')} hint="One address, CIDR or range per line; empty: any address.">
          {(attrs) => (
            <textarea {...attrs} rows={3} disabled={locked} value={form.ips} onInput={(e) => set({ ips: e.currentTarget.value })} onBlur={() => form.ips.trim() !== '' && checked.blur('ips')} />
          )}
        </Field>
        {props.canCreateToken && !isUser && <FirstTokenSection username={form.username} token={token} set={setTok} errors={tokenErrors} onBlur={checked.blur} />}
        <DialogActions label={locked ? 'Create token' : 'Create'} busy={busy} onCancel={() => props.onClose(principal)} />
      </form>
    </Dialog>
  );
}
