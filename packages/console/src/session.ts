import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Me } from './api.js';

export interface Session {
  readonly me: Me;
  has(right: string): boolean;
  refresh(): Promise<void>;
  logout(): Promise<void>;
}

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a logged-in page');
  return session;
}

/** What a caller may see in the navigation; the server still decides every request. */
export const navRights = {
  users: ['users.manage', 'tokens.all', 'tokens.read_all'],
  apiTokens: ['tokens.all', 'tokens.read_all'],
  apps: ['apps.manage'],
  policy: ['policy.manage'],
  audit: ['audit.read'],
} as const;
