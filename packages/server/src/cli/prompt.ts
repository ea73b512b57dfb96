import { createInterface } from 'node:readline';
import { InterruptedError, UsageError } from './errors.js';

/** The input side of a terminal, or a pipe. */
export interface InStream extends NodeJS.ReadableStream {
  readonly isTTY?: boolean | undefined;
  setRawMode?(mode: boolean): unknown;
}

export interface PromptIo {
  readonly stdin: InStream;
  /** Prompts go to stderr so that stdout stays the command's result. */
  readonly stderr: NodeJS.WritableStream;
}

/** Whether a person can be asked: stdin is a terminal. */
export function canPrompt(io: PromptIo): boolean {
  return io.stdin.isTTY === true && typeof io.stdin.setRawMode === 'function';
}

/**
 * Reads a line from a terminal without echoing it. Backspace and Ctrl-U edit; Ctrl-C
 * interrupts (exit 130); Ctrl-D on an empty line gives up.
 */
export function promptHidden(io: PromptIo, question: string): Promise<string> {
  const { stdin, stderr } = io;
  // Echo goes off before the question shows: keys typed (or pasted) as soon as it appears
  // must never reach the screen.
  stdin.setRawMode?.(true);
  stderr.write(question);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      stderr.write('\n');
    };
    const onData = (chunk: string | Buffer) => {
      for (const char of String(chunk)) {
        if (char === '\r' || char === '\n') {
          finish();
          resolve(value);
          return;
        }
        if (char === '\u0003') {
          finish();
          reject(new InterruptedError());
          return;
        }
        if (char === '\u0004' && value === '') {
          finish();
          reject(new UsageError('No password given'));
          return;
        }
        if (char === '\u007f' || char === '\b') value = [...value].slice(0, -1).join('');
        else if (char === '\u0015') value = '';
        else if (char >= ' ') value += char;
      }
    };
    stdin.on('data', onData);
  });
}

/** Asks a yes/no question on a terminal; only y or yes (any case) is a yes. */
export function confirm(io: PromptIo, question: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: true });
  return new Promise((resolve, reject) => {
    rl.once('SIGINT', () => {
      rl.close();
      io.stderr.write('\n');
      reject(new InterruptedError());
    });
    rl.question(`${question} [y/N] `, (answer) => {
      rl.close();
      resolve(/^y(es)?$/i.test(answer.trim()));
    });
  });
}

/** The first line of stdin (a pipe or a file), without its line ending. */
export async function readFirstLine(stdin: InStream): Promise<string> {
  let text = '';
  stdin.setEncoding('utf8');
  for await (const chunk of stdin) {
    text += String(chunk);
    if (text.includes('\n')) break;
  }
  const newline = text.search(/\r?\n/);
  return newline >= 0 ? text.slice(0, newline) : text;
}
