import { useState } from 'preact/hooks';
import { api, problemOf, type CreatedToken, type Policy, type Preset, type Problem, type Token } from '../api.js';
import { expiryLabel, formatDateTime, formatSeconds } from '../format.js';
import { checkEndpoints, checkExpiry, checkIpAllowlist, linesOf } from '../validate.js';
import { ConfirmDialog, Dialog } from './dialog.js';
import { Field, ProblemAlert, fieldOfProblem } from './form.js';
import { OneTimeDialog } from './one-time-dialog.js';
import { RoleChecks } from './roles-picker.js';

/** Whose token: the page's principal. `self` tokens are created without `owner`. */
export interface TokenOwner {
  readonly id: string;
  readonly username: string;
  readonly roles: readonly string[];
  readonly self: boolean;
}

// Where the server's problem `field` pointers land in the token form.
const tokenFields = {
  '/name': 'name',
  '/expires': 'expires',
  '/scope/endpoints': 'endpoints',
  '/scope': 'scope',
  '/ip_allowlist': 'ip_allowlist',
  '/roles': 'roles',
  '/owner': 'form',
};

interface FormState {
  name: string;
  expires: string;
  never: boolean;
  scope: string;
  endpoints: string;
  ips: string;
  roles: string[];
}

function ScopeFields(props: {
  state: FormState;
  set: (patch: Partial<FormState>) => void;
  presets: readonly Preset[];
  locked: string | undefined;
  errors: Record<string, string | undefined>;
}) {
  const { state, set, presets, errors } = props;
  const preset = presets.find((p) => p.name === state.scope);
  return (
    <>
      <Field label="Scope" error={errors['scope']} hint={props.locked ?? preset?.description}>
        {(attrs) => (
          <select {...attrs} value={state.scope} disabled={props.locked !== undefined} onChange={(e) => set({ scope: e.currentTarget.value })}>
            <option value="all">All — every endpoint the roles allow</option>
            <option value="custom">Custom — only the endpoints listed below</option>
            {presets.map((p) => (
              <option key={p.id} value={p.name}>
                Preset: {p.name}
                {p.mode === 'direct' ? ' (direct token)' : ''}
                {p.scope_locked ? ' (locked)' : ''}
              </option>
            ))}
          </select>
        )}
      </Field>
      {state.scope === 'custom' && (
        <Field
          label="Allowed endpoints"
          error={errors['endpoints']}
          hint={
            <>
              One pattern per line: <code>/plans/*</code>, <code>GET /clients</code>, <code>GET,POST /reports</code>.
            </>
          }
        >
          {(attrs) => (
            <textarea
              {...attrs}
              rows={4}
              value={state.endpoints}
              spellcheck={false}
              disabled={props.locked !== undefined}
              onInput={(e) => set({ endpoints: e.currentTarget.value })}
              data-testid="endpoints"
            />
          )}
        </Field>
      )}
      {preset && (
        <p class="hint">
          Endpoints of {preset.name}: {preset.endpoints.join(', ')}
          {preset.default_lifetime_seconds !== null && ` · default lifetime ${formatSeconds(preset.default_lifetime_seconds)}`}
        </p>
      )}
    </>
  );
}

function IpField(props: { value: string; error: string | undefined; onInput: (value: string) => void }) {
  return (
    <Field
      label="IP allowlist"
      error={props.error}
      hint={
        <>
          One per line: an address (<code>203.0.113.7</code>, <code>2001:db8::1</code>), a CIDR (<code>10.0.0.0/8</code>) or a range (
          <code>10.0.0.1 - 10.0.0.50</code>). Empty: any address.
        </>
      }
    >
      {(attrs) => <textarea {...attrs} rows={3} value={props.value} spellcheck={false} onInput={(e) => props.onInput(e.currentTarget.value)} data-testid="ip-allowlist" />}
    </Field>
  );
}

function RolesField(props: { available: readonly string[]; chosen: string[]; onChange: (roles: string[]) => void; error: string | undefined }) {
  if (props.available.length === 0) return null;
  return (
    <RoleChecks
      legend="Roles (the token acts with these, at most the owner's)"
      roles={props.available.map((name) => ({ name }))}
      chosen={props.chosen}
      onChange={props.onChange}
      error={props.error}
    />
  );
}

/** The server's limit on token names (the route schema's maxLength). */
const maxNameLength = 100;

/** Inline checks of the token form, in the server's words (@tessera/rules). */
function inlineErrors(state: FormState, policy: Policy | undefined, checkExpiryField: boolean): Record<string, string | undefined> {
  // A name over the limit is refused visibly rather than cut short by maxLength.
  const nameLength = state.name.trim().length;
  return {
    name: nameLength > maxNameLength ? `A name has at most ${maxNameLength} characters; this one has ${nameLength}` : undefined,
    expires: checkExpiryField && !state.never ? checkExpiry(state.expires, new Date(), policy?.max_token_lifetime_seconds) : undefined,
    endpoints: state.scope === 'custom' ? checkEndpoints(state.endpoints) : undefined,
    ip_allowlist: checkIpAllowlist(state.ips),
  };
}

/** The Add token dialog; on success the new token is shown once in the one-time dialog. */
export function AddTokenDialog(props: { owner: TokenOwner; presets: readonly Preset[]; policy: Policy | undefined; onClose: () => void; onCreated: () => void }) {
  const { owner } = props;
  const [state, setState] = useState<FormState>({ name: '', expires: '', never: false, scope: 'all', endpoints: '', ips: '', roles: [...owner.roles] });
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<CreatedToken>();
  const set = (patch: Partial<FormState>) => {
    setState((s) => ({ ...s, ...patch }));
    setProblem(undefined);
  };

  if (created) {
    const secrets = [{ label: 'API token', value: created.token, testId: 'new-token' }];
    if (created.access_token) secrets.push({ label: `Access token (valid ${formatSeconds(created.expires_in ?? 0)})`, value: created.access_token, testId: 'new-access-token' });
    return (
      <OneTimeDialog
        title={`Token "${created.name}" created`}
        secrets={secrets}
        note={created.mode === 'refreshable' ? 'Trade the API token for access tokens at /oauth/token (grant_type=refresh_token).' : 'A direct token is sent as is, as a Bearer token.'}
        onClose={() => {
          setCreated(undefined);
          props.onCreated();
        }}
      />
    );
  }

  const inline = inlineErrors(state, props.policy, true);
  const serverField = fieldOfProblem(problem, tokenFields);
  const errors: Record<string, string | undefined> = { ...inline };
  if (problem && serverField && serverField !== 'form') errors[serverField] ??= problem.detail;
  const formProblem = problem && (!serverField || serverField === 'form') ? problem : undefined;

  async function submit(event: Event) {
    event.preventDefault();
    if (Object.values(inline).some(Boolean)) {
      (event.currentTarget as HTMLFormElement).querySelector<HTMLElement>('[aria-invalid=true]')?.focus();
      return;
    }
    setBusy(true);
    try {
      const ips = linesOf(state.ips);
      const body = {
        ...(state.name.trim() && { name: state.name.trim() }),
        ...(!owner.self && { owner: owner.id }),
        ...(state.never ? { expires: null } : state.expires.trim() && { expires: state.expires.trim() }),
        scope: { kind: state.scope, ...(state.scope === 'custom' && { endpoints: linesOf(state.endpoints) }) },
        ...(ips.length > 0 && { ip_allowlist: ips }),
        ...(state.roles.length !== owner.roles.length && { roles: state.roles }),
      };
      setCreated(await api.post<CreatedToken>('/tokens', body));
    } catch (error) {
      setProblem(problemOf(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title={owner.self ? 'Add token' : `Add token for ${owner.username}`} onClose={props.onClose} testId="add-token-dialog" wide>
      <form onSubmit={submit} noValidate>
        <ProblemAlert problem={formProblem} testId="dialog-problem" />
        <Field label="Name" error={errors['name']} hint={`Optional; default ${owner.username}_api_token. At most ${maxNameLength} characters.`}>
          {(attrs) => <input {...attrs} value={state.name} onInput={(e) => set({ name: e.currentTarget.value })} />}
        </Field>
        <Field
          label="Expiry"
          error={errors['expires']}
          hint={`Relative (180D, 12h, 1Y) or a date (2027-01-31, 00:00 UTC). Empty: ${props.policy && props.policy.renewable_period_seconds === null && props.policy.max_token_lifetime_seconds === null && props.policy.password_expiry_seconds === null ? 'no expiry (the policy default)' : 'the policy default'}${props.policy?.max_token_lifetime_seconds ? `; at most ${formatSeconds(props.policy.max_token_lifetime_seconds)}` : ''}.`}
        >
          {(attrs) => (
            <div class="row">
              <input {...attrs} value={state.expires} disabled={state.never} placeholder="180D" onInput={(e) => set({ expires: e.currentTarget.value })} />
              <input
                type="date"
                aria-label="Pick an expiry date"
                disabled={state.never}
                onChange={(e) => e.currentTarget.value && set({ expires: e.currentTarget.value })}
              />
            </div>
          )}
        </Field>
        {props.policy?.allow_no_expiry && (
          <label class="check">
            <input type="checkbox" checked={state.never} onChange={(e) => set({ never: e.currentTarget.checked })} /> No expiry
          </label>
        )}
        <ScopeFields state={state} set={set} presets={props.presets} locked={undefined} errors={errors} />
        <IpField value={state.ips} error={errors['ip_allowlist']} onInput={(ips) => set({ ips })} />
        <RolesField available={owner.roles} chosen={state.roles} onChange={(roles) => set({ roles })} error={errors['roles']} />
        <div class="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create token'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** The Edit token dialog: only changed fields are sent; the scope is locked where the server locks it. */
export function EditTokenDialog(props: { token: Token; ownerRoles: readonly string[]; presets: readonly Preset[]; policy: Policy | undefined; onClose: () => void; onSaved: () => void }) {
  const { token } = props;
  const initial: FormState = {
    name: token.name,
    expires: '',
    never: false,
    scope: token.scope.kind,
    endpoints: token.scope.endpoints.join('\n'),
    ips: token.ip_allowlist.join('\n'),
    roles: [...token.roles],
  };
  const [state, setState] = useState<FormState>(initial);
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<FormState>) => {
    setState((s) => ({ ...s, ...patch }));
    setProblem(undefined);
  };
  const preset = props.presets.find((p) => p.name === token.scope.kind);
  const locked =
    token.mode === 'direct'
      ? 'The scope of a direct token cannot change: create a new token instead.'
      : preset?.scope_locked
        ? `The preset ${preset.name} locks its scope.`
        : undefined;
  const roleChoices = [...new Set([...props.ownerRoles, ...token.roles])];

  const inline = inlineErrors(state, props.policy, state.expires.trim() !== '');
  const serverField = fieldOfProblem(problem, tokenFields);
  const errors: Record<string, string | undefined> = { ...inline };
  if (problem && serverField && serverField !== 'form') errors[serverField] ??= problem.detail;
  const formProblem = problem && (!serverField || serverField === 'form') ? problem : undefined;

  async function submit(event: Event) {
    event.preventDefault();
    if (Object.values(inline).some(Boolean)) return;
    const body: Record<string, unknown> = {};
    if (state.name.trim() !== token.name) body['name'] = state.name.trim();
    if (state.expires.trim()) body['expires'] = state.expires.trim();
    const endpoints = linesOf(state.endpoints);
    if (!locked && (state.scope !== token.scope.kind || (state.scope === 'custom' && endpoints.join('\n') !== token.scope.endpoints.join('\n')))) {
      body['scope'] = { kind: state.scope, ...(state.scope === 'custom' && { endpoints }) };
    }
    const ips = linesOf(state.ips);
    if (ips.join('\n') !== token.ip_allowlist.join('\n')) body['ip_allowlist'] = ips;
    if ([...state.roles].sort().join() !== [...token.roles].sort().join()) body['roles'] = state.roles;
    if (Object.keys(body).length === 0) {
      props.onClose();
      return;
    }
    setBusy(true);
    try {
      await api.patch<Token>(`/tokens/${encodeURIComponent(token.id)}`, body);
      props.onSaved();
    } catch (error) {
      setProblem(problemOf(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title={`Edit token ${token.name}`} onClose={props.onClose} testId="edit-token-dialog" wide>
      <form onSubmit={submit} noValidate>
        <ProblemAlert problem={formProblem} testId="dialog-problem" />
        <Field label="Name" error={errors['name']} hint={`At most ${maxNameLength} characters.`}>
          {(attrs) => <input {...attrs} value={state.name} onInput={(e) => set({ name: e.currentTarget.value })} />}
        </Field>
        <Field
          label={expiryLabel(token)}
          error={errors['expires']}
          hint={`Now: ${formatDateTime(token.expires_at)}. ${token.mode === 'refreshable' ? 'Until then the token can be traded for new access tokens.' : 'The token stops working then.'} Leave empty to keep; relative (90D) counts from now.`}
        >
          {(attrs) => (
            <div class="row">
              <input {...attrs} value={state.expires} placeholder="keep" onInput={(e) => set({ expires: e.currentTarget.value })} />
              <input type="date" aria-label={`Pick the ${expiryLabel(token).toLowerCase()} date`} onChange={(e) => e.currentTarget.value && set({ expires: e.currentTarget.value })} />
            </div>
          )}
        </Field>
        <ScopeFields state={state} set={set} presets={props.presets} locked={locked} errors={errors} />
        <IpField value={state.ips} error={errors['ip_allowlist']} onInput={(ips) => set({ ips })} />
        <RolesField available={roleChoices} chosen={state.roles} onChange={(roles) => set({ roles })} error={errors['roles']} />
        <div class="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy}>
            Save
          </button>
        </div>
      </form>
    </Dialog>
  );
}

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

/** Revoke, after confirmation; irreversible. */
export function RevokeTokenDialog(props: { token: Token; onClose: () => void; onDone: () => void }) {
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  return (
    <ConfirmDialog
      title={`Revoke ${props.token.name}?`}
      message={
        <p>
          The token <strong>{props.token.name}</strong> of {props.token.owner} and every access token minted from it stop working at once. This cannot be undone.
        </p>
      }
      confirmLabel={busy ? 'Revoking…' : 'Revoke token'}
      danger
      busy={busy}
      error={problem?.detail}
      onClose={props.onClose}
      onConfirm={async () => {
        setBusy(true);
        try {
          await api.post<Token>(`/tokens/${encodeURIComponent(props.token.id)}/revoke`, reason.trim() ? { reason: reason.trim() } : {});
          props.onDone();
        } catch (error) {
          setProblem(problemOf(error));
          setBusy(false);
        }
      }}
    >
      <Field label="Reason (optional, kept in the audit log)">
        {(attrs) => <input {...attrs} value={reason} maxLength={500} onInput={(e) => setReason(e.currentTarget.value)} />}
      </Field>
    </ConfirmDialog>
  );
}
