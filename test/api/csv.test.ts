// CSV cells as RFC 4180 wants them, and never a formula for a spreadsheet.
import { describe, expect, it } from 'vitest';
import { csvCell, toCsv } from '../../lambdas/core/common/csv.js';

describe('csv', () => {
  it('quotes cells with commas, quotes or line breaks, doubling the quotes', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('cr\rhere')).toBe('"cr\rhere"');
  });

  it('defuses text a spreadsheet would run as a formula, but not numbers', () => {
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-1')).toBe("'-1");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell(-1.5)).toBe('-1.5');
  });

  it('writes null as empty, booleans and numbers as text, rows ending in CRLF', () => {
    expect(
      toCsv([
        ['a', null, true, 0.1],
        ['x,y', 2, false, null],
      ]),
    ).toBe('a,,true,0.1\r\n"x,y",2,false,\r\n');
  });
});
