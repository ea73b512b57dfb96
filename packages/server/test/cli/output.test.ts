import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Output } from '../../src/cli/output.js';

function sink(isTTY: boolean) {
  const stream = { text: '', isTTY, write: (chunk: string) => ((stream.text += chunk), true) };
  return stream;
}

function output(options: { tty?: boolean; env?: Record<string, string>; json?: boolean } = {}) {
  const stdout = sink(options.tty ?? false);
  const stderr = sink(options.tty ?? false);
  return { out: new Output({ json: options.json ?? false, stdout, stderr, env: options.env ?? {} }), stdout, stderr };
}

const columns = [
  { header: 'ID', value: (r: { id: string; status: string }) => r.id },
  { header: 'STATUS', value: (r: { id: string; status: string }) => r.status },
  { header: 'NOTE', value: () => null },
];
const rows = [
  { id: 'a', status: 'active' },
  { id: 'longer-id', status: 'revoked' },
];

describe('CLI output', () => {
  it('aligns table columns, with - for empty cells and no trailing spaces', () => {
    const { out, stdout } = output();
    out.table(rows, columns, 'No rows.');
    assert.equal(stdout.text, 'ID         STATUS   NOTE\na          active   -\nlonger-id  revoked  -\n');
  });

  it('colours only a terminal, never with NO_COLOR or TERM=dumb, and colour does not shift columns', () => {
    const painted = [columns[0], { ...columns[1], paint: (text: string) => `\u001b[31m${text}\u001b[39m` }, columns[2]] as typeof columns;
    const tty = output({ tty: true });
    tty.out.table(rows, painted, 'No rows.');
    assert.ok(tty.stdout.text.includes('\u001b[1mID\u001b[22m'));
    const visible = tty.stdout.text.replace(/\u001b\[[0-9;]*m/g, '');
    assert.equal(visible, 'ID         STATUS   NOTE\na          active   -\nlonger-id  revoked  -\n');
    for (const env of [{ NO_COLOR: '1' }, { TERM: 'dumb' }] as Record<string, string>[]) {
      const plain = output({ tty: true, env });
      plain.out.table(rows, columns, 'No rows.');
      assert.ok(!plain.stdout.text.includes('\u001b'), JSON.stringify(env));
    }
    const emptyNoColor = output({ tty: true, env: { NO_COLOR: '' } });
    emptyNoColor.out.table(rows, columns, 'No rows.');
    assert.ok(emptyNoColor.stdout.text.includes('\u001b'), 'an empty NO_COLOR does not count (no-color.org)');
  });

  it('escapes control characters from the server, so nothing can repaint the terminal', () => {
    const { out, stdout, stderr } = output({ tty: true });
    out.table([{ id: 'x\u001b]0;pwned\u0007', status: 'a\nb' }], columns, 'none');
    out.line('Group \u001b[2J has been created.');
    out.note('note \u202e reversed');
    assert.ok(!stdout.text.replace(/\u001b\[(1|22)m/g, '').includes('\u001b'), stdout.text);
    assert.match(stdout.text, /x\\u001b\]0;pwned\\u0007/);
    assert.match(stdout.text, /a\\u000ab/);
    assert.match(stderr.text, /note \\u202e reversed/);
  });

  it('--json prints one document and nothing for people; progress only on a terminal', () => {
    const json = output({ json: true });
    json.out.result({ a: 1 }, () => json.out.line('for people'));
    assert.deepEqual(JSON.parse(json.stdout.text), { a: 1 });

    const piped = output();
    const progress = piped.out.progress();
    progress.update('Exported 250 events…');
    progress.done('Exported 300 events.');
    assert.equal(piped.stderr.text, '');

    const tty = output({ tty: true });
    const shown = tty.out.progress();
    shown.update('Exported 250 events…');
    shown.done('Exported 300 events.');
    assert.match(tty.stderr.text, /Exported 250 events….*Exported 300 events\.\n$/s);
    assert.equal(tty.stdout.text, '', 'progress never touches stdout');
  });
});
