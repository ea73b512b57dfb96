#!/usr/bin/env node
import { run } from './program.js';

// A reader that stops early (`tessera audit export | head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await run(process.argv, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env });
