/**
 * What a checked stage session received and produced, up to its sampled step
 * (docs/verification.md, "Steps"): the inputs in arrival order, each output, and how many inputs
 * had arrived when each output came — a replay of inputs[0 … inputsBefore[k]) reproduces outputs
 * 0…k. Kept only until the check has the copies it needs.
 */
import type { OpenMessage } from "../../../../shared/protocol/messages.ts";

/** One input as the stage got it: token ids (first stage) or an activation frame. */
export type StageInput = { kind: "feed"; pos0: number; tokens: number[] } | { kind: "frame"; bytes: ArrayBuffer };

/** One step's output: a frame's bytes, or the last stage's choice and its output hash. */
export type StepOutput = { kind: "frame"; bytes: ArrayBuffer } | { kind: "sampled"; tokenId: number | null; outputHash: string };

/** A shared allowance of bytes for kept inputs and outputs (CHECK_BUFFER_BYTES). */
export class ByteBudget {
  private used = 0;
  constructor(readonly limit: number) {}
  take(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }
  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
  get inUse(): number {
    return this.used;
  }
}

/** The checked stage: who, which file and layers, and the `open` it was sent (replays reuse it). */
export interface WatchedStage {
  nodeId: string;
  sha256: string;
  open: OpenMessage;
}

export type WatchState = "recording" | "complete" | "dropped";

export class SessionWatch {
  readonly inputs: StageInput[] = [];
  readonly outputs: StepOutput[] = [];
  readonly inputsBefore: number[] = [];
  state: WatchState = "recording";
  private bytes = 0;

  constructor(
    readonly stage: WatchedStage,
    /** The session's first sampled step: outputs 0…sampledStep are re-executed. */
    readonly sampledStep: number,
    private readonly budget: ByteBudget,
    /** Called once when output `sampledStep` has arrived. */
    private readonly onComplete: (watch: SessionWatch) => void,
    /** Called once if the budget cannot hold the copies: the session goes unchecked. */
    private readonly onOverBudget: (watch: SessionWatch) => void,
  ) {}

  input(input: StageInput): void {
    if (this.state !== "recording" || !this.keep(input.kind === "frame" ? input.bytes.byteLength : 8 + 4 * input.tokens.length)) return;
    this.inputs.push(input);
  }

  output(output: StepOutput): void {
    if (this.state !== "recording" || !this.keep(output.kind === "frame" ? output.bytes.byteLength : 64)) return;
    this.outputs.push(output);
    this.inputsBefore.push(this.inputs.length);
    if (this.outputs.length === this.sampledStep + 1) {
      this.state = "complete";
      this.onComplete(this);
    }
  }

  /** The session closed before its sampled step, or the check is over: free the copies. */
  drop(): void {
    if (this.state === "dropped") return;
    this.state = "dropped";
    this.inputs.length = 0;
    this.outputs.length = 0;
    this.budget.give(this.bytes);
    this.bytes = 0;
  }

  private keep(n: number): boolean {
    if (this.budget.take(n)) {
      this.bytes += n;
      return true;
    }
    this.drop();
    this.onOverBudget(this);
    return false;
  }
}

/** Whether two outputs of the same step are the same (frames: position, rows and payload bytes). */
export function sameOutput(a: StepOutput, b: StepOutput): boolean {
  if (a.kind === "sampled" || b.kind === "sampled") {
    return a.kind === "sampled" && b.kind === "sampled" && a.tokenId === b.tokenId && a.outputHash === b.outputHash;
  }
  // Header bytes 16…28 hold pos0, rows and width; 32… the rows. The session id (8…12) differs by design.
  return (
    sameBytes(a.bytes, b.bytes, 16, 28) && a.bytes.byteLength === b.bytes.byteLength && sameBytes(a.bytes, b.bytes, 32, a.bytes.byteLength)
  );
}

function sameBytes(a: ArrayBuffer, b: ArrayBuffer, from: number, to: number): boolean {
  if (a.byteLength < to || b.byteLength < to) return false;
  const x = new Uint8Array(a, from, to - from);
  const y = new Uint8Array(b, from, to - from);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
