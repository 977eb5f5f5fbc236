/**
 * What every `romvisor` subcommand shares: where it writes, and the one exit-code table.
 * Its own module so the commands need not import `main.ts` (which imports them).
 *   0 success (pass, or a guest that powered off)   1 the guest or a script step failed
 *   2 bad input                                      3 budget or timeout (hung guest)
 *   4 emulator fault
 */
export const EXIT = { ok: 0, failed: 1, badInput: 2, timeout: 3, fault: 4 } as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Raw bytes to stdout, for binary output such as `vhd cat` of a kernel. */
  stdoutBytes?: (b: Uint8Array) => void;
}
