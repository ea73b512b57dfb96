import { useState } from 'preact/hooks';
import { api, problemOf, query, type Page, type Principal, type Problem } from '../api.js';
import { Dialog } from '../components/dialog.js';
import { Field, ProblemAlert, fieldOfProblem } from '../components/form.js';
import { Pager, useCursorPages } from '../components/pager.js';
import { RolesPicker } from '../components/roles-picker.js';
import { Tabs } from '../components/tabs.js';
import { TokensPanel } from '../components/tokens-panel.js';
import { formatDateTime } from '../format.js';
import { href, navigate, onLinkClick } from '../router.js';
import { useSession } from '../session.js';
import { useLoad } from '../use-load.js';
import { checkIpAllowlist, linesOf } from '../validate.js';

type Kind = 'user' | 'service_account';
const pathOf = (kind: Kind) => (kind === 'user' ? '/users' : '/service-accounts');
const nounOf = (kind: Kind) => (kind === 'user' ? 'user' : 'service account');

function CreatePrincipalDialog(props: { kind: Kind; onClose: () => void; onCreated: (principal: Principal) => void }) {
  const isUser = props.kind === 'user';
  const [form, setForm] = useState({ username: '', display_name: '', email: '', password: '', ips: '', roles: ['member'] as string[] });
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<typeof form>) => {
    setForm((f) => ({ ...f, ...patch }));
    setProblem(undefined);
  };
  const ipError = checkIpAllowlist(form.ips);
  const at = fieldOfProblem(problem, { '/username': 'username', '/display_name': 'display_name', '/email': 'email', '/password': 'password', '/ip_allowlist': 'ips', '/roles': 'roles' });
  const err = (name: string) => (at === name ? problem?.detail : undefined);

  async function submit(event: Event) {
    event.preventDefault();
    if (ipError) return;
    setBusy(true);
    try {
      const ips = linesOf(form.ips);
      const created = await api.post<Principal>(pathOf(props.kind), {
        username: form.username.trim(),
        ...(form.display_name.trim() && { display_name: form.display_name.trim() }),
        ...(form.email.trim() && { email: form.email.trim() }),
        ...(isUser && { password: form.password }),
        roles: form.roles,
        ...(ips.length > 0 && { ip_allowlist: ips }),
      });
      props.onCreated(created);
    } catch (error) {
      setProblem(problemOf(error));
      setBusy(false);
    }
  }

  return (
    <Dialog title={`Add ${nounOf(props.kind)}`} onClose={props.onClose} wide>
      <form onSubmit={submit} noValidate>
        {problem && !at && <ProblemAlert problem={problem} />}
        <Field label="Username" error={err('username')} hint="Letters, digits and . _ @ -">
          {(attrs) => <input {...attrs} required value={form.username} onInput={(e) => set({ username: e.currentTarget.value })} />}
        </Field>
        <Field label="Display name" error={err('display_name')}>
          {(attrs) => <input {...attrs} value={form.display_name} onInput={(e) => set({ display_name: e.currentTarget.value })} />}
        </Field>
        <Field label="Email" error={err('email')}>
          {(attrs) => <input {...attrs} type="email" value={form.email} onInput={(e) => set({ email: e.currentTarget.value })} />}
        </Field>
        {isUser && (
          <Field label="Initial password" error={err('password')} hint="12 to 256 characters; tell the person to change it.">
            {(attrs) => <input {...attrs} type="password" autocomplete="new-password" required value={form.password} onInput={(e) => set({ password: e.currentTarget.value })} />}
          </Field>
        )}
        <RolesPicker legend="Roles" chosen={form.roles} onChange={(roles) => set({ roles })} error={err('roles')} />
        <Field label="IP allowlist" error={ipError ?? err('ips')} hint="One address, CIDR or range per line; empty: any address.">
          {(attrs) => <textarea {...attrs} rows={3} value={form.ips} onInput={(e) => set({ ips: e.currentTarget.value })} />}
        </Field>
        <div class="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy}>
            Create
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Security → Users (or Service accounts): search and keyset pages. */
export function PrincipalsPage(props: { kind: Kind }) {
  const session = useSession();
  const [q, setQ] = useState('');
  const [applied, setApplied] = useState('');
  const pages = useCursorPages(`${props.kind}|${applied}`);
  const [adding, setAdding] = useState(false);
  const list = useLoad(
    () => api.get<Page<Principal>>(`${pathOf(props.kind)}${query({ q: applied, cursor: pages.cursor, limit: 25 })}`),
    `${props.kind}|${applied}|${pages.cursor ?? ''}`,
  );
  const title = props.kind === 'user' ? 'Users' : 'Service accounts';
  const base = props.kind === 'user' ? '/security/users' : '/security/service-accounts';
  return (
    <>
      <div class="section-header">
        <h1>{title}</h1>
        {session.has('users.manage') && (
          <button type="button" class="primary" onClick={() => setAdding(true)}>
            Add {nounOf(props.kind)}
          </button>
        )}
      </div>
      <form
        role="search"
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(q.trim());
        }}
      >
        <label for="principal-search">Search</label>
        <input id="principal-search" type="search" value={q} placeholder="username, name or email" onInput={(e) => setQ(e.currentTarget.value)} />
        <button type="submit">Search</button>
      </form>
      <ProblemAlert problem={list.problem} />
      {list.data && list.data.items.length === 0 && (
        <div class="empty">
          <p>{applied ? `No ${nounOf(props.kind)} matches “${applied}”. Try a shorter search.` : `No ${nounOf(props.kind)}s yet.`}</p>
        </div>
      )}
      {list.data && list.data.items.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Name</th>
                <th scope="col">Roles</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((p) => (
                <tr key={p.id}>
                  <td>
                    <a href={href(`${base}/${p.id}`)} onClick={(e) => onLinkClick(e, `${base}/${p.id}`)}>
                      {p.username}
                    </a>
                  </td>
                  <td>{p.display_name}</td>
                  <td>{p.roles.join(', ')}</td>
                  <td>
                    <span class={`badge status-${p.status}`}>{p.status}</span>
                  </td>
                  <td>{formatDateTime(p.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager label={title} page={pages.page} nextCursor={list.data?.next_cursor} onNext={pages.next} onPrevious={pages.previous} />
      {adding && <CreatePrincipalDialog kind={props.kind} onClose={() => setAdding(false)} onCreated={(p) => navigate(`${base}/${p.id}`)} />}
    </>
  );
}

/** A user's or service account's page: Access tokens and details. */
export function PrincipalPage(props: { kind: Kind; id: string; tab: string }) {
  const session = useSession();
  const principal = useLoad(() => api.get<Principal>(`${pathOf(props.kind)}/${encodeURIComponent(props.id)}`), `${props.kind}|${props.id}`);
  const base = `${props.kind === 'user' ? '/security/users' : '/security/service-accounts'}/${props.id}`;
  const back = props.kind === 'user' ? { to: '/security/users', label: 'Users' } : { to: '/security/service-accounts', label: 'Service accounts' };
  if (principal.problem) return <ProblemAlert problem={principal.problem} />;
  if (!principal.data) return <p class="loading">Loading…</p>;
  const p = principal.data;
  const self = p.id === session.me.principal.id;
  return (
    <>
      <nav aria-label="Breadcrumb" class="breadcrumb">
        <a href={href(back.to)} onClick={(e) => onLinkClick(e, back.to)}>
          {back.label}
        </a>{' '}
        › {p.username}
      </nav>
      <h1>
        {p.display_name || p.username} <span class={`badge status-${p.status}`}>{p.status}</span>
      </h1>
      <p class="muted">
        {nounOf(props.kind)} {p.username}
        {p.email ? ` · ${p.email}` : ''} · roles: {p.roles.join(', ') || 'none'}
      </p>
      <Tabs
        label={p.username}
        tabs={[
          { to: base, label: 'Access tokens', active: props.tab === 'tokens' },
          { to: `${base}/details`, label: 'Details', active: props.tab === 'details' },
        ]}
      />
      {props.tab === 'details' ? (
        <dl class="details">
          <dt>Id</dt>
          <dd>
            <code>{p.id}</code>
          </dd>
          <dt>Roles</dt>
          <dd>{p.roles.join(', ') || 'none'}</dd>
          <dt>IP allowlist</dt>
          <dd>{p.ip_allowlist.join(', ') || 'any address'}</dd>
          <dt>Created</dt>
          <dd>{formatDateTime(p.created_at)}</dd>
          {props.kind === 'user' && (
            <>
              <dt>Password changed</dt>
              <dd>{formatDateTime(p.password_changed_at)}</dd>
            </>
          )}
        </dl>
      ) : (
        <TokensPanel
          owner={{ id: p.id, username: p.username, roles: p.roles, self }}
          canCreate={self ? session.has('tokens.own') || session.has('tokens.all') : session.has('tokens.create_for_others')}
          canWrite={self ? session.has('tokens.own') || session.has('tokens.all') : session.has('tokens.all')}
        />
      )}
    </>
  );
}
