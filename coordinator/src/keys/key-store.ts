/**
 * API keys made by an admin (docs/api.md, "Keys"): stored as SHA-256 hashes with a name, limits,
 * creation, last use and revocation; usage per key, end user and day. The keys in ARIA_API_KEYS
 * (such as the local one `npm start` prints) keep working, under the name `local`, unlimited.
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { toHex } from "../../../shared/crypto/hex.ts";
import { type Db, DbError } from "../db/records.ts";
import { apiKeys, keyUsage } from "../db/schema.ts";

export interface KeyLimits {
  rpm: number | null;
  tpm: number | null;
  concurrency: number | null;
}

/** Who is calling: a key's name and its limits. */
export interface CallerKey extends KeyLimits {
  name: string;
}

export const ENV_KEY_NAME = "local";
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isValidKeyName(name: string): boolean {
  return NAME.test(name) && name !== ENV_KEY_NAME;
}

export async function sha256Hex(text: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))));
}

/** A new key: 32 random bytes, base64url, behind a recognisable prefix. */
function newKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  let b64 = btoa(String.fromCharCode(...bytes));
  b64 = b64.replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
  return `aria-sk-${b64}`;
}

/** Create a key; null when the name is taken (by a key not revoked or revoked: names are never reused). */
export async function createKey(db: Db, name: string, limits: KeyLimits, now: number): Promise<{ key: string } | null> {
  const key = newKey();
  try {
    const inserted = await db
      .insert(apiKeys)
      .values({ name, keyHash: await sha256Hex(key), prefix: key.slice(0, 12), ...limits, createdAt: now })
      .onConflictDoNothing()
      .returning({ name: apiKeys.name });
    return inserted.length === 1 ? { key } : null;
  } catch (err) {
    throw new DbError("creating a key", err);
  }
}

export async function listKeys(db: Db) {
  try {
    return await db
      .select({
        name: apiKeys.name,
        prefix: apiKeys.prefix,
        rpm: apiKeys.rpm,
        tpm: apiKeys.tpm,
        concurrency: apiKeys.concurrency,
        createdAt: apiKeys.createdAt,
        lastUsedAt: apiKeys.lastUsedAt,
        revokedAt: apiKeys.revokedAt,
      })
      .from(apiKeys)
      .orderBy(apiKeys.createdAt);
  } catch (err) {
    throw new DbError("listing keys", err);
  }
}

/** Revoke a key now; false when there is no such live key. */
export async function revokeKey(db: Db, name: string, now: number): Promise<boolean> {
  try {
    const rows = await db
      .update(apiKeys)
      .set({ revokedAt: now })
      .where(and(eq(apiKeys.name, name), isNull(apiKeys.revokedAt)))
      .returning({ name: apiKeys.name });
    return rows.length === 1;
  } catch (err) {
    throw new DbError("revoking a key", err);
  }
}

/** The live key with this hash, or null. */
export async function findKey(db: Db, keyHash: string): Promise<CallerKey | null> {
  try {
    const rows = await db
      .select({ name: apiKeys.name, rpm: apiKeys.rpm, tpm: apiKeys.tpm, concurrency: apiKeys.concurrency })
      .from(apiKeys)
      .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)))
      .limit(1);
    return rows[0] ?? null;
  } catch (err) {
    throw new DbError("looking up a key", err);
  }
}

/** Add one request's usage (and mark the key used). */
export async function recordUsage(db: Db, key: string, user: string | null, promptTokens: number, completionTokens: number, now: number) {
  const day = new Date(now).toISOString().slice(0, 10);
  try {
    await db.batch([
      db
        .insert(keyUsage)
        .values({ keyName: key, user: user ?? "", day, requests: 1, promptTokens, completionTokens })
        .onConflictDoUpdate({
          target: [keyUsage.keyName, keyUsage.user, keyUsage.day],
          set: {
            requests: sqlAdd(keyUsage.requests, 1),
            promptTokens: sqlAdd(keyUsage.promptTokens, promptTokens),
            completionTokens: sqlAdd(keyUsage.completionTokens, completionTokens),
          },
        }),
      db.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.name, key)),
    ]);
  } catch (err) {
    throw new DbError("recording usage", err);
  }
}

export async function usageRows(db: Db, key: string | undefined) {
  try {
    const q = db.select().from(keyUsage);
    return await (key ? q.where(eq(keyUsage.keyName, key)) : q).orderBy(keyUsage.day, keyUsage.keyName, keyUsage.user);
  } catch (err) {
    throw new DbError("reading usage", err);
  }
}

function sqlAdd(column: SQLiteColumn, n: number) {
  return sql`${column} + ${n}`;
}
