/**
 * Applies OpenAI `stop` strings to streamed text: text is released only once no stop string can
 * still begin inside it, and the stream ends right before the first stop string found.
 */
export class StopMatcher {
  private held = "";
  private maxHold: number;

  constructor(private readonly stops: readonly string[]) {
    this.maxHold = Math.max(0, ...stops.map((s) => s.length - 1));
  }

  /** Feed new text; returns the text now safe to emit and whether a stop string was hit. */
  push(text: string): { emit: string; stopped: boolean } {
    this.held += text;
    let first = -1;
    for (const stop of this.stops) {
      const at = this.held.indexOf(stop);
      if (at >= 0 && (first < 0 || at < first)) first = at;
    }
    if (first >= 0) {
      const emit = this.held.slice(0, first);
      this.held = "";
      return { emit, stopped: true };
    }
    // Hold back the longest suffix that is a proper prefix of some stop string.
    let hold = 0;
    for (let n = Math.min(this.maxHold, this.held.length); n > 0; n--) {
      const tail = this.held.slice(this.held.length - n);
      if (this.stops.some((s) => s.startsWith(tail))) {
        hold = n;
        break;
      }
    }
    const emit = this.held.slice(0, this.held.length - hold);
    this.held = this.held.slice(this.held.length - hold);
    return { emit, stopped: false };
  }

  /** The held-back text, released at the end of generation. */
  flush(): string {
    const rest = this.held;
    this.held = "";
    return rest;
  }
}
