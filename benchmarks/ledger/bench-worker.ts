/**
 * The ledger benchmark's Worker (`npm run bench -- ledger`, benchmarks/ledger.mjs), run under
 * `wrangler dev` with benchmarks/ledger/wrangler.toml and never deployed. The coordinator has no
 * way to append arbitrary entries — by design — so this Worker owns the coordinator's real
 * Sequencer and LogStore (coordinator/src/ledger) in a Durable Object over a local D1 built from
 * the coordinator's own migrations, and mounts the real `ledgerRoute` at /ledger, so both the
 * write path and the read path measured are production code.
 *
 *   POST /append {count, concurrency, perSubmit, stages, flush}  build `count` inference entries
 *        (each with `stages` signed receipts), then submit them in waves of `concurrency` submits
 *        of `perSubmit` entries, as completions would, and wait until all are in a signed
 *        checkpoint (Sequencer.flush() first when `flush`); returns the timings, the sequencer's
 *        steps and every D1 call the LogStore made.
 *   POST /cpu {what, n}   `n` rounds of one CPU cost of a step, for the client to time
 *   POST /d1-ping {n}     `n` sequential `SELECT 1` round trips to D1
 *   GET  /ledger/…        the coordinator's routes (docs/ledger.md)
 *
 * Binding names are the coordinator's (DB, SWARM, ARIA_LEDGER_KEY), so the coordinator's `Env`
 * type describes this Worker too; SWARM points at LedgerBench, which answers `ledgerCheckpoint()`
 * as the Swarm does.
 */
import { DurableObject } from "cloudflare:workers";
import { sha256 } from "@noble/hashes/sha2.js";
import { Hono } from "hono";
import type { AppEnv } from "../../coordinator/src/env.ts";
import { handleError, handleNotFound } from "../../coordinator/src/errors.ts";
import { loadLogKey } from "../../coordinator/src/ledger/log-key.ts";
import { LogStore } from "../../coordinator/src/ledger/log-store.ts";
import { type CheckpointState, SEQUENCE_BATCH_TRIGGER, SEQUENCE_INTERVAL_MS, Sequencer } from "../../coordinator/src/ledger/sequencer.ts";
import { ledgerRoute } from "../../coordinator/src/routes/ledger.ts";
import { toHex } from "../../shared/crypto/hex.ts";
import { encodeBase64 } from "../../shared/ledger/base64.ts";
import { concatBytes, utf8 } from "../../shared/ledger/bytes.ts";
import { formatCheckpoint } from "../../shared/ledger/checkpoint.ts";
import { ed25519PublicKey } from "../../shared/ledger/ed25519-sync.ts";
import { inferenceEntries, type LogEntry, type StageRecord } from "../../shared/ledger/entry.ts";
import { leafHash } from "../../shared/ledger/hash.ts";
import { canonicalBytes } from "../../shared/ledger/jcs.ts";
import { signNoteText } from "../../shared/ledger/note.ts";
import { type ReceiptBody, signReceipt } from "../../shared/ledger/receipt.ts";
import { MerkleFrontier } from "../../shared/ledger/tree-math.ts";

// ── D1, metered ─────────────────────────────────────────────────────────────────────────────────

interface CallStats {
  calls: number;
  statements: number;
  ms: number;
  max_ms: number;
  param_bytes: number;
}

/** A short name for a statement: its verb and table ("INSERT log_entries", "SELECT log_pending"). */
function statementName(sql: string): string {
  const s = sql.replace(/\s+/g, " ").trim();
  const verb = /^(INSERT|SELECT|DELETE|UPDATE)/i.exec(s)?.[1]?.toUpperCase() ?? s.slice(0, 12);
  const table = /\b(?:INTO|FROM|UPDATE|JOIN)\s+(\w+)/i.exec(s.replace(/FROM json_each\(\?\d*\)( AS j)?/gi, ""))?.[1] ?? "?";
  return `${verb} ${table}`;
}

class MeteredStatement {
  constructor(
    readonly inner: D1PreparedStatement,
    readonly name: string,
    readonly paramBytes: number,
    private readonly meter: D1Meter,
  ) {}

  bind(...values: unknown[]): MeteredStatement {
    const bytes = values.reduce<number>((n, v) => n + (typeof v === "string" ? v.length : 8), 0);
    return new MeteredStatement(this.inner.bind(...values), this.name, bytes, this.meter);
  }

  first<T>(column?: string): Promise<T | null> {
    return this.meter.time(this.name, 1, this.paramBytes, () =>
      column === undefined ? this.inner.first<T>() : this.inner.first<T>(column),
    );
  }

  all<T>(): Promise<D1Result<T>> {
    return this.meter.time(this.name, 1, this.paramBytes, () => this.inner.all<T>());
  }

  run<T>(): Promise<D1Result<T>> {
    return this.meter.time(this.name, 1, this.paramBytes, () => this.inner.run<T>());
  }

  raw<T>(): Promise<T[]> {
    return this.meter.time(this.name, 1, this.paramBytes, () => this.inner.raw<T>());
  }
}

/** Counts and times every D1 call the LogStore makes (a batch is one call, named by its statements). */
class D1Meter {
  private stats = new Map<string, CallStats>();

  reset(): void {
    this.stats = new Map();
  }

  /** D1 calls (single statements or batches) that ran a statement named `name`. */
  callsTo(name: string): number {
    let calls = 0;
    for (const [key, stats] of this.stats) if (key === name || key === `batch[${name}]`) calls += stats.calls;
    return calls;
  }

  snapshot(): Record<string, CallStats> {
    return Object.fromEntries([...this.stats.entries()].sort((a, b) => b[1].ms - a[1].ms));
  }

  async time<T>(name: string, statements: number, paramBytes: number, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      const ms = performance.now() - started;
      const s = this.stats.get(name) ?? { calls: 0, statements: 0, ms: 0, max_ms: 0, param_bytes: 0 };
      s.calls++;
      s.statements += statements;
      s.ms += ms;
      s.max_ms = Math.max(s.max_ms, ms);
      s.param_bytes += paramBytes;
      this.stats.set(name, s);
    }
  }

  wrap(db: D1Database): D1Database {
    const metered = {
      prepare: (sql: string) => new MeteredStatement(db.prepare(sql), statementName(sql), 0, this),
      batch: (statements: MeteredStatement[]) => {
        const names = [...new Set(statements.map((s) => s.name))];
        const name = `batch[${names.join(", ")}]`;
        const bytes = statements.reduce((n, s) => n + s.paramBytes, 0);
        return this.time(name, statements.length, bytes, () => db.batch(statements.map((s) => s.inner)));
      },
    };
    return metered as unknown as D1Database;
  }
}

// ── realistic entries ───────────────────────────────────────────────────────────────────────────

const RECEIPT_PREFIX = "aria-receipt:v1\n"; // shared/ledger/receipt.ts; checked against signReceipt below
const MODEL = { id: "aria-bench-2b4t", sha256: toHex(sha256(utf8("aria-bench-2b4t"))) };
const N_LAYERS = 30;

interface BenchNode {
  id: string;
  secretKey: Uint8Array;
  signingKey: CryptoKey;
}

function randomHex(bytes: number): string {
  return toHex(crypto.getRandomValues(new Uint8Array(bytes)));
}

function base64url(bytes: Uint8Array): string {
  return encodeBase64(bytes).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** A node key usable both by signReceipt (the reference) and WebCrypto (fast, same signatures). */
async function makeNode(): Promise<BenchNode> {
  const secretKey = crypto.getRandomValues(new Uint8Array(32));
  const publicKey = ed25519PublicKey(secretKey);
  const signingKey = await crypto.subtle.importKey(
    "jwk",
    { kty: "OKP", crv: "Ed25519", d: base64url(secretKey), x: base64url(publicKey) },
    { name: "Ed25519" },
    false,
    ["sign"],
  );
  return { id: toHex(publicKey), secretKey, signingKey };
}

// ── the Durable Object ──────────────────────────────────────────────────────────────────────────

/** CPU costs of a sequencing step: checkpoint signature, leaf hash + frontier (noble or the runtime's SHA-256), type parse. */
export type CpuWork = "noop" | "sign" | "leaf" | "leaf_native" | "parse";

export interface AppendRequest {
  count: number;
  /** Submits in flight at once. */
  concurrency: number;
  /** Entries per submit (one completion's entries is 1). */
  perSubmit: number;
  /** Pipeline stages per request, each with a signed receipt (default 2). */
  stages?: number;
  /** Once all are queued, Sequencer.flush(): steps back to back instead of at most one a second. */
  flush?: boolean;
}

export interface AppendResult {
  count: number;
  concurrency: number;
  per_submit: number;
  flush: boolean;
  /** D1 writes the submits made (concurrent submits share one: group commit). */
  enqueue_writes: number;
  stages: number;
  entry_bytes_mean: number;
  /** Building and signing the entries (not timed as appends). */
  build_ms: number;
  /** From the first submit until every submit returned (entries durably queued). */
  queued_ms: number;
  /** From the first submit until every entry was in a signed checkpoint. */
  sequenced_ms: number;
  appends_per_s: number;
  /** How long one submit call took (what a completion waits for before its final event). */
  submit_ms: { p50: number; p90: number; max: number };
  steps: { count: number; entries_min: number; entries_mean: number; entries_max: number; gap_ms_mean: number };
  size_after: number;
  d1: Record<string, CallStats>;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export class LedgerBench extends DurableObject<Env> {
  private readonly meter = new D1Meter();
  private readonly sequencer: Sequencer;
  private readonly runId = randomHex(4);
  private nextRequest = 0;
  private nodes: BenchNode[] = [];
  private steps: { size: number; at: number }[] = [];
  private waiters: { size: number; resolve: () => void }[] = [];

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const key = loadLogKey(env.ARIA_LEDGER_KEY);
    this.sequencer = new Sequencer(new LogStore(this.meter.wrap(env.DB)), key, (cp) => this.checkpointed(cp));
  }

  /** As the Swarm's: the latest checkpoint, signing the empty tree for a new log. */
  async ledgerCheckpoint(): Promise<{ size: number } | null> {
    this.sequencer.kick();
    const checkpoint = await this.sequencer.checkpoint();
    return checkpoint ? { size: checkpoint.size } : null;
  }

  async append(req: AppendRequest): Promise<AppendResult> {
    const { count, concurrency, perSubmit } = req;
    const flush = req.flush === true;
    const stages = req.stages ?? 2;
    const start = await this.sequencer.checkpoint();
    if (!start) throw new Error("no log key: pass --var ARIA_LEDGER_KEY:…");
    const target = start.size + count;

    const buildStarted = performance.now();
    const entries = await this.buildEntries(count, stages);
    const buildMs = performance.now() - buildStarted;
    const bytes = entries.reduce((n, e) => n + e.bytes.length, 0);

    this.meter.reset();
    this.steps = [{ size: start.size, at: performance.now() }];
    const t0 = performance.now();
    const submitMs: number[] = [];
    const submit = (batch: LogEntry[]) => this.sequencer.submit(batch);
    const timed = async (batch: LogEntry[]) => {
      const started = performance.now();
      await submit(batch);
      submitMs.push(performance.now() - started);
    };
    // Completions arrive in waves of `concurrency`, each completion submitting its own entries, and
    // the event loop turns over between waves, as the Swarm's does between agents' socket messages.
    // The turn matters: local D1 answers in-process and workerd fires timers only when its loop
    // waits, so a loop kept busy with D1 calls alone would hold back the sequencer's 1 s timer
    // until the whole run was queued (measured: one step for 1,000 entries).
    const wave = concurrency * perSubmit;
    for (let w = 0; w < entries.length; w += wave) {
      const submits: Promise<void>[] = [];
      for (let i = w; i < Math.min(w + wave, entries.length); i += perSubmit)
        submits.push(timed(entries.slice(i, Math.min(i + perSubmit, w + wave))));
      await Promise.all(submits);
      await new Promise((r) => setTimeout(r, 0));
    }
    const queuedMs = performance.now() - t0;
    if (flush) await this.sequencer.flush();
    await this.untilSize(target);
    const sequencedMs = performance.now() - t0;

    submitMs.sort((a, b) => a - b);
    const counts = this.steps.slice(1).map((s, i) => s.size - this.steps[i]!.size);
    const gaps = this.steps.slice(2).map((s, i) => s.at - this.steps[i + 1]!.at);
    return {
      count,
      concurrency,
      per_submit: perSubmit,
      flush,
      enqueue_writes: this.meter.callsTo("INSERT log_pending"),
      stages,
      entry_bytes_mean: bytes / entries.length,
      build_ms: buildMs,
      queued_ms: queuedMs,
      sequenced_ms: sequencedMs,
      appends_per_s: (count * 1000) / sequencedMs,
      submit_ms: { p50: quantile(submitMs, 0.5), p90: quantile(submitMs, 0.9), max: submitMs.at(-1) ?? Number.NaN },
      steps: {
        count: counts.length,
        entries_min: Math.min(...counts),
        entries_mean: counts.reduce((a, b) => a + b, 0) / counts.length,
        entries_max: Math.max(...counts),
        gap_ms_mean: gaps.length > 0 ? gaps.reduce((a, b) => a + b, 0) / gaps.length : Number.NaN,
      },
      size_after: (await this.sequencer.checkpoint())?.size ?? 0,
      d1: this.meter.snapshot(),
    };
  }

  /** `n` rounds of one CPU cost of a sequencing step (the client times the call). */
  async cpu(what: CpuWork, n: number): Promise<number> {
    const key = loadLogKey(this.env.ARIA_LEDGER_KEY);
    if (!key) throw new Error("no log key");
    const [entry] = await this.buildEntries(1, 2);
    const bytes = entry!.bytes;
    const text = new TextDecoder().decode(bytes);
    const frontier = new MerkleFrontier();
    let sink = 0;
    for (let i = 0; i < n; i++) {
      if (what === "sign") {
        const cp = formatCheckpoint({ origin: key.name, size: 100_000 + i, rootHash: leafHash(bytes) });
        sink += signNoteText(cp, key.name, key.secretKey).length;
      } else if (what === "leaf") sink += frontier.append(leafHash(bytes)).length;
      else if (what === "leaf_native") {
        // The same leaf hash by the runtime's SHA-256 (a candidate for the sequencer).
        const leaf = new Uint8Array(await crypto.subtle.digest("SHA-256", concatBytes(new Uint8Array([0]), bytes)));
        sink += frontier.append(leaf).length;
      } else if (what === "parse") sink += (JSON.parse(text) as { type: string }).type.length;
    }
    return sink;
  }

  /** `n` sequential trivial D1 round trips; mean ms each. */
  async d1Ping(n: number): Promise<number> {
    const started = performance.now();
    for (let i = 0; i < n; i++) await this.env.DB.prepare("SELECT 1 AS one").first();
    return (performance.now() - started) / n;
  }

  private checkpointed(cp: CheckpointState): void {
    this.steps.push({ size: cp.size, at: performance.now() });
    this.waiters = this.waiters.filter((w) => {
      if (w.size > cp.size) return true;
      w.resolve();
      return false;
    });
  }

  private async untilSize(size: number): Promise<void> {
    if (((await this.sequencer.checkpoint())?.size ?? 0) >= size) return;
    await new Promise<void>((resolve) => this.waiters.push({ size, resolve }));
  }

  /** `count` inference entries of distinct requests, each with `stages` genuinely signed receipts. */
  private async buildEntries(count: number, stages: number): Promise<LogEntry[]> {
    while (this.nodes.length < stages) this.nodes.push(await this.checkedNode());
    const out: LogEntry[] = [];
    const BLOCK = 256;
    for (let b = 0; b < count; b += BLOCK) {
      const block = await Promise.all(Array.from({ length: Math.min(BLOCK, count - b) }, () => this.entryOf(stages)));
      for (const entries of block) out.push(...entries);
    }
    return out;
  }

  private async entryOf(stages: number): Promise<LogEntry[]> {
    const requestId = `chatcmpl-bench${this.runId}${(this.nextRequest++).toString(16).padStart(8, "0")}`;
    const records: StageRecord[] = [];
    for (let s = 0; s < stages; s++) {
      const node = this.nodes[s]!;
      const layers: [number, number] = [Math.floor((s * N_LAYERS) / stages), Math.floor(((s + 1) * N_LAYERS) / stages)];
      const body: ReceiptBody = {
        v: 1,
        request_id: requestId,
        node: node.id,
        model_sha256: MODEL.sha256,
        layers,
        tokens: 36,
        frames_in: 25,
        frames_out: 25,
        input_chain: randomHex(32),
        output_chain: randomHex(32),
        cpu_ms: 41.5 + s,
        energy_mj: 12.5,
        energy_method: "estimate",
      };
      const signature = await crypto.subtle.sign("Ed25519", node.signingKey, concatBytes(utf8(RECEIPT_PREFIX), canonicalBytes(body)));
      records.push({ attempt: 0, stage: s, node: node.id, layers, receipt: { body, signature: toHex(new Uint8Array(signature)) } });
    }
    const completedAt = Date.now();
    return inferenceEntries({
      requestId,
      model: MODEL,
      stages: records,
      promptTokens: 12,
      completionTokens: 24,
      finishReason: "length",
      promptSha256: randomHex(32),
      outputSha256: randomHex(32),
      latencyMs: 431,
      completedAt,
    });
  }

  /** A node whose WebCrypto signatures are byte-for-byte signReceipt's (else the entries would not verify). */
  private async checkedNode(): Promise<BenchNode> {
    const node = await makeNode();
    const body: ReceiptBody = {
      v: 1,
      request_id: "chatcmpl-check",
      node: node.id,
      model_sha256: MODEL.sha256,
      layers: [0, 1],
      tokens: 1,
      frames_in: 1,
      frames_out: 1,
      input_chain: randomHex(32),
      output_chain: randomHex(32),
      cpu_ms: 1,
      energy_mj: 12.5,
      energy_method: "estimate",
    };
    const fast = toHex(
      new Uint8Array(await crypto.subtle.sign("Ed25519", node.signingKey, concatBytes(utf8(RECEIPT_PREFIX), canonicalBytes(body)))),
    );
    if (fast !== signReceipt(body, node.secretKey).signature) throw new Error("WebCrypto's receipt signature differs from signReceipt's");
    return node;
  }
}

// ── the Worker ──────────────────────────────────────────────────────────────────────────────────

function bench(env: Env): DurableObjectStub<LedgerBench> {
  const ns = env.SWARM as unknown as DurableObjectNamespace<LedgerBench>;
  return ns.get(ns.idFromName("global"));
}

const app = new Hono<AppEnv>();
app.get("/health", (c) => c.json({ ok: true, sequence_interval_ms: SEQUENCE_INTERVAL_MS, sequence_batch_trigger: SEQUENCE_BATCH_TRIGGER }));
app.post("/append", async (c) => {
  const body = await c.req.json<AppendRequest>();
  const count = Math.floor(body.count);
  if (!(count > 0) || !(body.concurrency >= 1) || !(body.perSubmit >= 1))
    return c.json({ error: "need count, concurrency, perSubmit ≥ 1" }, 400);
  return c.json(
    await bench(c.env).append({
      count,
      concurrency: body.concurrency,
      perSubmit: body.perSubmit,
      stages: body.stages ?? 2,
      flush: body.flush === true,
    }),
  );
});
app.post("/cpu", async (c) => {
  const { what, n } = await c.req.json<{ what: CpuWork; n: number }>();
  return c.json({ sink: await bench(c.env).cpu(what, n) });
});
app.post("/d1-ping", async (c) => {
  const { n } = await c.req.json<{ n: number }>();
  return c.json({ mean_ms: await bench(c.env).d1Ping(n) });
});
app.route("/ledger", ledgerRoute);
app.onError(handleError);
app.notFound(handleNotFound);

export default app satisfies ExportedHandler<Env>;
