/**
 * /ledger — the provenance log, public (docs/ledger.md): the checkpoint, c2sp.org/tlog-tiles hash
 * tiles and entry bundles, and JSON conveniences (an entry with its inclusion proof, a
 * consistency proof). Reads D1 directly: the Swarm only writes.
 */
import { Hono } from "hono";
import { encodeBase64 } from "../../../shared/ledger/base64.ts";
import { leafHash } from "../../../shared/ledger/hash.ts";
import { formatNote } from "../../../shared/ledger/note.ts";
import {
  encodeEntryBundle,
  encodeTile,
  type ParsedTilePath,
  parseTilePath,
  TILE_HEIGHT,
  TILE_WIDTH,
} from "../../../shared/ledger/tiles.ts";
import { proveConsistency, proveInclusion } from "../../../shared/ledger/tree-math.ts";
import { type AppEnv, swarmStub } from "../env.ts";
import { ApiError } from "../errors.ts";
import { loadLogKey } from "../ledger/log-key.ts";
import { LogStore, type StoredCheckpoint, type StoredEntry } from "../ledger/log-store.ts";
import { MAX_SERVED_COSIGNATURES } from "../ledger/witnessing.ts";

export const ledgerRoute = new Hono<AppEnv>();

const encoder = new TextEncoder();
const IMMUTABLE = "public, max-age=31536000, immutable";
const SHORT = "public, max-age=1";

/** The latest checkpoint, asking the Swarm to sign the empty tree when the log is new. */
async function latestCheckpoint(env: Env, store: LogStore): Promise<StoredCheckpoint> {
  const stored = await store.latestCheckpoint();
  if (stored) return stored;
  if (!(await swarmStub(env).ledgerCheckpoint())) {
    throw new ApiError("ledger_unavailable", "This coordinator has no log key (ARIA_LEDGER_KEY), so it serves no checkpoint.");
  }
  const signed = await store.latestCheckpoint();
  if (!signed) throw new ApiError("ledger_unavailable", "The log has no checkpoint yet; retry shortly.");
  return signed;
}

ledgerRoute.get("/checkpoint", async (c) => {
  const store = new LogStore(c.env.DB);
  const checkpoint = await latestCheckpoint(c.env, store);
  const cosignatures = await store.cosignatures(checkpoint.size, MAX_SERVED_COSIGNATURES);
  const split = checkpoint.note.indexOf("\n\n");
  const text = checkpoint.note.slice(0, split + 1);
  const signatures = checkpoint.note.slice(split + 2);
  const lines = signatures.split(/(?<=\n)/).filter((l) => l.length > 0);
  return c.body(formatNote(text, [...lines, ...cosignatures]), 200, {
    "content-type": "text/plain; charset=utf-8",
    "cache-control": SHORT,
  });
});

ledgerRoute.get("/vkey", (c) => {
  const key = loadLogKey(c.env.ARIA_LEDGER_KEY);
  if (!key) throw new ApiError("ledger_unavailable", "This coordinator has no log key (ARIA_LEDGER_KEY).");
  return c.body(`${key.vkey}\n`, 200, { "content-type": "text/plain; charset=utf-8" });
});

ledgerRoute.get("/tile/*", async (c) => {
  const path = new URL(c.req.url).pathname.replace(/^.*?\/ledger\//, "");
  let tile: ParsedTilePath;
  try {
    tile = parseTilePath(path);
  } catch (err) {
    throw new ApiError("invalid_request", (err as Error).message, "path");
  }
  const store = new LogStore(c.env.DB);
  const start = tile.index * TILE_WIDTH;
  const full = tile.width === TILE_WIDTH;
  const headers = { "content-type": "application/octet-stream", "cache-control": full ? IMMUTABLE : SHORT };
  if (tile.kind === "entries") {
    const entries = await store.entriesFrom(start, tile.width);
    if (entries.length < tile.width) throw new ApiError("not_found", `entry bundle ${path} does not exist (yet)`);
    return c.body(new Uint8Array(encodeEntryBundle(entries.map((e) => encoder.encode(e.entry)))), 200, headers);
  }
  const hashes = await store.nodesAt(tile.level * TILE_HEIGHT, start, tile.width);
  if (hashes.length < tile.width) throw new ApiError("not_found", `tile ${path} does not exist (yet)`);
  return c.body(new Uint8Array(encodeTile(hashes)), 200, headers);
});

/** An entry with its leaf hash and inclusion proof against the latest checkpoint. */
async function entryWithProof(env: Env, store: LogStore, entry: StoredEntry | null, what: string) {
  if (!entry) throw new ApiError("not_found", `${what} is not in the log (yet: entries are sequenced within about a second)`);
  const checkpoint = await latestCheckpoint(env, store);
  if (entry.idx >= checkpoint.size) throw new ApiError("not_found", `${what} is not in a signed checkpoint yet; retry shortly`);
  const proof = await proveInclusion(entry.idx, checkpoint.size, store.readNodes);
  return {
    index: entry.idx,
    key: entry.key,
    type: entry.type,
    entry: JSON.parse(entry.entry) as unknown,
    entry_bytes: encodeBase64(encoder.encode(entry.entry)),
    leaf_hash: encodeBase64(leafHash(encoder.encode(entry.entry))),
    logged_at: entry.createdAt,
    checkpoint: { size: checkpoint.size, root_hash: encodeBase64(checkpoint.root), note: checkpoint.note },
    inclusion_proof: proof.map(encodeBase64),
  };
}

ledgerRoute.get("/entry/:index", async (c) => {
  const index = canonicalIndex(c.req.param("index"), "index");
  const store = new LogStore(c.env.DB);
  const [entry] = await store.entriesFrom(index, 1);
  return c.json(await entryWithProof(c.env, store, entry ?? null, `entry ${index}`));
});

ledgerRoute.get("/request/:id", async (c) => {
  const id = c.req.param("id");
  const store = new LogStore(c.env.DB);
  return c.json(await entryWithProof(c.env, store, await store.entryByKey(id), `request ${id}`));
});

ledgerRoute.get("/consistency", async (c) => {
  const store = new LogStore(c.env.DB);
  const oldSize = canonicalIndex(c.req.query("old"), "old");
  const checkpoint = await latestCheckpoint(c.env, store);
  const newSize = c.req.query("new") === undefined ? checkpoint.size : canonicalIndex(c.req.query("new"), "new");
  if (oldSize > newSize || newSize > checkpoint.size) {
    throw new ApiError(
      "invalid_request",
      `need old ≤ new ≤ ${checkpoint.size} (the latest checkpoint), got old=${oldSize} new=${newSize}`,
      "new",
    );
  }
  const proof = await proveConsistency(oldSize, newSize, store.readNodes);
  return c.json({ old_size: oldSize, new_size: newSize, proof: proof.map(encodeBase64) });
});

function canonicalIndex(value: string | undefined, param: string): number {
  if (value === undefined || !/^(0|[1-9][0-9]{0,15})$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new ApiError("invalid_request", `'${param}' must be a non-negative integer without leading zeros`, param);
  }
  return Number(value);
}
