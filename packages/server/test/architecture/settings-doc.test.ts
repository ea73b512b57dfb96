import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { renderReadme, renderSettingsDoc, settingsFiles } from '../../../../scripts/settings-doc.js';
import { optionDocs } from '../../src/config/defaults.js';

/** docs/settings.md and README's table come from the option docs; a hand edit or a new option without regenerating fails here. */
describe('the settings reference', () => {
  it('docs/settings.md is what npm run docs:settings writes', () => {
    assert.equal(readFileSync(settingsFiles.settingsPath, 'utf8'), renderSettingsDoc(), 'docs/settings.md is stale: run npm run docs:settings');
  });

  it("README's configuration table is what npm run docs:settings writes", () => {
    const readme = readFileSync(settingsFiles.readmePath, 'utf8');
    assert.equal(readme, renderReadme(readme), "README's configuration table is stale: run npm run docs:settings");
  });

  it('names every option with its default', () => {
    const doc = readFileSync(settingsFiles.settingsPath, 'utf8');
    for (const option of Object.values(optionDocs)) {
      assert.ok(doc.includes(`### \`${option.env}\``), option.env);
      if (option.default) assert.ok(doc.includes(`\`${option.default}\``), `${option.env} default`);
    }
  });
});
