import type { Policy, Preset, Problem } from '../../api.js';
import { formatSeconds } from '../../format.js';
import { checkEndpoints, checkExpiry, checkIpAllowlist, checkLength } from '../../validate.js';
import { Field, fieldOfProblem } from '../form.js';
import { RoleChecks } from '../roles-picker.js';

/** The fields and inline checks the Add and Edit token dialogs share. */

/** Whose token: the page's principal. `self` tokens are created without `owner`. */
export interface TokenOwner {
  readonly id: string;
  readonly username: string;
  readonly roles: readonly string[];
  readonly self: boolean;
}

// Where the server's problem `field` pointers land in the token form.
export const tokenFields = {
  '/name': 'name',
  '/expires': 'expires',
  '/scope/endpoints': 'endpoints',
  '/scope': 'scope',
  '/ip_allowlist': 'ip_allowlist',
  '/roles': 'roles',
  '/owner': 'form',
};

export interface FormState {
  name: string;
  expires: string;
  never: boolean;
  scope: string;
  endpoints: string;
  ips: string;
  roles: string[];
}

export function ScopeFields(props: {
  state: FormState;
  set: (patch: Partial<FormState>) => void;
  presets: readonly Preset[];
  locked: string | undefined;
  errors: Record<string, string | undefined>;
  onBlur: (field: 'endpoints', event: FocusEvent) => void;
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
              onBlur={(e) => props.onBlur('endpoints', e)}
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

export function IpField(props: { value: string; error: string | undefined; onInput: (value: string) => void; onBlur: (event: FocusEvent) => void }) {
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
      {(attrs) => <textarea {...attrs} rows={3} value={props.value} spellcheck={false} onInput={(e) => props.onInput(e.currentTarget.value)} onBlur={props.onBlur} data-testid="ip-allowlist" />}
    </Field>
  );
}

export function RolesField(props: { available: readonly string[]; chosen: string[]; onChange: (roles: string[]) => void; error: string | undefined }) {
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

/** The fields checked inline. */
export type TokenField = 'name' | 'expires' | 'endpoints' | 'ip_allowlist';

/** The server's limit on token names (the route schema's maxLength). */
export const maxNameLength = 100;

/** Inline checks of the token form, in the server's words (@tessera/rules). */
export function inlineErrors(state: FormState, policy: Policy | undefined, checkExpiryField: boolean): Record<TokenField, string | undefined> {
  // A name over the limit is refused visibly rather than cut short by maxLength.
  return {
    name: checkLength(state.name, maxNameLength),
    expires: checkExpiryField && !state.never ? checkExpiry(state.expires, new Date(), policy?.max_token_lifetime_seconds) : undefined,
    endpoints: state.scope === 'custom' ? checkEndpoints(state.endpoints) : undefined,
    ip_allowlist: checkIpAllowlist(state.ips),
  };
}

/**
 * The messages a token form shows: the inline ones, and the server's problem beside the field
 * it names (`formProblem` when it names none, or the owner, which the form does not show).
 */
export function tokenFormErrors(inline: Partial<Record<TokenField, string | undefined>>, problem: Problem | undefined) {
  const serverField = fieldOfProblem(problem, tokenFields);
  const errors: Record<string, string | undefined> = { ...inline };
  if (problem && serverField && serverField !== 'form') errors[serverField] ??= problem.detail;
  const formProblem = problem && (!serverField || serverField === 'form') ? problem : undefined;
  return { errors, formProblem };
}
