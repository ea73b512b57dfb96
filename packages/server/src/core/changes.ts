/**
 * Changes other instances must hear about to drop what they hold in memory (SPEC 8: caches
 * are invalidated across instances). Every instance hears every change, its own included.
 *
 * - `signing_keys`: the active signing key was replaced (key: the new kid).
 * - `revocations`: an event was appended to the revocation feed (key: the organization).
 * - `tokens`, `principals`, `policies`, `apps`: rows the storage read cache holds changed (key:
 *   the token id; the organization for the others). Published by the cached Store itself.
 */
export const changeTopics = ['signing_keys', 'revocations', 'tokens', 'principals', 'policies', 'apps'] as const;
export type ChangeTopic = (typeof changeTopics)[number];

export interface Change {
  readonly topic: ChangeTopic;
  readonly key: string;
}

/**
 * Announcing a change; part of the Store. Published through a transaction, a change is heard
 * when that transaction commits and never if it rolls back, so a listener that reloads at once
 * reads the new state.
 */
export interface ChangePublisher {
  publish(topic: ChangeTopic, key: string): Promise<void>;
}

export interface ChangeListener {
  change(change: Change): void;
  /**
   * Changes may have been missed (the listening connection dropped and came back): everything
   * held in memory must be reloaded.
   */
  missed(): void;
  /**
   * The listening connection dropped: until `missed` follows (it is back), no change can be
   * heard, so what is held in memory may go stale unseen. Caches drop it here.
   */
  lost?(): void;
}

/** Hearing changes: one listening connection per instance, shared by every subscriber. */
export interface ChangeFeed {
  subscribe(listener: ChangeListener): () => void;
}

/**
 * Routes each change to the holder of its topic; when changes may have been missed, every
 * holder reloads. Returns the unsubscribe function.
 *
 * @example
 * followChanges(feed, { signing_keys: () => keyring.refresh(), revocations: () => hub.wake() }, log);
 */
export function followChanges(
  feed: ChangeFeed,
  holders: { readonly [T in ChangeTopic]?: (key: string | undefined) => Promise<unknown> | void },
  onError: (error: unknown) => void,
): () => void {
  const run = (topic: ChangeTopic, key: string | undefined) => {
    try {
      void Promise.resolve(holders[topic]?.(key)).catch(onError);
    } catch (error) {
      onError(error);
    }
  };
  return feed.subscribe({
    change: ({ topic, key }) => run(topic, key),
    missed: () => {
      for (const topic of changeTopics) run(topic, undefined);
    },
  });
}
