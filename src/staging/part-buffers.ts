/**
 * Buffers for staged parts that their users are done with, free for the next part: at most `size`
 * of them, the smallest given up first.
 *
 * - The build's staged writers share one (`DatasetWriter`): a writer fills its next part while the
 *   last one is written, so it needs a second buffer. Kept by each writer, a 100,000-user build's
 *   forty-odd writers (a dataset and its index per type) held about 90 MB of them to the end, most
 *   in writers of resources applied long before.
 * - The build reads the converted parts back into another (`ConvertedPartReader`): into a new
 *   buffer each, they were most of what a build allocated, 800 MB at 100,000 users.
 */
export class PartBuffers {
  /** Smallest first. */
  private readonly free: Buffer[] = [];

  constructor(private readonly size: number) {}

  /** A free buffer of `bytes` or more (the smallest such), or a new one of `bytes`. */
  take(bytes: number): Buffer {
    const index = this.free.findIndex((buffer) => buffer.length >= bytes);
    if (index === -1) return Buffer.allocUnsafe(bytes);
    return this.free.splice(index, 1)[0];
  }

  /** A buffer its user is done with; beyond `size`, the smallest go to the collector. */
  give(buffer: Buffer): void {
    if (buffer.length === 0) return;
    const index = this.free.findIndex((free) => free.length > buffer.length);
    this.free.splice(index === -1 ? this.free.length : index, 0, buffer);
    if (this.free.length > this.size) this.free.shift();
  }

  /** Bytes held free (for tests). */
  get bytes(): number {
    return this.free.reduce((sum, buffer) => sum + buffer.length, 0);
  }
}
