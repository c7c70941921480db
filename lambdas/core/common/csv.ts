// RFC 4180 CSV: CRLF line ends; a cell with a comma, quote or line break is quoted, its quotes doubled. A text cell
// that a spreadsheet would run as a formula (starting with =, +, -, @, tab or CR) is prefixed with a quote.
export type Cell = string | number | boolean | null;

const FORMULA = /^[=+\-@\t\r]/;

export function csvCell(value: Cell): string {
  if (value === null) return '';
  if (typeof value !== 'string') return String(value);
  const text = FORMULA.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One line of cells, with its CRLF. */
export const csvLine = (cells: readonly Cell[]) => `${cells.map(csvCell).join(',')}\r\n`;

export const toCsv = (rows: readonly (readonly Cell[])[]) =>
  rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
