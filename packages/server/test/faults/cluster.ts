import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * A throwaway PostgreSQL cluster for the fault suite: `initdb` into a temporary directory, a
 * port of its own, stopped and removed at the end, also when the test fails or the process
 * exits. Faults here (terminating every backend, `pg_ctl stop -m immediate`) would disturb
 * any other user of a shared server, so the suite never uses TESSERA_TEST_DATABASE_URL's.
 */
export interface Cluster {
  readonly url: string;
  readonly port: number;
  /** Runs one statement as the superuser over a connection of its own. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
  /** The same, in database `database`. */
  queryIn<R extends pg.QueryResultRow = pg.QueryResultRow>(database: string, text: string, values?: unknown[]): Promise<R[]>;
  /** URL of database `database` on this cluster. */
  urlOf(database: string): string;
  stop(mode: 'fast' | 'immediate'): void;
  start(): void;
  destroy(): void;
}

/** The directory of initdb and pg_ctl, newest version first; undefined when none is installed. */
export function findPostgresBinaries(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((name) => existsSync(join(root, name, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return join(root, versions[0], 'bin');
  }
  const found = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  const dir = found.status === 0 ? found.stdout.trim() : '';
  return dir && existsSync(join(dir, 'initdb')) ? dir : undefined;
}

/**
 * Why the suite cannot run here, or undefined when it can. With CI=true a missing PostgreSQL
 * is a failure, not a skip (`.ci/run` installs it): the suite must not pass by not running.
 */
export function clusterUnavailable(): string | undefined {
  if (findPostgresBinaries() !== undefined) return undefined;
  const reason = 'PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin or pg_config --bindir';
  if (process.env['CI'] === 'true') throw new Error(`CI=true: ${reason}; the fault suite must run in CI`);
  return reason;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const live = new Set<Cluster>();
// A test that throws past its `after` hook, or a runner that exits, must not leave a postmaster behind.
process.once('exit', () => {
  for (const cluster of live) cluster.destroy();
});

export async function createCluster(): Promise<Cluster> {
  const bin = findPostgresBinaries();
  if (bin === undefined) throw new Error('no PostgreSQL server binaries');
  const root = mkdtempSync(join(tmpdir(), 'tessera-faults-pg-'));
  const data = join(root, 'data');
  const port = await freePort();
  // initdb refuses to run as root; the package's `postgres` user owns the cluster then.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(root, uid, gid);
    chmodSync(root, 0o700);
  }
  const run = (tool: string, args: string[]) => {
    const command = asRoot ? ['runuser', '-u', 'postgres', '--', join(bin, tool), ...args] : [join(bin, tool), ...args];
    const result = spawnSync(command[0] as string, command.slice(1), { encoding: 'utf8', cwd: root });
    if (result.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  };
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  // fsync off: an immediate stop is not a power loss, the OS still holds every written page.
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${root} -c fsync=off -c max_connections=200`;
  const start = () => run('pg_ctl', ['-D', data, '-o', options, '-l', join(root, 'log'), '-w', '-t', '60', 'start']);
  let running = false;
  let destroyed = false;

  const cluster: Cluster = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    query(text, values) {
      return cluster.queryIn('postgres', text, values);
    },
    urlOf(database) {
      return `postgres://postgres@127.0.0.1:${port}/${database}`;
    },
    async queryIn(database, text, values) {
      const client = new pg.Client({ connectionString: cluster.urlOf(database) });
      await client.connect();
      try {
        return (await client.query(text, values)).rows;
      } finally {
        await client.end();
      }
    },
    stop(mode) {
      if (!running) return;
      run('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
      running = false;
    },
    start() {
      start();
      running = true;
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      live.delete(cluster);
      try {
        if (running) run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // A postmaster that did not stop notices its lock file gone with the directory and shuts down.
      }
      running = false;
      rmSync(root, { recursive: true, force: true });
    },
  };
  live.add(cluster);
  try {
    cluster.start();
  } catch (error) {
    cluster.destroy();
    throw error;
  }
  return cluster;
}
