import { useState } from 'preact/hooks';
import { api, problemOf, query, type Page, type Problem, type SavedSearch, type Token } from '../api.js';
import { announce } from '../components/announce.js';
import { Dialog } from '../components/dialog.js';
import { Field, ProblemAlert, useBlurChecks } from '../components/form.js';
import { ListTable } from '../components/list-table.js';
import { Pager, useCursorPages } from '../components/pager.js';
import { PrincipalLink } from '../components/principal-link.js';
import { ExpiryCell, LastUsedCell, TokenActionsCell, TokenNameCell, TokenStatusCell, tokenRowClass } from '../components/token-cells.js';
import { AddTokenDialog, ChooseOwnerDialog, EditTokenDialog, RevokeTokenDialog, type TokenOwner } from '../components/token-dialogs/index.js';
import { useTokenSettings } from '../components/tokens-panel.js';
import { formatDateTime, scopeLabel } from '../format.js';
import { navigate } from '../router.js';
import { useSession } from '../session.js';
import { useLoad } from '../use-load.js';
import { checkLength } from '../validate.js';

/** The list parameters this page keeps in its address (so reload, back and links keep them). */
const filterKeys = ['q', 'status', 'owner', 'kind', 'usage', 'unused_days', 'sort'] as const;
type Filters = Partial<Record<(typeof filterKeys)[number], string>>;

const columns: { key: string; label: string }[] = [
  { key: 'name', label: 'Name' },
  { key: 'owner', label: 'Owner' },
  { key: 'status', label: 'Status' },
  { key: 'created_at', label: 'Created' },
  { key: 'expires_at', label: 'Expires / renewable until' },
  { key: 'last_used_at', label: 'Last used' },
];

function filtersOf(search: URLSearchParams): Filters {
  const filters: Filters = {};
  for (const key of filterKeys) {
    const value = search.get(key);
    if (value) filters[key] = value;
  }
  return filters;
}

function go(filters: Filters): void {
  navigate(`/security/api-tokens${query(filters)}`);
}

function SaveSearchDialog(props: { filters: Filters; onClose: () => void; onSaved: () => void }) {
  const [name, setName] = useState('');
  const [shared, setShared] = useState(false);
  const [problem, setProblem] = useState<Problem>();
  const checks = useBlurChecks({ name: checkLength(name, 100) });
  return (
    <Dialog title="Save this search" onClose={props.onClose} testId="save-search-dialog">
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          if (!checks.submit()) return;
          try {
            await api.post<SavedSearch>('/saved-searches', { name: name.trim(), query: { all: 'true', ...props.filters }, shared });
            props.onSaved();
          } catch (error) {
            setProblem(problemOf(error));
          }
        }}
      >
        <p class="muted">Filters: {Object.entries(props.filters).map(([k, v]) => `${k}=${v}`).join(', ') || 'none (every token)'}</p>
        <Field label="Name" error={checks.errors.name ?? (problem?.field === '/name' ? problem.detail : undefined)} count={{ length: name.trim().length, max: 100 }}>
          {(attrs) => <input {...attrs} required value={name} onInput={(e) => setName(e.currentTarget.value)} onBlur={(e) => checks.blur('name', e)} />}
        </Field>
        <label class="check">
          <input type="checkbox" checked={shared} onChange={(e) => setShared(e.currentTarget.checked)} /> Share with everyone in the organization
        </label>
        {problem && problem.field !== '/name' && <ProblemAlert problem={problem} />}
        <div class="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary">
            Save search
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function SavedSearches(props: { reloadKey: number }) {
  const session = useSession();
  const saved = useLoad(() => api.get<{ items: SavedSearch[] }>('/saved-searches'), String(props.reloadKey));
  const [chosen, setChosen] = useState('');
  const [problem, setProblem] = useState<Problem>();
  const items = saved.data?.items ?? [];
  const selected = items.find((s) => s.id === chosen);
  return (
    <div class="toolbar" role="group" aria-label="Saved searches">
      <label>
        Saved searches
        <select value={chosen} onChange={(e) => setChosen(e.currentTarget.value)} data-testid="saved-searches">
          <option value="">{items.length === 0 ? 'None saved yet' : 'Choose a saved search…'}</option>
          {items.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
              {s.shared ? ' (shared)' : ''}
            </option>
          ))}
        </select>
      </label>
      <button
        type="button"
        disabled={!selected}
        onClick={() => {
          if (!selected) return;
          const filters: Filters = {};
          for (const key of filterKeys) if (selected.query[key]) filters[key] = selected.query[key];
          go(filters);
        }}
      >
        Apply
      </button>
      {selected && selected.owner_id === session.me.principal.id && (
        <button
          type="button"
          onClick={async () => {
            try {
              await api.delete(`/saved-searches/${encodeURIComponent(selected.id)}`);
              setChosen('');
              saved.reload();
            } catch (error) {
              setProblem(problemOf(error));
            }
          }}
        >
          Delete
        </button>
      )}
      {(saved.problem ?? problem) && <p class="field-error">{(saved.problem ?? problem)?.detail}</p>}
    </div>
  );
}

/** Security → API tokens: every token of the organization (GET /tokens?all=true). */
export function ApiTokensPage(props: { search: URLSearchParams }) {
  const session = useSession();
  const filters = filtersOf(props.search);
  const filterKey = JSON.stringify(filters);
  const pages = useCursorPages(filterKey);
  const [round, setRound] = useState(0);
  const [draft, setDraft] = useState<{ key: string; values: Filters }>({ key: filterKey, values: filters });
  const values = draft.key === filterKey ? draft.values : filters;
  if (draft.key !== filterKey) setDraft({ key: filterKey, values: filters });
  const setValue = (patch: Filters) => setDraft({ key: filterKey, values: { ...values, ...patch } });
  const [open, setOpen] = useState<{ kind: 'revoke' | 'edit'; token: Token } | { kind: 'save' | 'owner' } | { kind: 'add'; owner: TokenOwner }>();
  const [savedRound, setSavedRound] = useState(0);
  const settings = useTokenSettings();
  const list = useLoad(
    () => api.get<Page<Token>>(`/tokens${query({ all: true, ...filters, cursor: pages.cursor, limit: 50 })}`),
    `${filterKey}|${pages.cursor ?? ''}|${round}`,
  );
  const sort = filters.sort ?? '-created_at';
  const sortColumn = sort.replace(/^-/, '');
  const descending = sort.startsWith('-');
  const canWrite = session.has('tokens.all');
  const canCreate = session.has('tokens.create_for_others');
  const filtered = Object.keys(filters).some((k) => k !== 'sort');
  const count = list.data?.items.length ?? 0;
  const presets = settings.data?.presets ?? [];

  const apply = (event: Event) => {
    event.preventDefault();
    const next: Filters = {};
    for (const key of filterKeys) {
      const value = values[key]?.trim();
      if (value) next[key] = value;
    }
    if (next.usage === 'never_used') delete next.unused_days;
    else delete next.usage;
    go(next);
  };
  // The usage select offers "unused for N days"; the API takes unused_days alone for it.
  const usage = values.usage === 'never_used' ? 'never_used' : values.unused_days || values.usage === 'unused' ? 'unused' : '';

  return (
    <>
      <div class="section-header">
        <h1>API tokens</h1>
        <div class="section-actions">
          <button type="button" onClick={() => setOpen({ kind: 'save' })}>
            Save search
          </button>
          {canCreate && (
            <button type="button" class="primary" onClick={() => setOpen({ kind: 'owner' })}>
              Add token
            </button>
          )}
        </div>
      </div>
      <SavedSearches reloadKey={savedRound} />
      <form class="toolbar" role="search" aria-label="Filter tokens" onSubmit={apply}>
        <label>
          Search
          <input type="search" value={values.q ?? ''} placeholder="token name or owner" onInput={(e) => setValue({ q: e.currentTarget.value })} data-testid="token-search" />
        </label>
        <label>
          Status
          <select value={values.status ?? ''} onChange={(e) => setValue({ status: e.currentTarget.value })}>
            <option value="">Any</option>
            <option value="active">Active</option>
            <option value="idle">Idle</option>
            <option value="expired">Expired</option>
            <option value="revoked">Revoked</option>
          </select>
        </label>
        <label>
          Owner
          <input value={values.owner ?? ''} placeholder="username" onInput={(e) => setValue({ owner: e.currentTarget.value })} />
        </label>
        <label>
          Scope
          <select value={values.kind ?? ''} onChange={(e) => setValue({ kind: e.currentTarget.value })}>
            <option value="">Any</option>
            <option value="all">All</option>
            <option value="custom">Custom</option>
            {presets.map((p) => (
              <option key={p.id} value={p.name}>
                Preset: {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Usage
          <select
            value={usage}
            onChange={(e) => {
              const v = e.currentTarget.value;
              setValue(v === 'never_used' ? { usage: 'never_used', unused_days: '' } : v === 'unused' ? { usage: 'unused', unused_days: values.unused_days || '90' } : { usage: '', unused_days: '' });
            }}
          >
            <option value="">Any</option>
            <option value="never_used">Never used</option>
            <option value="unused">Unused for N days</option>
          </select>
        </label>
        {usage === 'unused' && (
          <label>
            Days unused
            <input type="number" min={1} max={3650} value={values.unused_days ?? ''} onInput={(e) => setValue({ unused_days: e.currentTarget.value, usage: 'unused' })} />
          </label>
        )}
        <button type="submit" class="primary">
          Apply filters
        </button>
        {Object.keys(filters).length > 0 && (
          <button type="button" onClick={() => go({})}>
            Clear
          </button>
        )}
      </form>
      <ProblemAlert problem={list.problem} />
      {list.data && (
        <p class="result-count" role="status" data-testid="result-count">
          {count === 0 ? 'No tokens' : `${count}${list.data.next_cursor ? '+' : ''} token${count === 1 ? '' : 's'}`}
          {filtered ? ' match these filters' : ''}
          {pages.page > 1 || list.data.next_cursor ? ` (page ${pages.page})` : ''}
        </p>
      )}
      {list.data && list.data.items.length === 0 && (
        <div class="empty" data-testid="empty-state">
          {filtered ? (
            <>
              <p>No API token matches these filters.</p>
              <p>
                Widen them, or{' '}
                <button type="button" class="link" onClick={() => go({})}>
                  clear the filters
                </button>{' '}
                to see every token.
              </p>
            </>
          ) : (
            <p>Nobody in the organization has an API token yet.{canCreate ? ' Use “Add token” to create one for a user or service account.' : ''}</p>
          )}
        </div>
      )}
      {list.data && list.data.items.length > 0 && (
        <ListTable
          class="stack"
          testId="api-tokens-table"
          caption="Every API token of the organization; column headers sort"
          head={
            <>
              {columns.map((column) => {
                const active = sortColumn === column.key;
                return (
                  <th key={column.key} scope="col" aria-sort={active ? (descending ? 'descending' : 'ascending') : 'none'}>
                    <button
                      type="button"
                      class="sort"
                      data-sort={column.key}
                      onClick={() => go({ ...filters, sort: active && !descending ? `-${column.key}` : column.key })}
                    >
                      {column.label} {active ? (descending ? '▼' : '▲') : ''}
                    </button>
                  </th>
                );
              })}
              <th scope="col">Scope</th>
            </>
          }
        >
          {list.data.items.map((token) => (
            <tr key={token.id} data-token-id={token.id} class={tokenRowClass(token)}>
              <TokenNameCell token={token} />
              <td data-label="Owner">
                <PrincipalLink id={token.owner_id}>{token.owner}</PrincipalLink>
              </td>
              <TokenStatusCell token={token} />
              <td data-label="Created">{formatDateTime(token.created_at)}</td>
              <ExpiryCell token={token} />
              <LastUsedCell token={token} />
              <td data-label="Scope">{scopeLabel(token)}</td>
              <TokenActionsCell token={token} canWrite={canWrite} onOpen={(kind, t) => kind !== 'rotate' && setOpen({ kind, token: t })} />
            </tr>
          ))}
        </ListTable>
      )}
      <Pager label="Tokens" page={pages.page} nextCursor={list.data?.next_cursor} onNext={pages.next} onPrevious={pages.previous} />
      {open?.kind === 'save' && (
        <SaveSearchDialog
          filters={filters}
          onClose={() => setOpen(undefined)}
          onSaved={() => {
            setOpen(undefined);
            setSavedRound((r) => r + 1);
            announce('Search saved');
          }}
        />
      )}
      {open?.kind === 'owner' && <ChooseOwnerDialog onClose={() => setOpen(undefined)} onChosen={(owner) => setOpen({ kind: 'add', owner })} />}
      {open?.kind === 'add' && (
        <AddTokenDialog
          owner={open.owner}
          presets={presets}
          policy={settings.data?.policy}
          onClose={() => setOpen(undefined)}
          onCreated={() => {
            setOpen(undefined);
            setRound((r) => r + 1);
          }}
        />
      )}
      {open?.kind === 'revoke' && (
        <RevokeTokenDialog
          token={open.token}
          onClose={() => setOpen(undefined)}
          onDone={() => {
            setOpen(undefined);
            setRound((r) => r + 1);
          }}
        />
      )}
      {open?.kind === 'edit' && (
        <EditTokenDialog
          token={open.token}
          ownerRoles={open.token.roles}
          presets={presets}
          policy={settings.data?.policy}
          onClose={() => setOpen(undefined)}
          onSaved={() => {
            setOpen(undefined);
            setRound((r) => r + 1);
          }}
        />
      )}
    </>
  );
}
