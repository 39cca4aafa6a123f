// The llama.cpp side of the oracle tests, run under Node (node-llama-cpp is a Node addon; the ARIA
// engine runs in Bun through bun:ffi, so the Bun test spawns this script).
//
//   node tests/oracle/llama-oracle.mjs REQUEST.json      -> one JSON object on stdout
//
// REQUEST: { model, threads?, tokenize?: [{ text, special }], sequences?: [[token ids]], top? }
// ANSWER:  { vocab: { bos, eos, eot, addBos }, tokenize: [[ids]],
//            sequences: [{ argmax: [id per position], top: [[[id, logit - max logit] × top]] }] }
//
// Teacher forcing: each sequence is decoded in one batch with logits for every position; the next
// token is llama.cpp's greedy choice (temperature 0) and `top` are its highest log-probabilities,
// which equal logit differences to the best logit (log p_i − log p_max = l_i − l_max).
// Uses the prebuilt CPU binary only (gpu: false, build: "never"): no compiler, no network.
import { readFileSync } from "node:fs";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const request = JSON.parse(readFileSync(process.argv[2], "utf8"));
const llama = await getLlama({
  gpu: false,
  build: "never",
  usePrebuiltBinaries: true,
  progressLogs: false,
  logLevel: LlamaLogLevel.error,
  logger: (level, message) => process.stderr.write(`llama.cpp [${level}] ${message}\n`),
});
const model = await llama.loadModel({ modelPath: request.model, gpuLayers: 0, useMmap: true });
try {
  const answer = {
    vocab: {
      bos: model.tokens.bos,
      eos: model.tokens.eos,
      eot: model.tokens.eot,
      addBos: model.tokens.shouldPrependBosToken,
    },
    tokenize: (request.tokenize ?? []).map(({ text, special }) => model.tokenize(text, special)),
    sequences: [],
  };
  const sequences = request.sequences ?? [];
  if (sequences.length > 0) {
    const longest = Math.max(...sequences.map((s) => s.length));
    const context = await model.createContext({
      contextSize: longest,
      batchSize: longest,
      sequences: 1,
      threads: request.threads ?? 1,
      flashAttention: false,
    });
    try {
      const top = request.top ?? 8;
      for (const tokens of sequences) {
        const sequence = context.getSequence();
        const input = tokens.map((t) => [t, { generateNext: { token: true, probabilities: true, options: { temperature: 0 } } }]);
        const out = await sequence.controlledEvaluate(input);
        const argmax = [];
        const tops = [];
        for (let i = 0; i < tokens.length; i++) {
          const next = out[i]?.next;
          if (next?.token == null || next.probabilities == null) throw new Error(`no output for position ${i}`);
          argmax.push(next.token);
          const entries = [...next.probabilities.entries()].slice(0, top);
          const pMax = entries[0][1];
          tops.push(entries.map(([id, p]) => [id, Math.log(p) - Math.log(pMax)]));
        }
        answer.sequences.push({ argmax, top: tops });
        await sequence.dispose();
      }
    } finally {
      await context.dispose();
    }
  }
  process.stdout.write(JSON.stringify(answer));
} finally {
  await model.dispose();
  await llama.dispose();
}
