/**
 * What a checked stage session received and produced (docs/verification.md, "Steps"): the inputs
 * in arrival order, each output (frames as their header and a digest of their rows), and how many
 * inputs had arrived when each output came — a replay of inputs[0 … inputsBefore[k]) reproduces
 * outputs 0…k. Every step is sampled with the node's rate as it arrives; the first sampled step
 * starts a check at once (early detection), and at the end of the session the steps sampled after
 * it are checked too. Copies are kept within a shared byte budget and freed when no check needs them.
 */
import type { OpenMessage } from "../../../../shared/protocol/messages.ts";

/** One input as the stage got it: token ids (first stage) or an activation frame. */
export type StageInput = { kind: "feed"; pos0: number; tokens: number[] } | { kind: "frame"; bytes: ArrayBuffer };

/**
 * One step's output: a frame as its header (every field but the session id) and the SHA-256 of its
 * rows, or the last stage's choice and its output hash. `at` names the step within its session —
 * a frame's first position, a sampled token's index in the request — so a replay's outputs are
 * matched to the watched ones by what they are, not by the order they arrived in.
 */
export type StepOutput =
  | { kind: "frame"; at: number; head: string; digest: Promise<string> }
  | { kind: "sampled"; at: number; tokenId: number | null; outputHash: string };

/** A shared allowance of bytes for kept inputs (CHECK_BUFFER_BYTES). */
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
  agentVersion: string;
  open: OpenMessage;
}

/** What the watch asks its owner to check: outputs 0…through, of which those after `verifiedBefore` are new. */
export interface CheckRequest {
  watch: SessionWatch;
  through: number;
  verifiedBefore: number;
}

export class SessionWatch {
  readonly inputs: StageInput[] = [];
  readonly outputs: StepOutput[] = [];
  readonly inputsBefore: number[] = [];
  /** Recording stops at the session's end or when the budget is spent; copies live until `release`. */
  recording = true;
  /** The last sampled step, and the last one a check was started for (-1: none). */
  private lastSampled = -1;
  private checkedThrough = -1;
  /** Checks started and not yet finished: the copies are freed when the last one ends and recording has stopped. */
  private pending = 0;
  private bytes = 0;
  private released = false;

  constructor(
    readonly stage: WatchedStage,
    /** Probability that any one step is sampled. */
    private readonly rate: number,
    private readonly uniform: () => number,
    private readonly budget: ByteBudget,
    private readonly requestCheck: (request: CheckRequest) => void,
    /** The budget could not hold the next input: steps from here on go unchecked. */
    private readonly onOverBudget: (watch: SessionWatch) => void,
  ) {}

  input(input: StageInput): void {
    if (!this.recording) return;
    const n = input.kind === "frame" ? input.bytes.byteLength : 8 + 4 * input.tokens.length;
    if (!this.budget.take(n)) {
      this.onOverBudget(this);
      this.end();
      return;
    }
    this.bytes += n;
    this.inputs.push(input);
  }

  /** A frame the stage sent (its bytes are not kept: only the header and a digest of the rows). */
  frameOutput(bytes: ArrayBuffer): void {
    if (this.recording) this.output(frameStep(bytes));
  }

  /** The last stage's choice of the token at `index` of the request. */
  sampledOutput(index: number, tokenId: number | null, outputHash: string): void {
    if (this.recording) this.output({ kind: "sampled", at: index, tokenId, outputHash });
  }

  /** The session ended (or recording had to stop): check what was sampled and not checked yet. */
  end(): void {
    if (!this.recording) return;
    this.recording = false;
    if (this.lastSampled > this.checkedThrough) this.startCheck(this.lastSampled);
    else if (this.pending === 0) this.release();
  }

  /** A check started by this watch has ended. */
  checkDone(): void {
    this.pending--;
    if (this.pending === 0 && !this.recording) this.release();
  }

  private output(output: StepOutput): void {
    const k = this.outputs.length;
    this.outputs.push(output);
    this.inputsBefore.push(this.inputs.length);
    if (this.uniform() >= this.rate) return;
    this.lastSampled = k;
    // The first sampled step is checked at once; later ones when the session ends.
    if (this.checkedThrough < 0 && this.pending === 0) this.startCheck(k);
  }

  private startCheck(through: number): void {
    const verifiedBefore = this.checkedThrough + 1;
    this.checkedThrough = through;
    this.pending++;
    this.requestCheck({ watch: this, through, verifiedBefore });
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.inputs.length = 0;
    this.budget.give(this.bytes);
    this.bytes = 0;
  }
}

/** A frame as a step output: every header field but the session id, and the SHA-256 of its rows. */
export function frameStep(bytes: ArrayBuffer): StepOutput {
  const u8 = new Uint8Array(bytes);
  const head = hex(u8.subarray(0, 8)) + hex(u8.subarray(12, 32));
  const at = new DataView(bytes).getInt32(16, true); // pos0 (shared/protocol/frame.ts)
  const digest = crypto.subtle.digest("SHA-256", u8.subarray(32)).then((d) => hex(new Uint8Array(d)));
  return { kind: "frame", at, head, digest };
}

/** Whether two outputs of the same step are the same. */
export async function sameOutput(a: StepOutput, b: StepOutput): Promise<boolean> {
  if (a.at !== b.at) return false;
  if (a.kind === "sampled" || b.kind === "sampled") {
    return a.kind === "sampled" && b.kind === "sampled" && a.tokenId === b.tokenId && a.outputHash === b.outputHash;
  }
  return a.head === b.head && (await a.digest) === (await b.digest);
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}
