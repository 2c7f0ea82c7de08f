// errors.ts: Cord's error table (spec section 11) and the one error class the SDK throws.

/**
 * The codes of the spec's error table. Protocol codes (1000-1999) travel on
 * the wire; SDK codes (2000-2999) are local and never sent (spec ERR-1).
 */
export const Code = {
  OK: 0,
  PROTOCOL: 1000,
  FRAME_TOO_LARGE: 1001,
  TRUNCATED: 1002,
  NOT_CORD: 1003,
  VERSION_MISMATCH: 1004,
  UNEXPECTED_FRAME: 1005,
  FD_MISMATCH: 1006,
  UNKNOWN_REQUEST: 1007,
  TIMEOUT: 1008,
  CANCELLED: 1009,
  UNSUPPORTED: 1010,
  CLOSED: 1011,
  FAILED: 1012,
  NO_CHANNEL: 2000,
  NODE_UNREPRESENTABLE: 2001,
  IPC_COUNT: 2002,
  STATE: 2003,
  TOO_BIG: 2004,
  BUILD_MISMATCH: 2005,
  /** POSIX ENOBUFS: the send queue is at its bound (spec FLOW-4). */
  ENOBUFS: 105,
} as const;

/** One of the codes above; applications may also use 10000 and up. */
export type CodeValue = (typeof Code)[keyof typeof Code];

const names = new Map<number, string>(Object.entries(Code).map(([k, v]) => [v, k]));

/** The codes whose Error frame, or whose detection, ends the channel (spec ERR-3). */
const fatalCodes = new Set<number>([
  Code.PROTOCOL, Code.FRAME_TOO_LARGE, Code.TRUNCATED, Code.NOT_CORD,
  Code.VERSION_MISMATCH, Code.UNEXPECTED_FRAME, Code.FD_MISMATCH, Code.TIMEOUT,
]);

/**
 * Returns the table's name for a code ("CLOSED"), "APPLICATION" for a code of
 * the application range, or "UNKNOWN".
 */
export function codeName(code: number): string {
  return names.get(code) ?? (code >= 10000 ? 'APPLICATION' : 'UNKNOWN');
}

/** True when the code ends the channel (spec ERR-3). Unknown codes are not fatal (ERR-2). */
export function isFatal(code: number): boolean {
  return fatalCodes.has(code);
}

/**
 * The error every failing call of the SDK throws or rejects with. `code` is a
 * positive number from the table above (the C SDKs return it negated).
 *
 * Example: `catch (e) { if (e instanceof CordError && e.code === Code.CLOSED) ... }`
 */
export class CordError extends Error {
  /** The code from the table, e.g. 1011 for CLOSED. */
  readonly code: number;

  constructor(code: number, detail: string) {
    super(`${codeName(code)}: ${detail}`);
    this.name = 'CordError';
    this.code = code;
  }
}

/**
 * The exit status a child should end with after `error` (spec CHAN-7, END-8):
 * 64 when it had no usable channel, 76 after a fatal protocol error, 0 after a
 * channel that simply ended, and 1 for anything else (a bug).
 */
export function exitStatusFor(error: unknown): number {
  if (!(error instanceof CordError)) return 1;
  if (error.code === Code.NO_CHANNEL) return 64;
  if (isFatal(error.code)) return 76;
  return error.code === Code.CLOSED ? 0 : 1;
}
