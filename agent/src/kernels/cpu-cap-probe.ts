/**
 * Child process of cpu-cap.test.ts: prints the CPU features the library uses (after ARIA_CPU's
 * cap) and a SHA-256 of the built-in model's logits for a fixed prompt, as JSON.
 *
 *   ARIA_CPU=avx2 bun agent/src/kernels/cpu-cap-probe.ts <model.gguf>
 */
import { createHash } from "node:crypto";
import { Kernels } from "./engine.ts";
import { kernelLibraryPath } from "./library-path.ts";

const kernels = Kernels.open(kernelLibraryPath(process.env.ARIA_KERNELS_LIB));
const model = kernels.loadModel(process.argv[2]!, { head: "q8_0" });
const tokens = Array.from({ length: 24 }, (_, i) => (i * 37) % model.info.nVocab);
const session = model.createSession(0, model.info.nLayer, tokens.length);
const logits = model.logits(session.forward(model.embed(tokens), tokens.length, 0), tokens.length);
session.close();
const digest = createHash("sha256")
  .update(new Uint8Array(logits.buffer, logits.byteOffset, logits.byteLength))
  .digest("hex");
console.log(JSON.stringify({ features: kernels.lib.aria_cpu_features(), digest }));
model.close();
