/**
 * The live dashboard's feed (docs/dashboard.md, "The live feed"): viewers' WebSockets held by the
 * Swarm with the hibernation API (tag `dashboard`), one snapshot pushed a second while anyone
 * watches. The Swarm's memory gives the live part; D1 parts (energy, ledger, exclusions) are read
 * at most every 5 s. Viewers send nothing; whatever they send is ignored.
 */
import { summarize } from "../../../shared/consent/contract.ts";
import { energyReport } from "../energy/energy-report.ts";
import { announcedModels, type ReadyAttachment } from "../swarm/agent-socket.ts";
import { reputationOf } from "../swarm/verification/check-rate.ts";
import type { NodeStats } from "../swarm/verification/node-stats.ts";
import { type LedgerSummary, ledgerSummary } from "./ledger-summary.ts";

export const DASHBOARD_TAG = "dashboard";
const PUSH_EVERY_MS = 1_000;
const SLOW_EVERY_MS = 5_000;
const THROUGHPUT_SECONDS = 120;

/** What the feed reads from the Swarm. */
export interface FeedSource {
  agents(): { attachment: ReadyAttachment; sessions: number }[];
  requests(): { in_flight: number; queued: number };
  coverage(): { model: string; sha256: string; n_layers: number; replicas: number[] }[];
  stats: NodeStats;
  db: D1Database;
  gco2PerKwh: number;
}

interface SlowParts {
  at: number;
  energy: Map<string, { mj_per_token: number | null; grade: string | null }>;
  ledger: LedgerSummary | null;
  excluded: { node_id: string; reason: string | null; at: number | null }[];
}

export class DashboardFeed {
  /** Tokens generated per unix second, for the last THROUGHPUT_SECONDS. */
  private readonly throughput = new Map<number, number>();
  private ticker: ReturnType<typeof setInterval> | null = null;
  private slow: SlowParts | null = null;
  private slowLoading: Promise<SlowParts> | null = null;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly source: FeedSource,
  ) {}

  /** Accept a viewer's WebSocket upgrade. */
  accept(): Response {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [DASHBOARD_TAG]);
    void this.snapshot()
      .then((s) => server.send(JSON.stringify(s)))
      .catch((err) => console.error("dashboard: first snapshot failed", err));
    this.ensureTicker();
    return new Response(null, { status: 101, webSocket: client });
  }

  isViewer(ws: WebSocket): boolean {
    return this.ctx.getTags(ws).includes(DASHBOARD_TAG);
  }

  /** A token was generated (for the tokens/s series). */
  tokens(n: number, now = Date.now()): void {
    const second = Math.floor(now / 1000);
    this.throughput.set(second, (this.throughput.get(second) ?? 0) + n);
  }

  /** The ledger changed (a new checkpoint): refresh its part on the next push. */
  ledgerChanged(): void {
    if (this.slow) this.slow.at = 0;
  }

  /** Push every second while anyone watches (restarted by the Swarm's alarm after an eviction). */
  ensureTicker(): void {
    if (this.ticker || this.viewers().length === 0) return;
    this.ticker = setInterval(() => void this.push(), PUSH_EVERY_MS);
  }

  async snapshot(now = Date.now()) {
    const slow = await this.slowParts(now);
    const second = Math.floor(now / 1000);
    for (const s of this.throughput.keys()) if (s <= second - THROUGHPUT_SECONDS) this.throughput.delete(s);
    const throughput: [number, number][] = [];
    for (let s = second - THROUGHPUT_SECONDS + 1; s <= second; s++) throughput.push([s, this.throughput.get(s) ?? 0]);
    return {
      type: "snapshot" as const,
      at: now,
      requests: this.source.requests(),
      throughput,
      nodes: this.source.agents().map(({ attachment: a, sessions }) => {
        const st = this.source.stats.get(a.nodeId);
        const e = slow.energy.get(a.nodeId);
        return {
          node_id: a.nodeId,
          version: a.agentVersion,
          models: announcedModels(a),
          consent: summarize(a.consent),
          sessions,
          reputation: Math.round(reputationOf(st) * 1e4) / 1e4,
          credits: st.credits,
          verified_steps: st.verifiedSteps,
          excluded: st.excludedAt !== null,
          mj_per_token: e?.mj_per_token ?? null,
          grade: e?.grade ?? null,
        };
      }),
      excluded: slow.excluded,
      coverage: this.source.coverage(),
      ledger: slow.ledger,
    };
  }

  private viewers(): WebSocket[] {
    return this.ctx.getWebSockets(DASHBOARD_TAG);
  }

  private async push(): Promise<void> {
    const viewers = this.viewers();
    if (viewers.length === 0) {
      if (this.ticker) clearInterval(this.ticker);
      this.ticker = null;
      return;
    }
    let text: string;
    try {
      text = JSON.stringify(await this.snapshot());
    } catch (err) {
      console.error("dashboard: snapshot failed", err);
      return;
    }
    for (const ws of viewers) {
      try {
        ws.send(text);
      } catch {
        // a viewer that went away; its close event cleans up
      }
    }
  }

  /** Energy, ledger and exclusions from D1, at most every SLOW_EVERY_MS (one read in flight). */
  private async slowParts(now: number): Promise<SlowParts> {
    if (this.slow && now - this.slow.at < SLOW_EVERY_MS) return this.slow;
    this.slowLoading ??= this.loadSlow(now).finally(() => {
      this.slowLoading = null;
    });
    try {
      this.slow = await this.slowLoading;
    } catch (err) {
      console.error("dashboard: reading D1 failed", err);
      if (!this.slow) this.slow = { at: now, energy: new Map(), ledger: null, excluded: [] };
    }
    return this.slow;
  }

  private async loadSlow(now: number): Promise<SlowParts> {
    const [energy, ledger, records] = await Promise.all([
      energyReport(this.source.db, this.source.gco2PerKwh),
      ledgerSummary(this.source.db),
      this.source.stats.all(),
    ]);
    return {
      at: now,
      energy: new Map(energy.nodes.map((n) => [n.node_id, { mj_per_token: n.mj_per_token, grade: n.grade }])),
      ledger: ledger.root === null ? null : ledger,
      excluded: records
        .filter((r) => r.excludedAt !== null)
        .map((r) => ({ node_id: r.nodeId, reason: r.excludedReason, at: r.excludedAt })),
    };
  }
}
