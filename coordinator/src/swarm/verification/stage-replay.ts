/**
 * One re-execution of a watched session's steps 0…`through` on another node: the same `open`
 * under a session id of its own, then the same inputs in the same order, back to back. The
 * node's outputs come back here (the Swarm routes the session to it) and are kept by the step
 * they belong to: messages of one socket have been seen to arrive out of order, and a verdict must
 * never depend on that.
 */
import type { CoordinatorMessage } from "../../../../shared/protocol/messages.ts";
import { sendQuietly } from "../agent-socket.ts";
import { type SessionWatch, type StepOutput, sameOutput } from "./session-watch.ts";

export type ReplayResult = { kind: "done"; outputs: StepOutput[] } | { kind: "inconclusive"; why: string };

export class StageReplay {
  /**
   * The node's outputs by step: slot k holds the one at the watched output k's position (token
   * index or first frame position), whatever order they arrived in.
   */
  private readonly slots: (StepOutput | undefined)[] = [];
  /** Slots before this one are filled (and, for a verifier's replay, equal to the watched outputs). */
  private filled = 0;
  readonly result: Promise<ReplayResult>;
  private settle!: (r: ReplayResult) => void;
  private settled = false;
  private readonly timer: number;
  /** Comparisons run in step order (digests are computed asynchronously). */
  private compared: Promise<void> = Promise.resolve();

  constructor(
    readonly nodeId: string,
    private readonly ws: WebSocket,
    readonly session: number,
    private readonly watch: SessionWatch,
    /** The last step to reproduce. */
    readonly through: number,
    /** Stop at the first output that differs from the watched node's (the verifier's replay). */
    private readonly stopAtMismatch: boolean,
    timeoutMs: number,
  ) {
    this.result = new Promise((resolve) => {
      this.settle = resolve;
    });
    this.timer = setTimeout(() => this.fail(`no answer within ${timeoutMs} ms`), timeoutMs) as unknown as number;
  }

  /** Send the open and the inputs; false when the node's socket is gone. */
  start(): boolean {
    const { open } = this.watch.stage;
    if (!this.send(JSON.stringify({ ...open, session: this.session } satisfies CoordinatorMessage))) return false;
    const n = this.watch.inputsBefore[this.through]!;
    for (const input of this.watch.inputs.slice(0, n)) {
      if (input.kind === "feed") {
        const feed = { type: "feed", session: this.session, pos0: input.pos0, tokens: input.tokens } satisfies CoordinatorMessage;
        if (!this.send(JSON.stringify(feed))) return false;
        continue;
      }
      // Readdressed in place (the header's session field; the checksum covers only the rows): the
      // kept frame is ours alone, and copying every frame again could double what checks hold.
      new DataView(input.bytes).setUint32(8, this.session, true);
      if (!this.send(input.bytes)) return false;
    }
    return true;
  }

  onOutput(output: StepOutput): void {
    if (this.settled) return;
    let k = this.watch.outputs.findIndex((w, i) => i <= this.through && w.kind === output.kind && w.at === output.at);
    // An output at no watched step (or a second one at the same step) is wrong wherever it lands:
    // it takes the first free slot, where it differs from the watched output.
    if (k < 0 || this.slots[k]) k = this.firstFreeSlot();
    if (k > this.through) return;
    this.slots[k] = output;
    this.compared = this.compared.then(() => this.advance());
  }

  fail(why: string): void {
    this.finish({ kind: "inconclusive", why });
  }

  /** Free the node's session (its receipt for it is not needed). */
  close(): void {
    this.send(JSON.stringify({ type: "close", session: this.session } satisfies CoordinatorMessage));
  }

  private firstFreeSlot(): number {
    let k = this.filled;
    while (this.slots[k]) k++;
    return k;
  }

  /** Walk the newly contiguous slots: stop at a difference (verifier's replay) or when all are in. */
  private async advance(): Promise<void> {
    for (; !this.settled && this.slots[this.filled]; this.filled++) {
      const k = this.filled;
      if (this.stopAtMismatch && !(await sameOutput(this.slots[k]!, this.watch.outputs[k]!))) {
        return this.finish({ kind: "done", outputs: this.slots.slice(0, k + 1) as StepOutput[] });
      }
    }
    if (this.filled === this.through + 1) this.finish({ kind: "done", outputs: this.slots.slice(0, this.through + 1) as StepOutput[] });
  }

  private finish(result: ReplayResult): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.settle(result);
  }

  private send(message: string | ArrayBuffer): boolean {
    return sendQuietly(this.ws, message);
  }
}
