#!/usr/bin/env node
// The `tessera` command. This file is committed, not built: npm links a package's bin when it
// installs the package, before `prepare` has built dist/, and skips a bin whose file is missing
// (which is why `npx tessera` once failed right after `npm install`).
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('tessera: the CLI is not built (no dist/cli/main.js): run `npm run build` in the Tessera directory\n');
  process.exit(1);
}
await import(main.href);
