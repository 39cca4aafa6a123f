// report.md and its SVG charts from the measured report object (benchmarks/report.mjs).
import { barChart, lineChart } from "./charts.mjs";

/** The predecessor's published table: bitnet.cpp I2_S on a Ryzen 9 7845HX, 8 threads. */
export const PREDECESSOR = {
  machine: "AMD Ryzen 9 7845HX, 8 threads, bitnet.cpp I2_S",
  shapes: {
    large: { name: "bitnet_b1_58-large", params: "0.7B", tokens_per_s: 89.65, mj_per_token: 11 },
    "2b4t": { name: "BitNet-b1.58-2B-4T", params: "2.4B", tokens_per_s: 36.94, mj_per_token: 28 },
    "8b": { name: "Llama3-8B-1.58", params: "8.0B", tokens_per_s: 15.03, mj_per_token: 66 },
  },
  threeStreamsGain: 0.11,
  context32To1024: -0.07,
};

const MiB = 2 ** 20;
const f = (v, d = 1) => (v == null || Number.isNaN(v) ? "—" : v.toFixed(d));
const pct = (v) => `${v >= 0 ? "+" : "−"}${Math.abs(100 * v).toFixed(0)} %`;

function pick(m, kind, threads, n) {
  return m.rows.find((r) => r.kind === kind && (threads === undefined || r.threads === threads) && (n === undefined || r.n === n));
}

function table(head, rows) {
  return [`| ${head.join(" | ")} |`, `| ${head.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

export function renderReport(report) {
  const { machine: mc, plan, shapes, formats } = report;
  const all = Math.max(...plan.threads);
  const charts = {};
  const energyNote = (m) =>
    m.energy.method === "rapl"
      ? "RAPL package energy, shared by CPU time"
      : `estimate: CPU time × ${m.energy.watts_per_core} W per busy core (no readable RAPL counters)`;
  const tier = mc.cpu_cap ? `capped to ${mc.cpu_cap} (ARIA_CPU=${mc.cpu_cap})` : "the best this CPU has";
  const lines = [];
  lines.push(`# ARIA benchmark report: ${mc.cpu}, ${mc.logical_cpus} logical CPUs${mc.cpu_cap ? `, ${mc.cpu_cap} tier` : ""}`);
  lines.push("");
  if (report.quick) lines.push("**Quick run (`--quick`): tiny shapes and few tokens; these figures check the harness only.**\n");
  lines.push(
    `Measured ${report.date} at ${mc.commit ?? "an unknown commit"} with \`${report.command}\` (${f(report.minutes, 1)} minutes). ` +
      `CPU: ${mc.cpu}, ${mc.logical_cpus} logical CPUs, ${mc.memory_gib} GiB RAM, ${mc.os}; SIMD flags ${mc.simd.join(", ")}. ` +
      `ARIA's kernels ran ${tier}: features ${mc.aria_features.join(", ")}. Load average ${f(mc.load_average_start[0], 2)} at the start, ` +
      `${f(mc.load_average_end[0], 2)} at the end. Models: the published layouts at their exact shapes with random ternary weights ` +
      "(I2_S, as bitnet.cpp writes them), the output head requantized to Q8_0 (ARIA's default). A decode figure is the " +
      "fastest of 3 consecutive windows of steps after 2 untimed ones (embedding + all layers + logits per token); prefill is one call.",
  );
  lines.push("");

  // --- model shapes -------------------------------------------------------------------------------
  lines.push("## Tokens per second by model shape");
  lines.push("");
  const shapeRows = plan.shapes.map((k) => {
    const m = shapes[k];
    const p = PREDECESSOR.shapes[k];
    return [
      `${p.name} (${p.params})`,
      f(pick(m, "decode", 1)?.tokens_per_s, 2),
      f(pick(m, "decode", all)?.tokens_per_s, 2),
      f(pick(m, "prefill", all)?.tokens_per_s, 1),
      f(pick(m, "decode", all)?.mj_per_token, 0),
      `${f(m.peak_rss / MiB, 0)} MiB`,
      `${f(p.tokens_per_s, 2)} tok/s, ~${p.mj_per_token} mJ`,
    ];
  });
  lines.push(
    table(
      [
        "model",
        "decode, 1 thread",
        `decode, ${all} threads`,
        `prefill, ${all} threads`,
        `mJ/token (${all} thr)`,
        "peak RSS",
        "predecessor (8 threads)",
      ],
      shapeRows,
    ),
  );
  lines.push("");
  lines.push(
    `Decode and prefill in tokens/s (prefill: ${plan.prefillTokens} tokens in one call, ${plan.prefillTokens8b} for 8B). ` +
      `Energy: ${energyNote(shapes["2b4t"])}. The predecessor's column is its published table (${PREDECESSOR.machine}), a different machine: compare shapes, not rows.`,
  );
  lines.push("");
  charts["shapes.svg"] = barChart({
    title: "Decode tokens/s by model shape",
    yLabel: "tokens/s",
    groups: plan.shapes.map((k) => PREDECESSOR.shapes[k].name),
    series: [1, all]
      .filter((t, i, a) => a.indexOf(t) === i)
      .map((t) => ({
        name: `${t} thread${t > 1 ? "s" : ""}`,
        values: plan.shapes.map((k) => pick(shapes[k], "decode", t)?.tokens_per_s ?? null),
      })),
  });
  lines.push("![decode tokens/s by model shape](shapes.svg)");
  lines.push("");

  // --- threads --------------------------------------------------------------------------------------
  const s2 = shapes["2b4t"];
  lines.push("## Thread scaling (2B-4T)");
  lines.push("");
  const d1 = pick(s2, "decode", 1)?.tokens_per_s;
  const p1 = pick(s2, "prefill", 1)?.tokens_per_s;
  lines.push(
    table(
      ["threads", "decode tok/s", "× 1 thread", "prefill tok/s", "× 1 thread"],
      plan.threads.map((t) => {
        const d = pick(s2, "decode", t)?.tokens_per_s;
        const p = pick(s2, "prefill", t)?.tokens_per_s;
        return [String(t), f(d, 2), `${f(d / d1, 2)}×`, f(p, 1), `${f(p / p1, 2)}×`];
      }),
    ),
  );
  lines.push("");
  charts["threads.svg"] = lineChart({
    title: "2B-4T: tokens/s by thread count",
    yLabel: "tokens/s",
    xLabel: "threads",
    xs: plan.threads,
    series: [
      { name: "decode", values: plan.threads.map((t) => pick(s2, "decode", t)?.tokens_per_s ?? null) },
      { name: "prefill", values: plan.threads.map((t) => pick(s2, "prefill", t)?.tokens_per_s ?? null) },
    ],
  });
  lines.push("![thread scaling](threads.svg)");
  lines.push("");

  // --- streams --------------------------------------------------------------------------------------
  lines.push(`## Parallel streams (2B-4T, ${all} threads)`);
  lines.push("");
  const one = pick(s2, "streams", all, 1)?.tokens_per_s;
  lines.push(
    table(
      ["streams", "aggregate tok/s", "per stream", "vs 1 stream"],
      plan.streams.map((n) => {
        const v = pick(s2, "streams", all, n)?.tokens_per_s;
        return [String(n), f(v, 2), f(v / n, 2), `${f(v / one, 2)}×`];
      }),
    ),
  );
  lines.push("");
  const three = pick(s2, "streams", all, 3)?.tokens_per_s;
  lines.push(
    `N sequences decoded together, one row each per call (every weight read once per step for all of them): 3 streams give ` +
      `${pct(three / one - 1)} aggregate throughput over one; the predecessor reported ${pct(PREDECESSOR.threeStreamsGain)} for 3 concurrent streams.`,
  );
  lines.push("");
  charts["streams.svg"] = barChart({
    title: "2B-4T: aggregate decode tokens/s by streams",
    yLabel: "tokens/s",
    groups: plan.streams.map(String),
    series: [{ name: `${all} threads`, values: plan.streams.map((n) => pick(s2, "streams", all, n)?.tokens_per_s ?? null) }],
  });
  lines.push("![parallel streams](streams.svg)");
  lines.push("");

  // --- context --------------------------------------------------------------------------------------
  lines.push(`## Context length (2B-4T, ${all} threads)`);
  lines.push("");
  const c0 = pick(s2, "context", all, plan.context[0])?.tokens_per_s;
  lines.push(
    table(
      ["context (tokens before)", "decode tok/s", `vs ${plan.context[0]}`],
      plan.context.map((n) => {
        const v = pick(s2, "context", all, n)?.tokens_per_s;
        return [String(n), f(v, 2), pct(v / c0 - 1)];
      }),
    ),
  );
  lines.push("");
  const cLast = pick(s2, "context", all, plan.context.at(-1))?.tokens_per_s;
  lines.push(
    `Decode speed after a prompt of that many tokens (prefilled in chunks of 128, untimed): ${plan.context[0]} → ${plan.context.at(-1)} changes it by ` +
      `${pct(cLast / c0 - 1)}; the predecessor reported ${pct(PREDECESSOR.context32To1024)} from 32 to 1024.`,
  );
  lines.push("");
  charts["context.svg"] = lineChart({
    title: "2B-4T: decode tokens/s by context length",
    yLabel: "tokens/s",
    xLabel: "tokens already in the context",
    xs: plan.context,
    series: [{ name: `${all} threads`, values: plan.context.map((n) => pick(s2, "context", all, n)?.tokens_per_s ?? null) }],
  });
  lines.push("![context length](context.svg)");
  lines.push("");

  // --- energy ---------------------------------------------------------------------------------------
  lines.push("## Energy per token");
  lines.push("");
  lines.push(
    table(
      ["model", "mJ/token, 1 thread", `mJ/token, ${all} threads`, "method", "predecessor"],
      plan.shapes.map((k) => [
        PREDECESSOR.shapes[k].name,
        f(pick(shapes[k], "decode", 1)?.mj_per_token, 0),
        f(pick(shapes[k], "decode", all)?.mj_per_token, 0),
        shapes[k].energy.method,
        `~${PREDECESSOR.shapes[k].mj_per_token} mJ (CPU time × TDP)`,
      ]),
    ),
  );
  lines.push("");
  lines.push(
    `Measured by the agent's own meter around each decode step (${energyNote(shapes["2b4t"])}); the predecessor's figures were CPU time × TDP estimates too.`,
  );
  lines.push("");
  const d2 = pick(s2, "decode", all);
  const p2 = PREDECESSOR.shapes["2b4t"];
  lines.push(
    `Energy per token × tokens per second is the average power: ARIA's 2B-4T figures imply ${f((d2.mj_per_token * d2.tokens_per_s) / 1000, 1)} W ` +
      `on ${all} busy threads, the predecessor's ${f((p2.mj_per_token * p2.tokens_per_s) / 1000, 1)} W on 8, which no 8-thread CPU draws under load: ` +
      "its energy column is not a measurement to compare with.",
  );
  lines.push("");
  charts["energy.svg"] = barChart({
    title: "Decode energy per token (mJ)",
    yLabel: "mJ/token",
    groups: plan.shapes.map((k) => PREDECESSOR.shapes[k].name),
    series: [
      { name: `ARIA, ${all} threads`, values: plan.shapes.map((k) => pick(shapes[k], "decode", all)?.mj_per_token ?? null) },
      { name: "predecessor", values: plan.shapes.map((k) => PREDECESSOR.shapes[k].mj_per_token) },
    ],
  });
  lines.push("![energy per token](energy.svg)");
  lines.push("");

  // --- memory per format ----------------------------------------------------------------------------
  lines.push("## Peak memory per format (2B-4T)");
  lines.push("");
  lines.push(
    table(
      ["format", "head", "file", "library: mapped", "library: allocated", "peak RSS", `decode tok/s (${all} thr)`],
      formats.map((x) => [
        x.format.toUpperCase(),
        x.head.toUpperCase(),
        `${f(x.file_bytes / MiB, 0)} MiB`,
        `${f(x.memory.mapped / MiB, 0)} MiB`,
        `${f(x.memory.allocated / MiB, 0)} MiB`,
        `${f(x.peak_rss / MiB, 0)} MiB`,
        f(pick(x, "decode", all)?.tokens_per_s, 2),
      ]),
    ),
  );
  lines.push("");
  lines.push(
    "Peak RSS (VmHWM) of a process that loads the file, decodes 8 tokens and prefills a prompt: Bun, the library and the model. " +
      "The Q8_0 head is requantized from the file's F16 one at load and the F16 copy is not kept.",
  );
  lines.push("");
  charts["memory.svg"] = barChart({
    title: "2B-4T: peak RSS by format and head (MiB)",
    yLabel: "MiB",
    groups: formats.map((x) => `${x.format.toUpperCase()} ${x.head.toUpperCase()} head`),
    series: [{ name: "peak RSS", values: formats.map((x) => x.peak_rss / MiB) }],
  });
  lines.push("![peak memory per format](memory.svg)");
  lines.push("");
  return { markdown: `${lines.join("\n")}\n`, charts };
}
