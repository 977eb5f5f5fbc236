// A command typed at a guest's shell prompt and timed as a user sees it: from the newline
// that starts it to the prompt after its output. The command is typed first and its echo
// awaited, so the clock covers the command's run alone, not the typing.
import type { ConsoleGuest, Seen } from './ConsoleGuest.ts';

export const SHELL_PROMPT = '~ # ';
/** The shell's prompt at the end of the console text: the command has finished. */
const PROMPT_AT_END = /\n~ # $/;

/** Waits for the first prompt (a boot's end): the prompt is the last thing on the console. */
export function bootedToPrompt(guest: ConsoleGuest, timeoutMs: number): Promise<Seen | undefined> {
  return guest.until(/~ # $/, 0, timeoutMs);
}

export type TimedCommand = { ok: true; seconds: number; output: string } | { ok: false; error: string };

/**
 * What a command printed, from the console text after its newline was typed up to the
 * prompt that ends it (both excluded): lines without the console's carriage returns,
 * trailing blanks trimmed. Undefined while the prompt is not there yet.
 */
export function commandOutput(afterNewline: string, prompt = SHELL_PROMPT): string | undefined {
  if (!afterNewline.endsWith(prompt)) return undefined;
  const lines = afterNewline.slice(0, -prompt.length).split('\n').map((l) => l.replace(/\r+$/, ''));
  // The first line is the rest of the echoed command line (empty: the echo of the newline).
  return lines.slice(1).join('\n').trimEnd();
}

/** Types `command` (one short line: a wrapped echo would not match it), then times it. */
export async function timeCommand(guest: ConsoleGuest, command: string, timeoutMs: number): Promise<TimedCommand> {
  const typed = guest.output.length;
  guest.type(command);
  if (!(await guest.until(new RegExp(escapeRegExp(command)), typed, 10_000))) {
    return { ok: false, error: `no echo of ${JSON.stringify(command)}: ${describe(guest, typed)}` };
  }
  const from = guest.output.length;
  const start = performance.now();
  guest.type('\n');
  const seen = await guest.until(PROMPT_AT_END, from, timeoutMs);
  if (!seen) return { ok: false, error: `no prompt after ${JSON.stringify(command)}: ${describe(guest, from)}` };
  const output = commandOutput(guest.output.slice(from, from + seen.match.index! + seen.match[0].length))!;
  return { ok: true, seconds: (seen.at - start) / 1000, output };
}

/** Types `text` (any number of lines, e.g. a here-document) and waits for the prompt after it. */
export async function typeAtPrompt(guest: ConsoleGuest, text: string, timeoutMs: number): Promise<string | undefined> {
  const from = guest.output.length;
  guest.type(text);
  return (await guest.until(PROMPT_AT_END, from, timeoutMs)) ? undefined : `no prompt after typing ${JSON.stringify(text.slice(0, 40))}...: ${describe(guest, from)}`;
}

/**
 * A here-document that writes `content` to `path` in the guest. The delimiter is quoted, so
 * the shell leaves $ and backslashes in the content alone.
 */
export function hereDocument(path: string, content: string): string {
  const end = 'BENCH_EOF';
  if (content.split('\n').includes(end)) throw new Error(`the content has a line ${end}`);
  return `cat > ${path} <<'${end}'\n${content.trimEnd()}\n${end}\n`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function describe(guest: ConsoleGuest, from: number): string {
  return `${guest.ended ? `${guest.ended}; ` : ''}${JSON.stringify(guest.output.slice(Math.max(from, guest.output.length - 300)))}`;
}
