/**
 * A problem in a user-supplied dataset, located precisely enough to fix by hand:
 * `edges.csv line 17: node id 3000 out of range [0, 2708)`.
 */
export class DatasetError extends Error {
  /** File name inside the dataset folder, e.g. `edges.csv`. */
  readonly file: string;
  /** 1-based line in that file, or null when the problem is not tied to one line (a missing file). */
  readonly line: number | null;
  /** The problem alone, without the location prefix. */
  readonly problem: string;

  constructor(file: string, line: number | null, problem: string) {
    super(line === null ? `${file}: ${problem}` : `${file} line ${line}: ${problem}`);
    this.name = 'DatasetError';
    this.file = file;
    this.line = line;
    this.problem = problem;
  }
}
