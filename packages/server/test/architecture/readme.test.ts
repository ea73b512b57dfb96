import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { optionDocs } from '../../src/config/defaults.js';

const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('shows the two set-up commands', () => {
    assert.ok(readme.includes('npm install && npm start'));
    assert.ok(readme.includes('npm install && npm test'));
  });

  it('documents every configuration option with its default', () => {
    for (const option of Object.values(optionDocs)) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${option.env}\``));
      assert.ok(row, `${option.env} is in the configuration table`);
      if (option.default) assert.ok(row.includes(`\`${option.default}\``), `${option.env} shows its default ${option.default}`);
    }
  });
});
