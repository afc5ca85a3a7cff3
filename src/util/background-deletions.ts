/**
 * Folders deleted in the background: for files nobody reads any more (a removed run's staging, a
 * replaced version of the local output) whose deletion need not hold up the caller. Each owner
 * deletes what a stopped process left the next time it starts or writes, so a deletion cut short
 * loses nothing; `settled` is for whoever must see them gone (a test, the next write).
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';

export class BackgroundDeletions {
  /** Each deletion under way, with the folder it deletes. */
  readonly #pending = new Map<Promise<void>, string>();

  /** Deletes `folder` without the caller waiting; a failure leaves it for its owner's next clean-up. */
  start(folder: string): void {
    const deletion = rm(folder, { recursive: true, force: true }).catch(() => undefined);
    this.#pending.set(deletion, path.resolve(folder));
    void deletion.then(() => this.#pending.delete(deletion));
  }

  /**
   * Resolves once every deletion started so far, and any started meanwhile, is over; with `under`,
   * only those of folders in it (or of it).
   */
  async settled(under?: string): Promise<void> {
    const root = under === undefined ? undefined : path.resolve(under);
    const concerned = ([, folder]: [Promise<void>, string]) =>
      root === undefined || folder === root || folder.startsWith(`${root}${path.sep}`);
    for (;;) {
      const waiting = [...this.#pending].filter(concerned).map(([deletion]) => deletion);
      if (waiting.length === 0) return;
      await Promise.all(waiting);
    }
  }
}
