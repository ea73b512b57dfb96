import { isRuleError, parseRelativeExpiry } from '@tessera/rules';
import { useState } from 'preact/hooks';
import { api, problemOf, type Policy, type Problem } from '../api.js';
import { announce } from '../components/announce.js';
import { Field, ProblemAlert, fieldOfProblem, useBlurChecks } from '../components/form.js';
import { formatSeconds } from '../format.js';
import { useSession } from '../session.js';
import { useLoad } from '../use-load.js';
import { checkIpAllowlist, linesOf } from '../validate.js';

type DurationKey = 'access_token_ttl_seconds' | 'renewable_period_seconds' | 'max_token_lifetime_seconds' | 'default_token_lifetime_seconds' | 'password_expiry_seconds' | 'idle_timeout_seconds';
const durations: { key: DurationKey; label: string; hint: string; nullable: boolean }[] = [
  { key: 'access_token_ttl_seconds', label: 'Access-token lifetime', hint: '1m to 30D (default 30m). Long lifetimes leave revocation to the feed and introspection.', nullable: false },
  { key: 'renewable_period_seconds', label: 'Default renewable period', hint: 'How long refreshable tokens can be renewed by default (default 90D). Empty: none, tokens do not expire unless given an expiry (needs tokens without expiry allowed).', nullable: true },
  { key: 'max_token_lifetime_seconds', label: 'Maximum token lifetime', hint: 'Empty: no maximum.', nullable: true },
  { key: 'default_token_lifetime_seconds', label: 'Default lifetime of direct tokens', hint: 'Empty: the renewable period (never, when that is empty).', nullable: true },
  { key: 'password_expiry_seconds', label: 'Password expiry', hint: 'Empty: passwords do not expire.', nullable: true },
  { key: 'idle_timeout_seconds', label: 'Idle timeout', hint: 'A token unused this long stops working. Empty: never.', nullable: true },
];

/** Duration text (90D) → seconds, with the rules' message for a bad one. */
function readDuration(text: string, nullable: boolean): { value?: number | null; error?: string } {
  const value = text.trim();
  if (value === '') return nullable ? { value: null } : { error: 'Required: write a duration such as 30m or 90D' };
  try {
    return { value: parseRelativeExpiry(value) };
  } catch (error) {
    if (isRuleError(error)) return { error: error.message };
    throw error;
  }
}

function PolicyForm(props: { policy: Policy; canEdit: boolean; onSaved: (policy: Policy) => void }) {
  const { policy } = props;
  const [text, setText] = useState<Record<DurationKey, string>>(
    Object.fromEntries(durations.map((d) => [d.key, policy[d.key] === null ? '' : formatSeconds(policy[d.key])])) as Record<DurationKey, string>,
  );
  const [limits, setLimits] = useState({ user: String(policy.max_tokens_per_user), sa: String(policy.max_tokens_per_service_account) });
  const [flags, setFlags] = useState({ allow_no_expiry: policy.allow_no_expiry, allow_direct_tokens: policy.allow_direct_tokens, refresh_token_rotation: policy.refresh_token_rotation });
  const [ips, setIps] = useState(policy.ip_allowlist.join('\n'));
  const [problem, setProblem] = useState<Problem>();
  const [saved, setSaved] = useState(false);
  const read = Object.fromEntries(durations.map((d) => [d.key, readDuration(text[d.key], d.nullable)])) as Record<DurationKey, { value?: number | null; error?: string }>;
  const intError = (v: string) => (/^[1-9][0-9]{0,4}$/.test(v.trim()) && Number(v) <= 10000 ? undefined : 'A whole number from 1 to 10000');
  const ipError = checkIpAllowlist(ips);
  const at = fieldOfProblem(problem, {
    ...Object.fromEntries(durations.map((d) => [`/${d.key}`, d.key])),
    '/max_tokens_per_user': 'user',
    '/max_tokens_per_service_account': 'sa',
    '/ip_allowlist': 'ips',
  });
  const serverError = (name: string) => (at === name ? problem?.detail : undefined);
  const checks = useBlurChecks<DurationKey | 'user' | 'sa' | 'ips'>({
    ...Object.fromEntries(durations.map((d) => [d.key, read[d.key].error])),
    user: intError(limits.user),
    sa: intError(limits.sa),
    ips: ipError,
  });

  return (
    <form
      noValidate
      onSubmit={async (event) => {
        if (!checks.accept(event)) return;
        setSaved(false);
        try {
          const body = {
            ...Object.fromEntries(durations.map((d) => [d.key, read[d.key].value])),
            max_tokens_per_user: Number(limits.user),
            max_tokens_per_service_account: Number(limits.sa),
            ...flags,
            ip_allowlist: linesOf(ips),
          };
          props.onSaved(await api.put<Policy>('/policy', body));
          setProblem(undefined);
          setSaved(true);
          announce('Policy saved');
        } catch (error) {
          setProblem(problemOf(error));
        }
      }}
    >
      <fieldset disabled={!props.canEdit} class="plain">
        {problem && !at && <ProblemAlert problem={problem} />}
        {saved && (
          <p class="success" role="status">
            Policy saved. Limits apply to tokens created from now on.
          </p>
        )}
        <div class="grid-2">
          {durations.map((d) => (
            <Field key={d.key} label={d.label} hint={`${d.hint} Relative: 30m, 12h, 90D, 1Y.`} error={checks.errors[d.key] ?? serverError(d.key)}>
              {(attrs) => (
                <input
                  {...attrs}
                  value={text[d.key]}
                  onInput={(e) => {
                    setText({ ...text, [d.key]: e.currentTarget.value });
                    setProblem(undefined);
                  }}
                  onBlur={(e) => checks.blur(d.key, e)}
                />
              )}
            </Field>
          ))}
          <Field label="Token limit per user" error={checks.errors.user ?? serverError('user')}>
            {(attrs) => <input {...attrs} inputMode="numeric" value={limits.user} onInput={(e) => setLimits({ ...limits, user: e.currentTarget.value })} onBlur={(e) => checks.blur('user', e)} data-testid="max-tokens-per-user" />}
          </Field>
          <Field label="Token limit per service account" error={checks.errors.sa ?? serverError('sa')}>
            {(attrs) => <input {...attrs} inputMode="numeric" value={limits.sa} onInput={(e) => setLimits({ ...limits, sa: e.currentTarget.value })} onBlur={(e) => checks.blur('sa', e)} />}
          </Field>
        </div>
        <label class="check">
          <input type="checkbox" checked={flags.allow_no_expiry} onChange={(e) => setFlags({ ...flags, allow_no_expiry: e.currentTarget.checked })} /> Allow tokens without expiry
        </label>
        <label class="check">
          <input type="checkbox" checked={flags.allow_direct_tokens} onChange={(e) => setFlags({ ...flags, allow_direct_tokens: e.currentTarget.checked })} /> Allow direct tokens
        </label>
        <label class="check">
          <input type="checkbox" checked={flags.refresh_token_rotation} onChange={(e) => setFlags({ ...flags, refresh_token_rotation: e.currentTarget.checked })} /> Rotate the API token secret at each refresh
        </label>
        <Field label="Organization IP allowlist" error={checks.errors.ips ?? serverError('ips')} hint="Applies to every token of the organization. One address, CIDR or range per line; empty: any address.">
          {(attrs) => <textarea {...attrs} rows={3} value={ips} onInput={(e) => setIps(e.currentTarget.value)} onBlur={(e) => checks.blur('ips', e)} />}
        </Field>
        {props.canEdit && (
          <div class="actions">
            <button type="submit" class="primary">
              Save policy
            </button>
          </div>
        )}
      </fieldset>
    </form>
  );
}

/** Security → Policy: the organization's token policy (GET/PUT /api/v1/policy). */
export function PolicyPage() {
  const session = useSession();
  const policy = useLoad(() => api.get<Policy>('/policy'), 'policy');
  const canEdit = session.has('policy.manage');
  return (
    <>
      <h1>Organization policy</h1>
      {!canEdit && <p class="muted">You can read the policy; changing it needs the policy.manage right.</p>}
      <ProblemAlert problem={policy.problem} />
      {/* The form keeps what was typed after a save (the server's answer equals it); a reload would drop the confirmation. */}
      {policy.data && <PolicyForm policy={policy.data} canEdit={canEdit} onSaved={() => undefined} />}
    </>
  );
}
