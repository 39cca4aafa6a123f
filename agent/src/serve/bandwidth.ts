/**
 * Caps this agent's outgoing activation traffic at the consent's `max_bandwidth_mbps`: each frame
 * waits until the bytes sent over the last second (a token bucket holding at most one second's
 * worth) allow it. Frames keep their order: a later frame never overtakes a waiting one.
 */
export class BandwidthLimiter {
  private bytesPerSecond: number;
  /** Bytes that may be sent now (may go negative: a frame larger than a second's worth borrows). */
  private tokens: number;
  private last = performance.now();
  private queue: Promise<void> = Promise.resolve();

  constructor(mbps: number) {
    this.bytesPerSecond = (mbps * 1e6) / 8;
    this.tokens = this.bytesPerSecond;
  }

  setRate(mbps: number): void {
    this.refill();
    this.bytesPerSecond = (mbps * 1e6) / 8;
    this.tokens = Math.min(this.tokens, this.bytesPerSecond);
  }

  /** Resolves when `bytes` may be sent; calls resolve in call order. */
  take(bytes: number): Promise<void> {
    const turn = this.queue.then(async () => {
      this.refill();
      if (this.tokens < 0) await new Promise((r) => setTimeout(r, (-this.tokens / this.bytesPerSecond) * 1000));
      this.refill();
      this.tokens -= bytes;
    });
    this.queue = turn;
    return turn;
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.bytesPerSecond, this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond);
    this.last = now;
  }
}
