import { useState } from 'preact/hooks';
import { api, query, type Page, type Principal } from '../api.js';
import { ProblemAlert } from '../components/form.js';
import { Pager, useCursorPages } from '../components/pager.js';
import { nounOf, pathOf, type Kind } from '../components/principal-dialogs/common.js';
import { CreatePrincipalDialog } from '../components/principal-dialogs/create-dialog.js';
import { PrincipalDetails } from '../components/principal-dialogs/details.js';
import { Tabs } from '../components/tabs.js';
import { TokensPanel } from '../components/tokens-panel.js';
import { formatDateTime } from '../format.js';
import { href, navigate, onLinkClick } from '../router.js';
import { useSession } from '../session.js';
import { useLoad } from '../use-load.js';

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
      {adding && (
        <CreatePrincipalDialog
          kind={props.kind}
          canCreateToken={session.has('tokens.create_for_others')}
          onClose={(created) => (created ? navigate(`${base}/${created.id}`) : setAdding(false))}
        />
      )}
    </>
  );
}

/** A user's or service account's page: API tokens and details. */
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
          { to: base, label: 'API tokens', active: props.tab === 'tokens' },
          { to: `${base}/details`, label: 'Details', active: props.tab === 'details' },
        ]}
      />
      {props.tab === 'details' ? (
        <PrincipalDetails principal={p} self={self} canManage={session.has('users.manage')} onChanged={principal.reload} onDeleted={() => navigate(back.to)} />
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
