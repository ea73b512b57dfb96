import type { ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useState } from 'preact/hooks';
import { api, problemOf, setUnauthenticatedHandler, type Me, type Problem } from './api.js';
import { LiveRegion } from './components/announce.js';
import { ProblemAlert } from './components/form.js';
import { PrincipalRedirect } from './components/principal-link.js';
import { ApiTokensPage } from './pages/api-tokens.js';
import { AppsPage } from './pages/apps.js';
import { WebhooksPage } from './pages/webhooks.js';
import { AuditPage } from './pages/audit.js';
import { LoginPage } from './pages/login.js';
import { PolicyPage } from './pages/policy.js';
import { ProfilePage } from './pages/profile.js';
import { PrincipalPage, PrincipalsPage } from './pages/principals.js';
import { href, match, navigate, onLinkClick, useLocation } from './router.js';
import { SessionContext, navRights, type Session } from './session.js';

function NavLink(props: { to: string; current: string; children: ComponentChildren }) {
  const active = props.current === props.to || props.current.startsWith(`${props.to}/`);
  return (
    <a href={href(props.to)} aria-current={active ? 'page' : undefined} onClick={(event) => onLinkClick(event, props.to)}>
      {props.children}
    </a>
  );
}

function Layout(props: { session: Session; path: string; children: ComponentChildren }) {
  const { session, path } = props;
  const can = (rights: readonly string[]) => rights.some((right) => session.has(right));
  const [menuOpen, setMenuOpen] = useState(false);
  const security = [
    can(navRights.users) && { to: '/security/users', label: 'Users' },
    can(navRights.users) && { to: '/security/service-accounts', label: 'Service accounts' },
    can(navRights.apiTokens) && { to: '/security/api-tokens', label: 'API tokens' },
    can(navRights.apps) && { to: '/security/apps', label: 'Apps' },
    // An endpoint receives every token event, so the server asks for both rights.
    can(navRights.apps) && can(navRights.apiTokens) && { to: '/security/webhooks', label: 'Webhooks' },
    can(navRights.policy) && { to: '/security/policy', label: 'Policy' },
    can(navRights.audit) && { to: '/security/audit', label: 'Audit log' },
  ].filter((item): item is { to: string; label: string } => Boolean(item));
  useEffect(() => setMenuOpen(false), [path]);

  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <span class="brand">Tessera</span>
        <button type="button" class="nav-toggle" aria-expanded={menuOpen} aria-controls="main-nav" onClick={() => setMenuOpen(!menuOpen)}>
          Menu
        </button>
        <span class="whoami">
          {session.me.principal.username}
          <button type="button" onClick={() => void session.logout()}>
            Log out
          </button>
        </span>
      </header>
      <nav id="main-nav" class={menuOpen ? 'sidenav open' : 'sidenav'} aria-label="Main">
        <ul>
          <li>
            <NavLink to="/profile" current={path}>
              Profile
            </NavLink>
          </li>
        </ul>
        {security.length > 0 && (
          <>
            <h2 class="nav-heading" id="nav-security">
              Security
            </h2>
            <ul aria-labelledby="nav-security">
              {security.map((item) => (
                <li key={item.to}>
                  <NavLink to={item.to} current={path}>
                    {item.label}
                  </NavLink>
                </li>
              ))}
            </ul>
          </>
        )}
      </nav>
      <main id="main" tabIndex={-1}>
        {props.children}
        <LiveRegion />
      </main>
    </div>
  );
}

function NotFound(props: { path: string }) {
  return (
    <div class="empty">
      <h1>Page not found</h1>
      <p>
        There is no console page at <code>{props.path}</code>. Use the navigation, or go to{' '}
        <a href={href('/profile')} onClick={(e) => onLinkClick(e, '/profile')}>
          your profile
        </a>
        .
      </p>
    </div>
  );
}

/**
 * What a member who opens an admin page by its address sees: a plain refusal, without the
 * page's filters and without the names of internal rights (the server still refuses the data).
 */
function Refusal(props: { title: string }) {
  return (
    <>
      <h1>{props.title}</h1>
      <div class="problem" role="alert" data-testid="refusal">
        <strong>You do not have access to this page.</strong>
        <p>It is for administrators of your organization. Ask one of them if you need it, or go back to{' '}
          <a href={href('/profile')} onClick={(e) => onLinkClick(e, '/profile')}>
            your profile
          </a>
          .
        </p>
      </div>
    </>
  );
}

/** Admin pages and the rights (any one of them) their navigation entry needs. */
const guarded: { path: string; title: string; rights: readonly (readonly string[])[] }[] = [
  { path: '/security/users', title: 'Users', rights: [navRights.users] },
  { path: '/security/service-accounts', title: 'Service accounts', rights: [navRights.users] },
  { path: '/security/api-tokens', title: 'API tokens', rights: [navRights.apiTokens] },
  { path: '/security/apps', title: 'Apps', rights: [navRights.apps] },
  { path: '/security/webhooks', title: 'Webhooks', rights: [navRights.apps, navRights.apiTokens] },
  { path: '/security/audit', title: 'Audit log', rights: [navRights.audit] },
];

function Routes(props: { path: string; search: URLSearchParams }) {
  const { path } = props;
  const session = useContext(SessionContext);
  const guard = guarded.find((g) => path === g.path || path.startsWith(`${g.path}/`));
  if (guard && session && !guard.rights.every((any) => any.some((right) => session.has(right)))) return <Refusal title={guard.title} />;
  if (path === '/' || path === '/profile' || path === '/profile/password') return <ProfilePage tab={path === '/profile/password' ? 'password' : 'tokens'} />;
  if (path === '/security/users') return <PrincipalsPage kind="user" />;
  if (path === '/security/service-accounts') return <PrincipalsPage kind="service_account" />;
  const user = match('/security/users/:id', path) ?? match('/security/users/:id/:tab', path);
  if (user) return <PrincipalPage kind="user" id={user['id'] as string} tab={user['tab'] ?? 'tokens'} />;
  const sa = match('/security/service-accounts/:id', path) ?? match('/security/service-accounts/:id/:tab', path);
  if (sa) return <PrincipalPage kind="service_account" id={sa['id'] as string} tab={sa['tab'] ?? 'tokens'} />;
  const principal = match('/security/principals/:id', path);
  if (principal) return <PrincipalRedirect id={principal['id'] as string} />;
  if (path === '/security/api-tokens') return <ApiTokensPage search={props.search} />;
  if (path === '/security/apps') return <AppsPage />;
  if (path === '/security/webhooks') return <WebhooksPage />;
  if (path === '/security/policy') return <PolicyPage />;
  if (path === '/security/audit') return <AuditPage search={props.search} />;
  return <NotFound path={path} />;
}

/** The console: who is logged in (GET /me), then the page the address names. */
export function App() {
  const location = useLocation();
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [problem, setProblem] = useState<Problem>();

  const loadMe = useCallback(async () => {
    try {
      setMe(await api.get<Me>('/me'));
      setProblem(undefined);
    } catch (error) {
      const p = problemOf(error);
      if (p.status === 401) setMe(null);
      else setProblem(p);
    }
  }, []);

  useEffect(() => {
    setUnauthenticatedHandler(() => setMe(null));
    void loadMe();
  }, [loadMe]);

  const session = useMemo<Session | undefined>(
    () =>
      me
        ? {
            me,
            has: (right) => me.rights.includes(right) || (right === 'tokens.read_all' && me.rights.includes('tokens.all')),
            refresh: loadMe,
            logout: async () => {
              try {
                await api.delete('/sessions/current');
              } finally {
                setMe(null);
                navigate('/login');
              }
            },
          }
        : undefined,
    [me, loadMe],
  );

  useEffect(() => {
    const title = location.path === '/login' ? 'Log in' : location.path.split('/').filter(Boolean).pop() ?? 'Profile';
    document.title = `${title.replace(/-/g, ' ')} · Tessera`;
  }, [location.path]);

  if (problem) {
    return (
      <main id="main" class="centered">
        <ProblemAlert problem={problem} />
        <button type="button" onClick={() => void loadMe()}>
          Try again
        </button>
      </main>
    );
  }
  if (me === undefined) return <p class="loading">Loading…</p>;
  if (me === null || !session) {
    const next = location.path === '/login' ? location.search.get('next') ?? '/profile' : location.path + (location.search.toString() ? `?${location.search}` : '');
    return (
      <LoginPage
        onLoggedIn={async () => {
          await loadMe();
          navigate(next.startsWith('/') ? next : '/profile', { replace: true });
        }}
      />
    );
  }
  if (location.path === '/login') {
    navigate('/profile', { replace: true });
    return null;
  }
  return (
    <SessionContext.Provider value={session}>
      <Layout session={session} path={location.path}>
        <Routes path={location.path} search={location.search} />
      </Layout>
    </SessionContext.Provider>
  );
}
