import { useState } from 'preact/hooks';
import { api, problemOf, type Policy, type Preset, type Problem, type Token } from '../../api.js';
import { expiryLabel, formatDateTime } from '../../format.js';
import { linesOf } from '../../validate.js';
import { announce } from '../announce.js';
import { Dialog, DialogActions } from '../dialog.js';
import { Field, ProblemAlert, useBlurChecks } from '../form.js';
import { IpField, RolesField, ScopeFields, inlineErrors, maxNameLength, tokenFormErrors, type FormState } from './fields.js';

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
  const checks = useBlurChecks(inline);
  const { errors, formProblem } = tokenFormErrors(checks.errors, problem);

  async function submit(event: Event) {
    if (!checks.accept(event)) return;
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
      announce(`API token ${body['name'] ?? token.name} saved`);
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
        <Field label="Name" error={errors['name']} count={{ length: state.name.trim().length, max: maxNameLength }} >
          {(attrs) => <input {...attrs} value={state.name} onInput={(e) => set({ name: e.currentTarget.value })} onBlur={(e) => checks.blur('name', e)} />}
        </Field>
        <Field
          label={expiryLabel(token)}
          error={errors['expires']}
          hint={`Now: ${formatDateTime(token.expires_at)}. ${token.mode === 'refreshable' ? 'Until then the token can be traded for new access tokens.' : 'The token stops working then.'} Leave empty to keep; relative (90D) counts from now.`}
        >
          {(attrs) => (
            <div class="row">
              <input {...attrs} value={state.expires} placeholder="keep" onInput={(e) => set({ expires: e.currentTarget.value })} onBlur={(e) => checks.blur('expires', e)} />
              <input type="date" aria-label={`Pick the ${expiryLabel(token).toLowerCase()} date`} onChange={(e) => e.currentTarget.value && set({ expires: e.currentTarget.value })} />
            </div>
          )}
        </Field>
        <ScopeFields state={state} set={set} presets={props.presets} locked={locked} errors={errors} onBlur={checks.blur} />
        <IpField value={state.ips} error={errors['ip_allowlist']} onInput={(ips) => set({ ips })} onBlur={(e) => checks.blur('ip_allowlist', e)} />
        <RolesField available={roleChoices} chosen={state.roles} onChange={(roles) => set({ roles })} error={errors['roles']} />
        <DialogActions label="Save" busy={busy} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}
