/**
 * The coordinator's side of witnessing (docs/ledger.md, "Witnesses"): each new checkpoint goes to
 * every logged-in agent as a c2sp.org/tlog-witness add-checkpoint request over its WebSocket,
 * with a consistency proof from the size that agent last cosigned; valid cosignatures are stored
 * and served with the checkpoint. One request per witness is in flight at a time; a witness that
 * falls behind simply gets the newest checkpoint next.
 */
import { fromHex } from "../../../shared/crypto/hex.ts";
import { verifyCosignatureFast } from "../../../shared/ledger/cosignature.ts";
import { parseSignatureLines } from "../../../shared/ledger/note.ts";
import { proveConsistency } from "../../../shared/ledger/tree-math.ts";
import { witnessName } from "../../../shared/ledger/witness-name.ts";
import { formatAddCheckpoint } from "../../../shared/ledger/witness-request.ts";
import type { CoordinatorMessage, CosignedMessage, WitnessRefusedMessage } from "../../../shared/protocol/messages.ts";
import type { LogStore } from "./log-store.ts";
import type { CheckpointState } from "./sequencer.ts";

/** A witness that has not answered in this long may be asked again. */
const WITNESS_TIMEOUT_MS = 10_000;
/** The most cosignatures served with a checkpoint: standard verifiers reject notes with very many. */
export const MAX_SERVED_COSIGNATURES = 16;
/**
 * Witness requests in flight at once. Each checkpoint needs only a few cosignatures, and each
 * costs the coordinator a signature check and a D1 write: with thousands of agents, asking all
 * of them every second would swamp it. Witnesses are asked in rotation instead.
 */
export const MAX_WITNESS_REQUESTS_IN_FLIGHT = 32;

export class Witnessing {
  /** nodeId → the checkpoint size asked of it, and when. */
  private readonly inFlight = new Map<string, { size: number; at: number; text: string }>();
  /** Where the next round of asking starts, so every witness gets its turn. */
  private rotation = 0;

  constructor(
    private readonly store: LogStore,
    private readonly latest: () => Promise<CheckpointState | null>,
    private readonly send: (nodeId: string, message: CoordinatorMessage) => boolean,
  ) {}

  /** Ask these witnesses (not already busy) to cosign the latest checkpoint, up to the in-flight limit, in rotation. */
  async askAll(nodeIds: readonly string[]): Promise<void> {
    const start = nodeIds.length === 0 ? 0 : this.rotation % nodeIds.length;
    for (let k = 0; k < nodeIds.length && this.busyCount() < MAX_WITNESS_REQUESTS_IN_FLIGHT; k++) {
      await this.ask(nodeIds[(start + k) % nodeIds.length]!);
      this.rotation = start + k + 1;
    }
  }

  private busyCount(): number {
    const now = Date.now();
    let busy = 0;
    for (const w of this.inFlight.values()) if (now - w.at < WITNESS_TIMEOUT_MS) busy++;
    return busy;
  }

  /** Ask one witness to cosign the latest checkpoint, unless it is busy or already has it. */
  async ask(nodeId: string, oldSize?: number): Promise<void> {
    const busy = this.inFlight.get(nodeId);
    if (busy && Date.now() - busy.at < WITNESS_TIMEOUT_MS) return;
    const checkpoint = await this.latest();
    if (!checkpoint) return;
    const old = oldSize ?? (await this.store.witnessedSize(nodeId));
    // The witnesses table is updated with each stored cosignature: equal sizes mean it has this one.
    if (oldSize === undefined && old === checkpoint.size) return;
    // A record above our size (a log restored from an older backup) is sent as is; the witness refuses a rollback.
    const from = Math.min(old, checkpoint.size);
    const proof = await proveConsistency(from, checkpoint.size, this.store.readNodes);
    const body = formatAddCheckpoint({ oldSize: from, proof, checkpoint: checkpoint.note });
    this.inFlight.set(nodeId, { size: checkpoint.size, at: Date.now(), text: checkpoint.text });
    if (!this.send(nodeId, { type: "witness", body })) this.inFlight.delete(nodeId);
  }

  /** A cosignature came back: check it against the node's key and the checkpoint asked, then store it. */
  async onCosigned(nodeId: string, m: CosignedMessage): Promise<void> {
    const asked = this.inFlight.get(nodeId);
    if (!asked || asked.size !== m.size) return;
    this.inFlight.delete(nodeId);
    let timestamp: number | null = null;
    try {
      const [signature] = parseSignatureLines(m.line);
      if (signature) timestamp = await verifyCosignatureFast(signature, asked.text, witnessName(nodeId), fromHex(nodeId));
    } catch {
      timestamp = null;
    }
    if (timestamp === null) {
      console.warn(`ledger: node ${nodeId.slice(0, 16)}… sent a cosignature that does not verify; ignored`);
      return;
    }
    await this.store.addCosignature(m.size, nodeId, m.line, timestamp, Date.now());
    const latest = await this.latest();
    if (latest && latest.size > m.size) await this.ask(nodeId);
  }

  /** A witness refused. On a conflict it says what it holds: ask again from there (once per answer). */
  async onRefused(nodeId: string, m: WitnessRefusedMessage): Promise<void> {
    const asked = this.inFlight.get(nodeId);
    if (!asked || asked.size !== m.size) return;
    this.inFlight.delete(nodeId);
    console.warn(`ledger: witness ${nodeId.slice(0, 16)}… refused checkpoint ${m.size} (${m.code}): ${m.message}`);
    if (m.code === "conflict" && m.latest !== undefined && m.latest <= m.size) {
      await this.store.setWitnessedSize(nodeId, m.latest, Date.now());
      return this.ask(nodeId, m.latest);
    }
    // A newer checkpoint may have been signed while this one was refused: offer that one.
    const latest = await this.latest();
    if (latest && latest.size > m.size) await this.ask(nodeId);
  }

  forget(nodeId: string): void {
    this.inFlight.delete(nodeId);
  }
}
