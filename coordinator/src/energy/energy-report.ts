/**
 * Proof of Sobriety's report (docs/energy.md): energy per token by node, by model and overall,
 * summed from the signed energy attestations in the log's inference entries — the ledger is the
 * only source, so the report and the ledger always agree. One aggregate query each over the log.
 */

/** mJ per token at or above which each grade ends (the predecessor's A+ below 30 and D from 150). */
export const GRADES: readonly [string, number][] = [
  ["A+", 30],
  ["A", 60],
  ["B", 100],
  ["C", 150],
  ["D", Number.POSITIVE_INFINITY],
];

/** Grid carbon intensity when none is configured, gCO₂ per kWh (a world-average order of magnitude). */
const DEFAULT_GCO2_PER_KWH = 400;

/** The configured grid carbon intensity, gCO₂ per kWh (the default when unset or not a number ≥ 0). */
export function gridIntensity(env: { ARIA_GRID_GCO2_PER_KWH?: string }): number {
  const configured = Number(env.ARIA_GRID_GCO2_PER_KWH);
  return env.ARIA_GRID_GCO2_PER_KWH && Number.isFinite(configured) && configured >= 0 ? configured : DEFAULT_GCO2_PER_KWH;
}

export function gradeOf(mjPerToken: number): string {
  return GRADES.find(([, below]) => mjPerToken < below)![0];
}

interface Figure {
  energy_mj: number;
  tokens: number;
  mj_per_token: number | null;
  grade: string | null;
  co2_g: number;
  /** Energy by measuring method: RAPL counters or CPU-time estimates. */
  methods: Record<string, number>;
}

function figure(mj: number, tokens: number, methods: Record<string, number>, gco2PerKwh: number): Figure {
  const perToken = tokens > 0 ? mj / tokens : null;
  return {
    energy_mj: round(mj),
    tokens,
    mj_per_token: perToken === null ? null : round(perToken),
    grade: perToken === null ? null : gradeOf(perToken),
    // 1 kWh = 3.6e9 mJ.
    co2_g: round((mj / 3.6e9) * gco2PerKwh),
    methods: Object.fromEntries(Object.entries(methods).map(([k, v]) => [k, round(v)])),
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export async function energyReport(db: D1Database, gco2PerKwh: number) {
  const stages = await db
    .prepare(
      `SELECT json_extract(s.value, '$.node') AS node, json_extract(e.entry, '$.model.id') AS model,
              json_extract(s.value, '$.receipt.body.energy_method') AS method,
              SUM(json_extract(s.value, '$.receipt.body.energy_mj')) AS mj,
              SUM(json_extract(s.value, '$.receipt.body.tokens')) AS tokens
       FROM log_entries e, json_each(e.entry, '$.stages') s
       WHERE e.type = 'inference' AND json_type(s.value, '$.receipt') = 'object'
       GROUP BY node, model, method`,
    )
    .all<{ node: string; model: string; method: string; mj: number; tokens: number }>();
  const requests = await db
    .prepare(
      `SELECT json_extract(entry, '$.model.id') AS model, COUNT(*) AS n,
              SUM(json_extract(entry, '$.prompt_tokens') + json_extract(entry, '$.completion_tokens')) AS tokens
       FROM log_entries WHERE type = 'inference' GROUP BY model`,
    )
    .all<{ model: string; n: number; tokens: number }>();

  const byNode = new Map<string, { mj: number; tokens: number; methods: Record<string, number> }>();
  const byModel = new Map<string, { mj: number; methods: Record<string, number> }>();
  const all = { mj: 0, methods: {} as Record<string, number> };
  for (const r of stages.results) {
    const node = byNode.get(r.node) ?? { mj: 0, tokens: 0, methods: {} };
    node.mj += r.mj;
    node.tokens += r.tokens;
    node.methods[r.method] = (node.methods[r.method] ?? 0) + r.mj;
    byNode.set(r.node, node);
    const model = byModel.get(r.model) ?? { mj: 0, methods: {} };
    model.mj += r.mj;
    model.methods[r.method] = (model.methods[r.method] ?? 0) + r.mj;
    byModel.set(r.model, model);
    all.mj += r.mj;
    all.methods[r.method] = (all.methods[r.method] ?? 0) + r.mj;
  }
  const tokensOf = new Map(requests.results.map((r) => [r.model, r]));
  const totalTokens = requests.results.reduce((n, r) => n + r.tokens, 0);
  return {
    object: "energy",
    grid_gco2_per_kwh: gco2PerKwh,
    grades: Object.fromEntries(
      GRADES.map(([g, below], i) => [g, i === GRADES.length - 1 ? `>= ${GRADES[i - 1]![1]} mJ/token` : `< ${below} mJ/token`]),
    ),
    overall: { requests: requests.results.reduce((n, r) => n + r.n, 0), ...figure(all.mj, totalTokens, all.methods, gco2PerKwh) },
    models: [...new Set([...byModel.keys(), ...tokensOf.keys()])].sort().map((id) => ({
      id,
      requests: tokensOf.get(id)?.n ?? 0,
      ...figure(byModel.get(id)?.mj ?? 0, tokensOf.get(id)?.tokens ?? 0, byModel.get(id)?.methods ?? {}, gco2PerKwh),
    })),
    nodes: [...byNode.entries()]
      .sort((a, b) => a[0].localeCompare(b[0]))
      .map(([node_id, n]) => ({ node_id, ...figure(n.mj, n.tokens, n.methods, gco2PerKwh) })),
  };
}
