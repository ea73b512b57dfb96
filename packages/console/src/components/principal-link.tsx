import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, problemOf, type Principal, type Problem } from '../api.js';
import { href, navigate, onLinkClick } from '../router.js';
import { ProblemAlert } from './form.js';

/**
 * Links to a principal whose kind the caller may not know (a token's owner, an audit event's
 * actor): /security/principals/:id finds out and goes on to the user's or the service
 * account's page, so the link is a real address that also opens in a new tab.
 */
export function PrincipalLink(props: { id: string; children: ComponentChildren }) {
  const to = `/security/principals/${encodeURIComponent(props.id)}`;
  return (
    <a href={href(to)} onClick={(event) => onLinkClick(event, to)}>
      {props.children}
    </a>
  );
}

/** A user, else a service account: the principal with this id, or undefined when neither is found. */
export async function findPrincipal(id: string): Promise<Principal | undefined> {
  for (const path of ['/users', '/service-accounts']) {
    try {
      return await api.get<Principal>(`${path}/${encodeURIComponent(id)}`);
    } catch (error) {
      if (problemOf(error).status !== 404) throw error;
    }
  }
  return undefined;
}

/** The page behind PrincipalLink: on to the principal's own page, in place of this address. */
export function PrincipalRedirect(props: { id: string }) {
  const [problem, setProblem] = useState<Problem>();
  useEffect(() => {
    findPrincipal(props.id).then(
      (principal) => {
        if (principal) navigate(`/security/${principal.kind === 'user' ? 'users' : 'service-accounts'}/${encodeURIComponent(principal.id)}`, { replace: true });
        else setProblem({ title: 'Not found', status: 404, detail: 'There is no user or service account with this id in your organization; it may have been deleted.' });
      },
      (error: unknown) => setProblem(problemOf(error)),
    );
  }, [props.id]);
  return problem ? <ProblemAlert problem={problem} /> : <p class="loading">Opening…</p>;
}
