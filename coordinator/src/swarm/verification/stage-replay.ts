/**
 * One re-execution of a watched session's steps 0…`through` on another node: the same `open`
 * under a session id of its own, then the same inputs in the same order, back to back. The
 * node's outputs come back here (the Swarm routes the session to it) and are kept in order.
 */
import type { CoordinatorMessage } from "../../../../shared/protocol/messages.ts";
import { sendQuietly } from "../agent-socket.ts";
import { type SessionWatch, type StepOutput, sameOutput } from "./session-watch.ts";

export type ReplayResult = { kind: "done"; outputs: StepOutput[] } | { kind: "inconclusive"; why: string };

export class StageReplay {
  readonly outputs: StepOutput[] = [];
  readonly result: Promise<ReplayResult>;
  private settle!: (r: ReplayResult) => void;
  private settled = false;
  private readonly timer: number;
  /** Comparisons run in output order (digests are computed asynchronously). */
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
    const k = this.outputs.length;
    this.outputs.push(output);
    if (this.outputs.length === this.through + 1)
      this.compared = this.compared.then(() => this.finish({ kind: "done", outputs: this.outputs }));
    else if (this.stopAtMismatch) {
      this.compared = this.compared.then(async () => {
        if (!(await sameOutput(output, this.watch.outputs[k]!))) this.finish({ kind: "done", outputs: this.outputs.slice(0, k + 1) });
      });
    }
  }

  fail(why: string): void {
    this.finish({ kind: "inconclusive", why });
  }

  /** Free the node's session (its receipt for it is not needed). */
  close(): void {
    this.send(JSON.stringify({ type: "close", session: this.session } satisfies CoordinatorMessage));
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
