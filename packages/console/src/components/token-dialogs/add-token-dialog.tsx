import { useState } from 'preact/hooks';
import { api, problemOf, type CreatedToken, type Policy, type Preset, type Problem } from '../../api.js';
import { formatSeconds } from '../../format.js';
import { linesOf } from '../../validate.js';
import { announce } from '../announce.js';
import { Dialog, DialogActions } from '../dialog.js';
import { Field, ProblemAlert, useBlurChecks } from '../form.js';
import { OneTimeDialog } from '../one-time-dialog.js';
import { IpField, RolesField, ScopeFields, inlineErrors, maxNameLength, tokenFormErrors, type FormState, type TokenOwner } from './fields.js';

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
          announce(`API token ${created.name} created`);
          props.onCreated();
        }}
      />
    );
  }

  const inline = inlineErrors(state, props.policy, true);
  const checks = useBlurChecks(inline);
  const { errors, formProblem } = tokenFormErrors(checks.errors, problem);

  async function submit(event: Event) {
    if (!checks.accept(event)) return;
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
        <Field label="Name" error={errors['name']} count={{ length: state.name.trim().length, max: maxNameLength }} hint={`Optional; default ${owner.username}_api_token.`}>
          {(attrs) => <input {...attrs} value={state.name} onInput={(e) => set({ name: e.currentTarget.value })} onBlur={(e) => checks.blur('name', e)} />}
        </Field>
        <Field
          label="Expiry"
          error={errors['expires']}
          hint={`Relative (180D, 12h, 1Y) or a date (2027-01-31, 00:00 UTC). Empty: ${props.policy && props.policy.renewable_period_seconds === null && props.policy.max_token_lifetime_seconds === null && props.policy.password_expiry_seconds === null ? 'no expiry (the policy default)' : 'the policy default'}${props.policy?.max_token_lifetime_seconds ? `; at most ${formatSeconds(props.policy.max_token_lifetime_seconds)}` : ''}.`}
        >
          {(attrs) => (
            <div class="row">
              <input {...attrs} value={state.expires} disabled={state.never} placeholder="180D" onInput={(e) => set({ expires: e.currentTarget.value })} onBlur={(e) => checks.blur('expires', e)} />
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
        <ScopeFields state={state} set={set} presets={props.presets} locked={undefined} errors={errors} onBlur={checks.blur} />
        <IpField value={state.ips} error={errors['ip_allowlist']} onInput={(ips) => set({ ips })} onBlur={(e) => checks.blur('ip_allowlist', e)} />
        <RolesField available={owner.roles} chosen={state.roles} onChange={(roles) => set({ roles })} error={errors['roles']} />
        <DialogActions label={busy ? 'Creating…' : 'Create token'} busy={busy} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}
