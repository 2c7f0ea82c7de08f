// inbox.ts: the queue between a channel's reader and the application's async iterator, bounded so that a slow application pauses the reader.

/**
 * Items wait here from the moment a frame is decoded until the application's
 * `for await` takes them. Past `high` waiting items the inbox calls `pause`,
 * and once the application has taken them down to `low` it calls `resume`,
 * so a peer that sends faster than the application works fills the socket
 * buffer, not this process's memory (spec SEC-2).
 */
export class Inbox<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private head = 0;
  private waiter: ((r: IteratorResult<T>) => void) | null = null;
  private failWaiter: ((e: unknown) => void) | null = null;
  private ended = false;
  private error: unknown = null;
  private paused = false;
  /** Set once the application no longer takes items: new ones are dropped. */
  discarding = false;

  constructor(
    private readonly pause: () => void,
    private readonly resume: () => void,
    private readonly high = 256,
    private readonly low = 64,
  ) {}

  /** Number of items waiting. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Queues an item, or hands it to a waiting `next()`. Ignored after `end`. */
  push(item: T): void {
    if (this.ended || this.discarding) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = this.failWaiter = null;
      w({ value: item, done: false });
      return;
    }
    this.items.push(item);
    if (!this.paused && this.length >= this.high) {
      this.paused = true;
      this.pause();
    }
  }

  /**
   * Ends the sequence: the items already queued are still delivered, then the
   * iteration ends, or throws `error` when one is given.
   */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (error !== undefined) this.error = error;
    if (this.waiter && this.length === 0) this.settleEnd();
  }

  /** Drops every waiting item and those still to come (the application is done). */
  discard(): void {
    this.discarding = true;
    this.items.length = 0;
    this.head = 0;
    if (this.paused) {
      this.paused = false;
      this.resume();
    }
  }

  private settleEnd(): void {
    const w = this.waiter, f = this.failWaiter;
    this.waiter = this.failWaiter = null;
    if (this.error !== null && f) {
      const e = this.error;
      this.error = null;
      f(e);
    } else if (w) {
      w({ value: undefined, done: true });
    }
  }

  private take(): T {
    const item = this.items[this.head] as T;
    this.items[this.head++] = undefined as T;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    if (this.paused && this.length <= this.low) {
      this.paused = false;
      this.resume();
    }
    return item;
  }

  /** The next item, or done once the sequence has ended (throwing its error, once). */
  next(): Promise<IteratorResult<T>> {
    if (this.length > 0) return Promise.resolve({ value: this.take(), done: false });
    if (this.ended) {
      if (this.error !== null) {
        const e = this.error;
        this.error = null;
        return Promise.reject(e);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    if (this.waiter) return Promise.reject(new Error('only one next() may wait at a time'));
    return new Promise((resolve, reject) => {
      this.waiter = resolve;
      this.failWaiter = reject;
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return { next: () => this.next() };
  }
}
