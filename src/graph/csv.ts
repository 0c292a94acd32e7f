import { DatasetError } from './dataset-error.ts';

/**
 * A small strict reader for numeric CSV tables (`src,dst`, `node,feature,value`, ...).
 *
 * Format accepted:
 * - the first line is the header and must list exactly the expected column names, in order
 *   (a UTF-8 byte-order mark before it and spaces around names are tolerated);
 * - lines end in `\n` or `\r\n`; a trailing newline is optional;
 * - blank lines (empty or only spaces/tabs) are skipped anywhere; row numbers and line numbers can
 *   therefore differ, and `lines` keeps each row's source line for later error messages;
 * - every other line has exactly one field per column; spaces/tabs around a field are tolerated;
 * - no quoting: fields are plain decimal numbers (`-1`, `0.5`, `.5`, `1e-3`). Empty fields, words,
 *   trailing garbage (`1x`), hexadecimal, `NaN`, `Infinity` and values that overflow to infinity are
 *   rejected; `int` columns also reject non-integers and values outside the 32-bit signed range.
 *
 * Parsing is one pass over the string with `charCodeAt`: no per-line split, no regular expressions on
 * the hot path, so hundreds of thousands of lines take milliseconds.
 */

export type ColumnKind = 'int' | 'float';

export interface ColumnSpec {
  readonly name: string;
  readonly kind: ColumnKind;
}

export interface NumericTable {
  readonly file: string;
  readonly numRows: number;
  /** 1-based line in the file of each row. */
  readonly lines: Int32Array<ArrayBuffer>;
  /** Values of an `int` column; throws if the name is unknown or the column is `float`. */
  intColumn(name: string): Int32Array<ArrayBuffer>;
  /** Values of a `float` column; throws if the name is unknown or the column is `int`. */
  floatColumn(name: string): Float64Array<ArrayBuffer>;
}

const COMMA = 0x2c;
const CARRIAGE_RETURN = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const BYTE_ORDER_MARK = 0xfeff;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

export function parseNumericCsv(file: string, text: string, columns: readonly ColumnSpec[]): NumericTable {
  if (columns.length === 0) throw new Error('parseNumericCsv: at least one column is required');
  let pos = text.charCodeAt(0) === BYTE_ORDER_MARK ? 1 : 0;

  const headerEnd = lineEnd(text, pos);
  if (isBlank(text, pos, text.length)) {
    throw new DatasetError(file, 1, `the file is empty; expected header "${columns.map((c) => c.name).join(',')}"`);
  }
  checkHeader(file, text.slice(pos, contentEnd(text, pos, headerEnd)), columns);
  pos = headerEnd + 1;

  // Upper bound on rows, so the columns are allocated once.
  let capacity = 0;
  for (let i = text.indexOf('\n', pos); i !== -1; i = text.indexOf('\n', i + 1)) capacity++;
  if (pos < text.length) capacity++;

  const numColumns = columns.length;
  const isInt = columns.map((c) => c.kind === 'int');
  const ints: (Int32Array<ArrayBuffer> | null)[] = columns.map((c) => (c.kind === 'int' ? new Int32Array(capacity) : null));
  const floats: (Float64Array<ArrayBuffer> | null)[] = columns.map((c) => (c.kind === 'float' ? new Float64Array(capacity) : null));
  const lines = new Int32Array(capacity);

  let numRows = 0;
  let lineNumber = 1;
  while (pos < text.length) {
    lineNumber++;
    const end = lineEnd(text, pos);
    const stop = contentEnd(text, pos, end);
    if (isBlank(text, pos, stop)) {
      pos = end + 1;
      continue;
    }

    let fieldStart = pos;
    for (let c = 0; c < numColumns; c++) {
      let fieldEnd = fieldStart;
      while (fieldEnd < stop && text.charCodeAt(fieldEnd) !== COMMA) fieldEnd++;
      const isLast = c === numColumns - 1;
      if (isLast ? fieldEnd !== stop : fieldEnd === stop) {
        throw columnCountError(file, lineNumber, columns, countFields(text, pos, stop));
      }
      let a = fieldStart;
      let b = fieldEnd;
      while (a < b && isSpace(text.charCodeAt(a))) a++;
      while (b > a && isSpace(text.charCodeAt(b - 1))) b--;
      if (isInt[c]) ints[c]![numRows] = parseIntField(file, lineNumber, columns[c].name, text, a, b);
      else floats[c]![numRows] = parseFloatField(file, lineNumber, columns[c].name, text, a, b);
      fieldStart = fieldEnd + 1;
    }
    lines[numRows] = lineNumber;
    numRows++;
    pos = end + 1;
  }

  // Exact-size arrays, so that `.buffer` of a column holds only its rows.
  const fit = <T extends Int32Array<ArrayBuffer> | Float64Array<ArrayBuffer>>(array: T): T =>
    (array.length === numRows ? array : array.slice(0, numRows)) as T;
  const finalInts = ints.map((a) => (a ? fit(a) : null));
  const finalFloats = floats.map((a) => (a ? fit(a) : null));
  const indexOf = (name: string, kind: ColumnKind): number => {
    const index = columns.findIndex((c) => c.name === name);
    if (index < 0) throw new Error(`${file}: no column named "${name}"`);
    if (columns[index].kind !== kind) throw new Error(`${file}: column "${name}" is ${columns[index].kind}, not ${kind}`);
    return index;
  };
  return {
    file,
    numRows,
    lines: fit(lines),
    intColumn: (name) => finalInts[indexOf(name, 'int')]!,
    floatColumn: (name) => finalFloats[indexOf(name, 'float')]!,
  };
}

function checkHeader(file: string, headerLine: string, columns: readonly ColumnSpec[]): void {
  const expected = columns.map((c) => c.name).join(',');
  const found = headerLine.split(',').map((name) => name.trim());
  const matches = found.length === columns.length && found.every((name, i) => name === columns[i].name);
  if (matches) return;
  const what = headerLine.trim() === '' ? 'an empty line' : `"${headerLine}"`;
  throw new DatasetError(file, 1, `expected header "${expected}", found ${what}`);
}

/** Index of the `\n` ending the line that starts at `start`, or the text length. */
function lineEnd(text: string, start: number): number {
  const i = text.indexOf('\n', start);
  return i === -1 ? text.length : i;
}

/** End of a line's content, dropping the `\r` of a `\r\n` ending. */
function contentEnd(text: string, start: number, end: number): number {
  return end > start && text.charCodeAt(end - 1) === CARRIAGE_RETURN ? end - 1 : end;
}

function isSpace(code: number): boolean {
  return code === SPACE || code === TAB;
}

function isDigit(code: number): boolean {
  return code >= DIGIT_0 && code <= DIGIT_9;
}

function isBlank(text: string, start: number, stop: number): boolean {
  for (let i = start; i < stop; i++) if (!isSpace(text.charCodeAt(i))) return false;
  return true;
}

function countFields(text: string, start: number, stop: number): number {
  let fields = 1;
  for (let i = start; i < stop; i++) if (text.charCodeAt(i) === COMMA) fields++;
  return fields;
}

function columnCountError(file: string, line: number, columns: readonly ColumnSpec[], found: number): DatasetError {
  const names = columns.map((c) => c.name).join(',');
  return new DatasetError(file, line, `expected ${columns.length} columns (${names}), found ${found}`);
}

/** True when text[a, b) is a plain decimal number: [+-] digits [. digits] [e [+-] digits]. */
function isDecimalNumber(text: string, a: number, b: number): boolean {
  let i = a;
  let code = text.charCodeAt(i);
  if (code === PLUS || code === MINUS) code = text.charCodeAt(++i);
  let mantissaDigits = 0;
  while (i < b && isDigit(code)) {
    mantissaDigits++;
    code = text.charCodeAt(++i);
  }
  if (i < b && code === DOT) {
    code = text.charCodeAt(++i);
    while (i < b && isDigit(code)) {
      mantissaDigits++;
      code = text.charCodeAt(++i);
    }
  }
  if (mantissaDigits === 0) return false;
  if (i < b && (code === LOWER_E || code === UPPER_E)) {
    code = text.charCodeAt(++i);
    if (i < b && (code === PLUS || code === MINUS)) code = text.charCodeAt(++i);
    let exponentDigits = 0;
    while (i < b && isDigit(code)) {
      exponentDigits++;
      code = text.charCodeAt(++i);
    }
    if (exponentDigits === 0) return false;
  }
  return i === b;
}

function fieldError(file: string, line: number, column: string, text: string, a: number, b: number, why: string) {
  if (a === b) return new DatasetError(file, line, `column "${column}" is empty`);
  return new DatasetError(file, line, `column "${column}": "${text.slice(a, b)}" ${why}`);
}

/** Parses a general decimal field, or explains why it is not a finite number. */
function parseDecimal(file: string, line: number, column: string, text: string, a: number, b: number): number {
  if (!isDecimalNumber(text, a, b)) {
    const looksNonFinite = /^[+-]?(nan|inf|infinity)$/i.test(text.slice(a, b));
    throw fieldError(file, line, column, text, a, b, looksNonFinite ? 'is not a finite number' : 'is not a number');
  }
  const value = Number(text.slice(a, b));
  if (!Number.isFinite(value)) throw fieldError(file, line, column, text, a, b, 'overflows to infinity');
  return value;
}

function parseIntField(file: string, line: number, column: string, text: string, a: number, b: number): number {
  // Fast path: [-]digits, short enough to be exact in a double.
  let i = a;
  const negative = i < b && text.charCodeAt(i) === MINUS;
  if (negative) i++;
  if (i < b && b - i <= 10) {
    let value = 0;
    while (i < b) {
      const code = text.charCodeAt(i);
      if (!isDigit(code)) break;
      value = value * 10 + (code - DIGIT_0);
      i++;
    }
    if (i === b) {
      if (negative) value = -value;
      if (value < INT32_MIN || value > INT32_MAX) {
        throw fieldError(file, line, column, text, a, b, 'is outside the 32-bit integer range');
      }
      return value | 0;
    }
  }
  // General path: `+3`, `3.0`, `1e3` are integers written differently.
  const value = parseDecimal(file, line, column, text, a, b);
  if (!Number.isInteger(value)) throw fieldError(file, line, column, text, a, b, 'is not an integer');
  if (value < INT32_MIN || value > INT32_MAX) {
    throw fieldError(file, line, column, text, a, b, 'is outside the 32-bit integer range');
  }
  return value | 0;
}

function parseFloatField(file: string, line: number, column: string, text: string, a: number, b: number): number {
  // Fast path: plain non-negative integers such as the `1` of binary bag-of-words features.
  if (a < b && b - a <= 15) {
    let value = 0;
    let i = a;
    while (i < b) {
      const code = text.charCodeAt(i);
      if (!isDigit(code)) break;
      value = value * 10 + (code - DIGIT_0);
      i++;
    }
    if (i === b) return value;
  }
  return parseDecimal(file, line, column, text, a, b);
}
