/** One parsed CSV row and the 1-based line on which it starts. */
export interface CsvRow {
  fields: string[];
  lineNumber: number;
  /** The line was empty (not even a quoted empty field). */
  blank: boolean;
}

/**
 * An incremental RFC 4180 parser: quoted fields may hold delimiters, doubled quotes and line breaks,
 * and may span input chunks. Written here rather than depending on a CSV package because the
 * grammar is small and it has to run unchanged on Node streams and browser Blobs.
 */
export class CsvParser {
  private field = '';
  private fields: string[] = [];
  private inQuotes = false;
  private quoteSeen = false; // the previous char closed a quote (or is the first of a doubled one)
  private fieldStarted = false;
  private line = 1;
  private rowLine = 1;
  private pendingCR = false;
  private rowHasContent = false;

  constructor(
    private readonly delimiter = ',',
    private readonly quote: string | null = '"',
    private readonly name = '<csv>',
  ) {
    if (delimiter.length !== 1) throw new Error(`CsvParser: delimiter ${JSON.stringify(delimiter)} must be one character`);
  }

  /** Feeds a chunk and returns the rows it completed. */
  push(chunk: string): CsvRow[] {
    const rows: CsvRow[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (this.pendingCR) {
        this.pendingCR = false;
        if (c === '\n') continue;
      }
      if (c !== '\n' && c !== '\r') this.rowHasContent = true;
      if (this.inQuotes) {
        if (c === this.quote) {
          this.inQuotes = false;
          this.quoteSeen = true;
        } else {
          if (c === '\n') this.line++;
          this.field += c;
        }
        continue;
      }
      if (c === this.quote && this.quoteSeen) {
        // A doubled quote inside a quoted field.
        this.field += c;
        this.inQuotes = true;
        this.quoteSeen = false;
        continue;
      }
      if (c === this.quote && !this.fieldStarted) {
        this.inQuotes = true;
        this.fieldStarted = true;
        continue;
      }
      if (c === this.delimiter) {
        this.endField();
        continue;
      }
      if (c === '\n' || c === '\r') {
        rows.push(this.endRow());
        this.line++;
        this.rowLine = this.line;
        if (c === '\r') this.pendingCR = true;
        continue;
      }
      if (this.quoteSeen) throw new Error(`${this.name}:${this.line}: unexpected ${JSON.stringify(c)} after a closing quote; quote the whole field and double any quote inside it`);
      this.field += c;
      this.fieldStarted = true;
    }
    return rows;
  }

  /** Ends the input and returns the last row, if any. */
  end(): CsvRow[] {
    if (this.inQuotes) throw new Error(`${this.name}:${this.rowLine}: a quoted field is never closed; add the closing quote`);
    if (!this.fieldStarted && this.fields.length === 0 && !this.quoteSeen) return [];
    return [this.endRow()];
  }

  private endField(): void {
    this.fields.push(this.field);
    this.field = '';
    this.fieldStarted = false;
    this.quoteSeen = false;
  }

  private endRow(): CsvRow {
    this.endField();
    const row = { fields: this.fields, lineNumber: this.rowLine, blank: !this.rowHasContent };
    this.fields = [];
    this.rowHasContent = false;
    return row;
  }
}
