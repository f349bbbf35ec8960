/**
 * Random access to the bytes of a file, wherever they are (a file handle, a Blob, memory, an
 * HTTP range reader). The lazy readers only ever ask for the ranges they need.
 */
export interface ByteSource {
  /** Total size in bytes; readers validate every offset against it before reading. */
  readonly size: number;
  /** Resolves to exactly `length` bytes starting at `offset` (fewer is treated as a broken source). */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Releases the underlying resource, if any. */
  close?(): Promise<void> | void;
}
