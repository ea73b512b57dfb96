import { useState } from 'preact/hooks';
import { api, query, type Page, type Policy, type Preset, type Token } from '../api.js';
import { formatDateTime, scopeLabel } from '../format.js';
import { useLoad } from '../use-load.js';
import { ProblemAlert } from './form.js';
import { ListTable } from './list-table.js';
import { ExpiryCell, LastUsedCell, TokenActionsCell, TokenNameCell, TokenStatusCell, tokenRowClass } from './token-cells.js';
import { Pager, useCursorPages } from './pager.js';
import { RevokeAllDialog } from './revoke-all-dialog.js';
import { AddTokenDialog, EditTokenDialog, RevokeTokenDialog, RotateTokenDialog, type TokenOwner } from './token-dialogs/index.js';

export function StatusBadge(props: { status: Token['status'] }) {
  return <span class={`badge status-${props.status}`}>{props.status}</span>;
}

/** Presets and policy, which the token dialogs need; both are readable by every member. */
export function useTokenSettings() {
  return useLoad(async () => {
    const [presets, policy] = await Promise.all([api.get<{ items: Preset[] }>('/presets'), api.get<Policy>('/policy')]);
    return { presets: presets.items, policy };
  }, 'settings');
}

type Open = { kind: 'add' | 'revoke-all' } | { kind: 'edit' | 'rotate' | 'revoke'; token: Token } | undefined;

/**
 * The API tokens of a person: their tokens (never a secret) with Add, Edit, Rotate and
 * Revoke. Own tokens come from GET /tokens, another principal's from GET /tokens?all=true&owner=.
 */
export function TokensPanel(props: { owner: TokenOwner; canCreate: boolean; canWrite: boolean }) {
  const { owner } = props;
  const pages = useCursorPages(owner.id);
  const [round, setRound] = useState(0);
  const list = useLoad(
    () => api.get<Page<Token>>(`/tokens${query({ ...(owner.self ? {} : { all: true, owner: owner.id }), cursor: pages.cursor, limit: 25 })}`),
    `${owner.id}|${pages.cursor ?? ''}|${round}`,
  );
  const settings = useTokenSettings();
  const [open, setOpen] = useState<Open>();
  const refresh = () => {
    setOpen(undefined);
    setRound((r) => r + 1);
  };
  const presets = settings.data?.presets ?? [];
  const policy = settings.data?.policy;

  return (
    <section aria-labelledby="tokens-heading">
      <div class="section-header">
        <h2 id="tokens-heading">API tokens</h2>
        <div class="section-actions">
          {props.canWrite && !owner.self && list.data && list.data.items.some((t) => t.status !== 'revoked') && (
            <button type="button" class="danger" onClick={() => setOpen({ kind: 'revoke-all' })}>
              Revoke all
            </button>
          )}
          {props.canCreate && (
            <button type="button" class="primary" onClick={() => setOpen({ kind: 'add' })}>
              Add token
            </button>
          )}
        </div>
      </div>
      <ProblemAlert problem={list.problem} />
      {list.data && list.data.items.length === 0 && pages.page === 1 && (
        <div class="empty">
          <p>{owner.self ? 'You have no API tokens yet.' : `${owner.username} has no API tokens yet.`}</p>
          {props.canCreate && <p>Use “Add token” to create one; its secret is shown once, right after it is created.</p>}
        </div>
      )}
      {list.data && list.data.items.length > 0 && (
        <ListTable
          class="stack"
          testId="tokens-table"
          caption={<>API tokens of {owner.username}</>}
          head={
            <>
              <th scope="col">Name</th>
              <th scope="col">Scope</th>
              <th scope="col">Created</th>
              <th scope="col">Expires / renewable until</th>
              <th scope="col">Last used</th>
              <th scope="col">Status</th>
            </>
          }
        >
          {list.data.items.map((token) => (
            <tr key={token.id} data-token-id={token.id} class={tokenRowClass(token)}>
              <TokenNameCell token={token} />
              <td data-label="Scope">
                {scopeLabel(token)}
                {token.ip_allowlist.length > 0 && <div class="muted">IP: {token.ip_allowlist.join(', ')}</div>}
              </td>
              <td data-label="Created">{formatDateTime(token.created_at)}</td>
              <ExpiryCell token={token} />
              <LastUsedCell token={token} />
              <TokenStatusCell token={token} />
              <TokenActionsCell token={token} canWrite={props.canWrite} rotate onOpen={(kind, t) => setOpen({ kind, token: t })} />
            </tr>
          ))}
        </ListTable>
      )}
      <Pager label="Tokens" page={pages.page} nextCursor={list.data?.next_cursor} onNext={pages.next} onPrevious={pages.previous} />
      {open?.kind === 'add' && <AddTokenDialog owner={owner} presets={presets} policy={policy} onClose={() => setOpen(undefined)} onCreated={refresh} />}
      {open?.kind === 'edit' && <EditTokenDialog token={open.token} ownerRoles={owner.roles} presets={presets} policy={policy} onClose={() => setOpen(undefined)} onSaved={refresh} />}
      {open?.kind === 'rotate' && <RotateTokenDialog token={open.token} onClose={() => setOpen(undefined)} onDone={refresh} />}
      {open?.kind === 'revoke' && <RevokeTokenDialog token={open.token} onClose={() => setOpen(undefined)} onDone={refresh} />}
      {open?.kind === 'revoke-all' && <RevokeAllDialog owner={owner} onClose={() => setOpen(undefined)} onDone={refresh} />}
    </section>
  );
}
