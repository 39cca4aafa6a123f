/**
 * The sequencer: turns queued entries into log entries and signs a new checkpoint, in batches
 * (docs/ledger.md, "Sequencing"). Runs inside the Swarm Durable Object, the log's only writer,
 * so one step runs at a time and the in-memory frontier always matches D1 — on any failure it is
 * dropped and rebuilt from D1 before the next step.
 */
import { formatCheckpoint, openCheckpoint } from "../../../shared/ledger/checkpoint.ts";
import { EMPTY_ROOT, type Hash, leafHash } from "../../../shared/ledger/hash.ts";
import { formatNote, signNoteText } from "../../../shared/ledger/note.ts";
import { MerkleFrontier, type NodeRef } from "../../../shared/ledger/tree-math.ts";
import type { LogKey } from "./log-key.ts";
import type { LogStore, StoredCheckpoint, StoredEntry } from "./log-store.ts";

/** A new checkpoint is signed at most this often… */
export const SEQUENCE_INTERVAL_MS = 1_000;
/** …unless this many entries are waiting. */
export const SEQUENCE_BATCH_TRIGGER = 256;
/** Entries per sequencing step at most (bounds one transaction). */
const MAX_STEP_ENTRIES = 4_096;

const encoder = new TextEncoder();

/** The latest checkpoint in the forms its users need. */
export interface CheckpointState extends StoredCheckpoint {
  /** The checkpoint text (the signed body, without signatures). */
  text: string;
}

export class Sequencer {
  private frontier: MerkleFrontier | null = null;
  private latest: CheckpointState | null = null;
  private running: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastStepAt = 0;
  /** Entries queued since the last step (an estimate for the batch trigger). */
  private queued = 0;
  /** Rows waiting for the next queue write, and that write (shared by every submit that joins it). */
  private buffered: { key: string; entry: string }[] = [];
  private nextWrite: Promise<void> | null = null;
  private writing: Promise<void> | null = null;

  constructor(
    private readonly store: LogStore,
    private readonly key: LogKey | null,
    private readonly onCheckpoint: (checkpoint: CheckpointState) => void,
  ) {}

  /**
   * Queue entries durably: resolves once they are in D1 (and rejects if they could not be
   * written), then schedules a step. Submits that arrive while a queue write is in flight share
   * the next one — group commit — so concurrent completions cost one D1 write, not one each.
   */
  async submit(entries: readonly { key: string; bytes: Uint8Array }[]): Promise<void> {
    const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
    for (const e of entries) this.buffered.push({ key: e.key, entry: decoder.decode(e.bytes) });
    if (!this.nextWrite) this.nextWrite = this.writeBuffered();
    await this.nextWrite;
    this.queued += entries.length;
    this.schedule();
  }

  /** After the write in flight (if any), write everything buffered by then in one batch. */
  private async writeBuffered(): Promise<void> {
    // Yield first: the caller must record this write as `nextWrite` before it takes the buffer,
    // and submits made in the same turn join it.
    await Promise.resolve();
    while (this.writing) await this.writing.catch(() => {});
    const rows = this.buffered;
    this.buffered = [];
    this.nextWrite = null;
    const write = this.store.enqueue(rows, Date.now());
    this.writing = write;
    try {
      await write;
    } finally {
      if (this.writing === write) this.writing = null;
    }
  }

  /** Make sure queued entries get sequenced (e.g. after a restart): called by the alarm. */
  kick(): void {
    this.schedule();
  }

  /**
   * The latest checkpoint, loading it from D1 the first time; a new log signs its empty tree
   * (root SHA-256("")) so there is always a checkpoint to serve. Null only without a log key.
   */
  async checkpoint(): Promise<CheckpointState | null> {
    if (!this.latest) {
      const stored = await this.store.latestCheckpoint();
      if (stored && (!this.key || openCheckpoint(stored.note, this.key.vkey))) {
        this.latest = { ...stored, text: stored.note.slice(0, stored.note.indexOf("\n\n") + 1) };
      } else if (this.key) {
        // A new log signs its empty tree; a log whose key was replaced signs its tree again with the new key.
        const size = stored?.size ?? 0;
        const root = stored?.root ?? EMPTY_ROOT;
        const text = formatCheckpoint({ origin: this.key.name, size, rootHash: root });
        const signed = {
          size,
          root,
          text,
          note: formatNote(text, [signNoteText(text, this.key.name, this.key.secretKey)]),
          createdAt: Date.now(),
        };
        if (stored) {
          console.warn(
            `ledger: the latest checkpoint (size ${size}) is not signed by the configured key; signing it again with ${this.key.vkey}`,
          );
          await this.store.replaceCheckpoint(signed);
        } else await this.store.commit({ entries: [], nodes: [], checkpoint: signed });
        this.latest = signed;
      }
    }
    return this.latest;
  }

  /** Resolves when every entry queued before the call is in a signed checkpoint (tests, benchmarks). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.step(true);
  }

  /** A step at most once a second, or at once when a batch's worth is waiting (cutting a pending wait short). */
  private schedule(): void {
    if (!this.key || this.running) return;
    const urgent = this.queued >= SEQUENCE_BATCH_TRIGGER;
    if (this.timer) {
      if (!urgent) return;
      clearTimeout(this.timer);
    }
    const wait = urgent ? 0 : Math.max(0, this.lastStepAt + SEQUENCE_INTERVAL_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.step(false).catch((err) => console.error("ledger: sequencing failed; will retry", err));
    }, wait);
  }

  /** Sequence what is queued (all of it when `drain`), one transaction per step. */
  private async step(drain: boolean): Promise<void> {
    while (this.running) await this.running;
    if (!this.key) return;
    let done!: () => void;
    this.running = new Promise<void>((r) => {
      done = r;
    });
    try {
      for (;;) {
        this.queued = 0;
        this.lastStepAt = Date.now();
        const sequenced = await this.sequenceOnce(this.key);
        if (!drain || sequenced === 0) break;
      }
    } catch (err) {
      this.frontier = null;
      this.latest = null;
      throw err;
    } finally {
      this.running = null;
      done();
      this.lastStepAt = Date.now();
    }
    // More may have arrived meanwhile; a backlog of a batch or more is taken at once.
    const waiting = await this.store.pendingCount(SEQUENCE_BATCH_TRIGGER);
    if (waiting > 0) {
      this.queued = Math.max(this.queued, waiting);
      this.schedule();
    }
  }

  private async sequenceOnce(key: LogKey): Promise<number> {
    const frontier = await this.loadFrontier();
    let pending = await this.store.pending(MAX_STEP_ENTRIES);
    if (pending.length === 0) return 0;
    const logged = await this.store.loggedKeys(pending.map((p) => p.key));
    if (logged.size > 0) {
      await this.store.dropPending([...logged]);
      pending = pending.filter((p) => !logged.has(p.key));
      if (pending.length === 0) return 0;
    }
    const now = Date.now();
    const entries: StoredEntry[] = [];
    const nodes: { ref: NodeRef; hash: Hash }[] = [];
    for (const p of pending) {
      const idx = frontier.size;
      nodes.push(...frontier.append(leafHash(encoder.encode(p.entry))));
      entries.push({ idx, key: p.key, type: typeOf(p.entry), entry: p.entry, createdAt: now });
    }
    const root = frontier.root();
    const text = formatCheckpoint({ origin: key.name, size: frontier.size, rootHash: root });
    const note = formatNote(text, [signNoteText(text, key.name, key.secretKey)]);
    const checkpoint: CheckpointState = { size: frontier.size, root, note, text, createdAt: now };
    await this.store.commit({ entries, nodes, checkpoint });
    this.latest = checkpoint;
    this.onCheckpoint(checkpoint);
    return entries.length;
  }

  private async loadFrontier(): Promise<MerkleFrontier> {
    if (!this.frontier) {
      const size = await this.store.size();
      this.frontier = await MerkleFrontier.fromReader(size, this.store.readNodes);
    }
    return this.frontier;
  }
}

/** The entry's `type` field (entries are canonical JSON objects; checked when built). */
function typeOf(entry: string): string {
  try {
    const type = (JSON.parse(entry) as { type?: unknown }).type;
    return typeof type === "string" ? type : "unknown";
  } catch {
    return "unknown";
  }
}
