/** Where a command writes: `out` for its result (stdout), `err` for usage errors (stderr). */
export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}
