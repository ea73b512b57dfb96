/**
 * How the CLI writes: for people, aligned tables and `label  value` records on stdout, notes
 * and warnings on stderr; for scripts (`--json`), exactly one JSON document on stdout. Colour
 * only on a terminal and never with NO_COLOR (https://no-color.org) or TERM=dumb; progress only
 * when stderr is a terminal.
 */

/** The part of a stream the CLI writes to. */
export interface OutStream {
  write(chunk: string): boolean;
  readonly isTTY?: boolean | undefined;
}

export interface OutputOptions {
  readonly json: boolean;
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string | number | boolean | null | undefined;
  /** Colours a cell for people (the width is measured without it). */
  readonly paint?: (text: string, row: T) => string;
}

export interface Progress {
  update(text: string): void;
  /** Clears the indicator, leaving `summary` in its place when given. */
  done(summary?: string): void;
}

type Paint = (text: string) => string;

export interface Palette {
  readonly bold: Paint;
  readonly dim: Paint;
  readonly red: Paint;
  readonly green: Paint;
  readonly yellow: Paint;
}

const ansi = (open: number, close: number): Paint => (text) => `\u001b[${open}m${text}\u001b[${close}m`;
const plain: Paint = (text) => text;
const colours: Palette = { bold: ansi(1, 22), dim: ansi(2, 22), red: ansi(31, 39), green: ansi(32, 39), yellow: ansi(33, 39) };
const noColours: Palette = { bold: plain, dim: plain, red: plain, green: plain, yellow: plain };

/** Whether colour may be written to `stream`. */
export function colourAllowed(stream: OutStream, env: Readonly<Record<string, string | undefined>>): boolean {
  // no-color.org: NO_COLOR set to any non-empty value turns colour off.
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (env['TERM'] === 'dumb') return false;
  return stream.isTTY === true;
}

// Server-provided text (names, descriptions) could carry terminal escape sequences; people's
// output shows controls escaped so nothing a user typed can repaint the terminal.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Makes server-provided text safe to print on a terminal. */
export function sanitize(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// eslint-disable-next-line no-control-regex -- strips the SGR sequences this module writes
const SGR = /\u001b\[[0-9;]*m/g;
const visibleLength = (text: string) => [...text.replace(SGR, '')].length;

export class Output {
  readonly json: boolean;
  /** Colours for stdout (identity functions when colour is off). */
  readonly style: Palette;
  /** Colours for stderr. */
  readonly errorStyle: Palette;
  readonly #stdout: OutStream;
  readonly #stderr: OutStream;

  constructor(options: OutputOptions) {
    this.json = options.json;
    this.#stdout = options.stdout;
    this.#stderr = options.stderr;
    this.style = colourAllowed(options.stdout, options.env) ? colours : noColours;
    this.errorStyle = colourAllowed(options.stderr, options.env) ? colours : noColours;
  }

  /** Writes `value` as the command's one JSON document (`--json`). */
  printJson(value: unknown): void {
    this.#stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** `--json`: prints `value`; otherwise runs `human`, which writes for people. */
  result(value: unknown, human: () => void): void {
    if (this.json) this.printJson(value);
    else human();
  }

  /** A line for people on stdout, control characters escaped. */
  line(text = ''): void {
    this.#stdout.write(`${sanitize(text)}\n`);
  }

  /** A line this module has built (and may have coloured) from sanitised cells. */
  #rendered(text: string): void {
    this.#stdout.write(`${text}\n`);
  }

  /** Raw text on stdout (JSON Lines). */
  write(text: string): boolean {
    return this.#stdout.write(text);
  }

  /** Information for people, on stderr so that stdout stays parseable. */
  note(text: string): void {
    this.#stderr.write(`${sanitize(text)}\n`);
  }

  warn(text: string): void {
    this.#stderr.write(`${this.errorStyle.yellow('Warning:')} ${sanitize(text)}\n`);
  }

  /** An aligned table with a header row; `empty` is printed when there are no rows. */
  table<T>(rows: readonly T[], columns: readonly Column<T>[], empty: string): void {
    if (rows.length === 0) {
      this.#rendered(this.style.dim(sanitize(empty)));
      return;
    }
    const cells = rows.map((row) => columns.map((column) => cellText(column.value(row))));
    const widths = columns.map((column, i) => Math.max(visibleLength(column.header), ...cells.map((texts) => visibleLength(texts[i] as string))));
    const last = columns.length - 1;
    // Each cell is painted first and padded after, so colours never shift the columns.
    const render = (texts: readonly string[]) =>
      texts
        .map((text, i) => (i === last ? text : text + ' '.repeat((widths[i] as number) - visibleLength(text))))
        .join('  ')
        .trimEnd();
    this.#rendered(render(columns.map((column) => this.style.bold(column.header))));
    rows.forEach((row, r) => {
      this.#rendered(render((cells[r] as string[]).map((text, i) => columns[i]?.paint?.(text, row) ?? text)));
    });
  }

  /** One record as `label  value` lines, labels aligned. */
  fields(pairs: readonly (readonly [string, string | number | boolean | null | undefined])[]): void {
    const width = Math.max(...pairs.map(([label]) => label.length));
    for (const [label, value] of pairs) this.#rendered(`${this.style.bold(label.padEnd(width))}  ${cellText(value)}`);
  }

  /**
   * A one-line progress indicator on stderr, redrawn in place; nothing at all unless stderr is
   * a terminal, so logs and pipes never see it.
   */
  progress(): Progress {
    if (this.#stderr.isTTY !== true) return { update() {}, done() {} };
    let shown = false;
    return {
      update: (text) => {
        this.#stderr.write(`\r\u001b[2K${text}`);
        shown = true;
      },
      done: (summary) => {
        if (shown) this.#stderr.write('\r\u001b[2K');
        if (summary !== undefined) this.#stderr.write(`${summary}\n`);
      },
    };
  }
}

function cellText(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined || value === '') return '-';
  return sanitize(String(value));
}

/** A timestamp for people: 2026-11-24 19:32 UTC. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A list for a table cell or record: "a, b" or "-". */
export function formatList(values: readonly string[]): string {
  return values.length === 0 ? '-' : values.join(', ');
}
