import { sql, type Kysely, type Transaction } from 'kysely';
import { changeTopics, type Change, type ChangeFeed, type ChangeListener, type ChangePublisher, type ChangeTopic } from '../core/changes.js';
import type { Database } from './schema.js';

/**
 * Changes travel as PostgreSQL notifications on one channel, on both drivers: NOTIFY is
 * transactional (delivered at commit, dropped on rollback), and PGlite delivers it to its own
 * listeners as a server delivers it to every listening session.
 */
export const changeChannel = 'tessera_changes';

const encode = (change: Change): string => JSON.stringify({ t: change.topic, k: change.key });

function decode(payload: string | undefined): Change | undefined {
  try {
    const { t, k } = JSON.parse(payload ?? '') as { t?: unknown; k?: unknown };
    if (typeof k === 'string' && changeTopics.includes(t as ChangeTopic)) return { topic: t as ChangeTopic, key: k };
  } catch {
    // Not ours (someone else notifying on the channel): ignored.
  }
  return undefined;
}

export function createChangePublisher(db: Kysely<Database> | Transaction<Database>): ChangePublisher {
  return {
    async publish(topic, key) {
      await sql`select pg_notify(${changeChannel}, ${encode({ topic, key })})`.execute(db);
    },
  };
}

/** The listening side both drivers share: decodes payloads and fans them out to subscribers. */
export interface ChangeHub extends ChangeFeed {
  /** A notification payload as the driver received it. */
  deliver(payload: string | undefined): void;
  /** The driver's listening connection came back after a loss. */
  reconnected(): void;
  /** The driver's listening connection dropped. */
  disconnected(): void;
}

export function createChangeHub(onError: (error: unknown) => void = () => {}): ChangeHub {
  const listeners = new Set<ChangeListener>();
  const each = (call: (listener: ChangeListener) => void) => {
    for (const listener of listeners) {
      try {
        call(listener);
      } catch (error) {
        onError(error);
      }
    }
  };
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    deliver(payload) {
      const change = decode(payload);
      if (change) each((listener) => listener.change(change));
    },
    reconnected() {
      each((listener) => listener.missed());
    },
    disconnected() {
      each((listener) => listener.lost?.());
    },
  };
}
