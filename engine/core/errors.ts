/**
 * One catalogue of coded errors (style: fastify lib/errors.js).
 * Every error the product shows a user carries a stable `GTB_*` code, where it
 * happened (file and field path when known) and what to do about it.
 */

/** Exit codes of the CLI: 0 ok, 1 failed assertions/checks, 2 bad input or usage. */
export const EXIT_OK = 0;
export const EXIT_CHECKS_FAILED = 1;
export const EXIT_BAD_INPUT = 2;

export interface GtbErrorOptions {
  /** File the problem is in, when there is one. */
  file?: string;
  /** 1-based line (and column) in `file`, when known. */
  line?: number;
  column?: number;
  /** Field path inside the document, e.g. `spec.strategy.canary.steps[2].pause.duration`. */
  path?: string;
  /** What the user should do about it. */
  hint?: string;
  /** Exit code the CLI should use; defaults to 2 (bad input). */
  exitCode?: number;
  cause?: unknown;
}

export class GtbError extends Error {
  readonly code: string;
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly path: string | undefined;
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(code: string, message: string, opts: GtbErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    if (!/^GTB_[A-Z0-9_]+$/.test(code)) throw new Error(`invalid error code ${code}`);
    this.name = "GtbError";
    this.code = code;
    this.file = opts.file;
    this.line = opts.line;
    this.column = opts.column;
    this.path = opts.path;
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? EXIT_BAD_INPUT;
  }

  /** `file:line:col` or `file`, or undefined when nothing is known. */
  location(): string | undefined {
    if (this.file === undefined) return undefined;
    let loc = this.file;
    if (this.line !== undefined) loc += `:${this.line}`;
    if (this.line !== undefined && this.column !== undefined) loc += `:${this.column}`;
    return loc;
  }

  /** Multi-line human rendering used by the CLI. */
  format(): string {
    const lines = [`error ${this.code}: ${this.message}`];
    const loc = this.location();
    if (loc !== undefined || this.path !== undefined) {
      lines.push(`  at ${[loc, this.path].filter((x) => x !== undefined).join(" ")}`);
    }
    if (this.hint !== undefined) lines.push(`  hint: ${this.hint}`);
    return lines.join("\n");
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      file: this.file,
      line: this.line,
      column: this.column,
      path: this.path,
      hint: this.hint,
    };
  }
}

export function isGtbError(e: unknown): e is GtbError {
  return e instanceof GtbError;
}
