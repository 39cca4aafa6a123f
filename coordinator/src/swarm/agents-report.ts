/**
 * GET /v1/agents (docs/verification.md): every node the coordinator knows, connected or not,
 * with what it serves, its owner's consent, its Proof of Useful Work standing and its energy
 * attestations. Read-only; assembled from D1, the live sockets and the in-memory standings.
 */
import { summarize } from "../../../shared/consent/contract.ts";
import type { SignedConsent } from "../../../shared/consent/signed-consent.ts";
import { type Db, DbError } from "../db/records.ts";
import { consents, nodes } from "../db/schema.ts";
import { energyReport } from "../energy/energy-report.ts";
import { announcedModels, type ReadyAttachment } from "./agent-socket.ts";
import { checkRateOf, reputationOf } from "./verification/check-rate.ts";
import type { NodeRecord, NodeStats } from "./verification/node-stats.ts";

const round = (x: number) => Math.round(x * 1e4) / 1e4;

export async function agentsReport(d1: D1Database, db: Db, stats: NodeStats, live: { attachment: ReadyAttachment }[], gco2PerKwh: number) {
  let known: (typeof nodes.$inferSelect)[];
  let contracts: (typeof consents.$inferSelect)[];
  try {
    known = await db.select().from(nodes);
    contracts = await db.select().from(consents);
  } catch (err) {
    throw new DbError("reading nodes", err);
  }
  const standings = new Map((await stats.all()).map((r) => [r.nodeId, r]));
  const energy = new Map((await energyReport(d1, gco2PerKwh)).nodes.map((n) => [n.node_id, n]));
  const consentOf = new Map(contracts.map((c) => [c.nodeId, (JSON.parse(c.signed) as SignedConsent).body.contract]));
  const connected = new Map(live.map(({ attachment }) => [attachment.nodeId, attachment]));
  const ids = [...new Set([...known.map((n) => n.id), ...standings.keys(), ...connected.keys()])].sort();
  const versionOf = new Map(known.map((n) => [n.id, n]));
  return {
    object: "list",
    data: ids.map((id) => {
      const a = connected.get(id);
      const s: NodeRecord = standings.get(id) ?? stats.get(id);
      const contract = a?.consent ?? consentOf.get(id);
      const e = energy.get(id);
      return {
        node_id: id,
        connected: a !== undefined,
        version: a?.agentVersion ?? versionOf.get(id)?.agentVersion ?? null,
        last_seen_at: versionOf.get(id)?.lastSeenAt ?? null,
        models: a ? announcedModels(a) : [],
        consent: contract ? summarize(contract) : null,
        reputation: round(reputationOf(s)),
        check_rate: round(checkRateOf(s)),
        credits: s.credits,
        steps: s.steps,
        verified_steps: s.verifiedSteps,
        failed_checks: s.failedChecks,
        disputes: s.disputes,
        checks_skipped: s.checksSkipped,
        excluded: s.excludedAt !== null,
        excluded_at: s.excludedAt,
        excluded_reason: s.excludedReason,
        energy: e ? { energy_mj: e.energy_mj, tokens: e.tokens, mj_per_token: e.mj_per_token, grade: e.grade, methods: e.methods } : null,
      };
    }),
  };
}
