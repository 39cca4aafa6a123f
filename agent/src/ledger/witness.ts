/**
 * The agent as a witness of its coordinator's log (docs/ledger.md, "Witnesses"): it cosigns a
 * checkpoint only when the log key it pinned signed it and it is consistent with the last
 * checkpoint this agent cosigned, which it keeps on disk. It never cosigns two trees that are
 * not one history: that is what makes a split view need colluding witnesses.
 *
 * State per coordinator: `<config dir>/witness/<sha256(coordinator origin)>.json` with the pinned
 * log key and the last cosigned size and root. Written (atomically) before any cosignature leaves.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sha256Hex } from "../../../shared/crypto/hash.ts";
import { decodeBase64, encodeBase64 } from "../../../shared/ledger/base64.ts";
import { openCheckpoint } from "../../../shared/ledger/checkpoint.ts";
import { signCosignature } from "../../../shared/ledger/cosignature.ts";
import { EMPTY_ROOT, hashEquals } from "../../../shared/ledger/hash.ts";
import { parseVkey } from "../../../shared/ledger/note.ts";
import { verifyConsistency } from "../../../shared/ledger/tree-math.ts";
import { witnessName } from "../../../shared/ledger/witness-name.ts";
import { parseAddCheckpoint } from "../../../shared/ledger/witness-request.ts";
import type { AgentMessage } from "../../../shared/protocol/messages.ts";

interface WitnessState {
  coordinator: string;
  /** The log key this agent accepts checkpoints from (pinned on first sight or given). */
  vkey: string;
  size: number;
  /** Root of the last cosigned tree, base64. */
  root: string;
}

type Answer = Extract<AgentMessage, { type: "cosigned" | "witness_refused" }>;

export class Witness {
  private state: WitnessState | null;
  private readonly path: string;

  private constructor(
    private readonly coordinator: string,
    private readonly dir: string,
    private readonly identity: { nodeId: string; secretKey: Uint8Array },
    /** A log key given by the owner: it wins over anything announced. */
    private readonly configuredVkey: string | undefined,
    private readonly log: (line: string) => void,
    file: string,
  ) {
    this.path = join(dir, file);
    this.state = existsSync(this.path) ? (JSON.parse(readFileSync(this.path, "utf8")) as WitnessState) : null;
    if (configuredVkey) parseVkey(configuredVkey); // fail early on a typo
  }

  static async open(
    configDir: string,
    coordinatorUrl: string,
    identity: { nodeId: string; secretKey: Uint8Array },
    configuredVkey: string | undefined,
    log: (line: string) => void,
  ): Promise<Witness> {
    const origin = new URL(coordinatorUrl.replace(/^ws/, "http")).origin;
    const file = `${(await sha256Hex(new TextEncoder().encode(origin))).slice(0, 32)}.json`;
    return new Witness(origin, join(configDir, "witness"), identity, configuredVkey, log, file);
  }

  /** The log key this witness checks signatures with, if it has one. */
  get vkey(): string | undefined {
    return this.configuredVkey ?? this.state?.vkey;
  }

  /** The coordinator announced its log: pin the key on first sight; warn when it changed. */
  onAnnounced(ledger: { origin: string; vkey: string } | undefined): void {
    if (!ledger) return;
    const pinned = this.vkey;
    if (pinned === undefined) {
      this.save({ coordinator: this.coordinator, vkey: ledger.vkey, size: 0, root: encodeBase64(EMPTY_ROOT) });
      this.log(`witness: pinned the log key of ${this.coordinator}: ${ledger.vkey}`);
    } else if (pinned !== ledger.vkey) {
      this.log(`witness: the coordinator announces log key ${ledger.vkey}, but this agent trusts ${pinned}; it will cosign nothing else`);
    }
  }

  /** Answer one add-checkpoint request: a cosignature, or a refusal that says why. */
  handle(body: string, now = Date.now()): Answer {
    let request: ReturnType<typeof parseAddCheckpoint>;
    try {
      request = parseAddCheckpoint(body);
    } catch (err) {
      return this.refuse(0, "bad_request", (err as Error).message);
    }
    const size = request.tree.size;
    const vkey = this.vkey;
    if (!vkey) return this.refuse(size, "wrong_log", "no log key is pinned for this coordinator");
    const opened = openCheckpoint(request.checkpoint, vkey);
    if (!opened) return this.refuse(size, "bad_signature", "the checkpoint is not signed by the pinned log key");
    if (opened.checkpoint.origin !== parseVkey(vkey).name)
      return this.refuse(size, "wrong_log", `the checkpoint's origin is ${opened.checkpoint.origin}`);
    const state = this.state?.vkey === vkey ? this.state : { coordinator: this.coordinator, vkey, size: 0, root: encodeBase64(EMPTY_ROOT) };
    const oldRoot = decodeBase64(state.root)!;
    if (size < state.size) return this.refuse(size, "rollback", `this witness cosigned a larger tree (${state.size} entries)`, state.size);
    if (request.oldSize !== state.size)
      return this.refuse(size, "conflict", `this witness last cosigned size ${state.size}, not ${request.oldSize}`, state.size);
    if (!verifyConsistency(state.size, size, request.proof, oldRoot, opened.checkpoint.rootHash)) {
      const why =
        size === state.size && !hashEquals(oldRoot, opened.checkpoint.rootHash)
          ? `a different root for size ${size} than the one it cosigned (a split view)`
          : `the consistency proof from size ${state.size} does not hold`;
      return this.refuse(size, "bad_proof", why);
    }
    this.save({ ...state, size, root: encodeBase64(opened.checkpoint.rootHash) });
    const line = signCosignature(opened.note.text, witnessName(this.identity.nodeId), this.identity.secretKey, Math.floor(now / 1000));
    return { type: "cosigned", size, line };
  }

  private refuse(size: number, code: Extract<Answer, { type: "witness_refused" }>["code"], message: string, latest?: number): Answer {
    this.log(`witness: refused to cosign checkpoint ${size} (${code}): ${message}`);
    return { type: "witness_refused", size, code, message, ...(latest !== undefined ? { latest } : {}) };
  }

  private save(state: WitnessState): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.path);
    this.state = state;
  }
}
