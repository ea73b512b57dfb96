// `npm start`: serve at once when the build is current, rebuild first only when a source is
// newer than it (scripts/build.mjs, under its lock, so concurrent starts are safe). The build
// normally happened already, in npm install's `prepare`.
import { ensureBuilt } from './build.mjs';

try {
  await ensureBuilt();
} catch (error) {
  process.stderr.write(`tessera: build failed: ${error.message}\n`);
  process.exit(1);
}
// The CLI reads process.argv; `npm start -- --json` passes its arguments on to `serve`.
process.argv = [process.argv[0], 'tessera', 'serve', ...process.argv.slice(2)];
await import('../packages/server/dist/cli/main.js');
