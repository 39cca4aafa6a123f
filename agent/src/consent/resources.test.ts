import { expect, test } from "bun:test";
import { parseContract } from "../../../shared/consent/contract.ts";
import type { ModelFootprint } from "../model/footprint.ts";
import { BandwidthLimiter } from "../serve/bandwidth.ts";
import { fitRange, resourceLimits } from "./resources.ts";

const MB = 2 ** 20;
const machine = { cores: 8, freeBytes: 64 * 1024 * MB };
/** 30 layers of 40 MB, a 300 MB embedding, a 160 MB Q8_0 head. */
const model: ModelFootprint = {
  nLayers: 30,
  layerBytes: new Array(30).fill(40 * MB),
  embeddingBytes: 300 * MB,
  outputNormBytes: 0,
  headBytes: 160 * MB,
  tiedHeadAsIs: false,
};

test("cpu_percent sizes the threads, max_concurrent_tasks the sessions", () => {
  const limits = resourceLimits(parseContract({ cpu_percent: 50, max_concurrent_tasks: 2 }), machine, { maxSessions: 4 }, model);
  expect(limits.threads).toBe(4);
  expect(limits.maxSessions).toBe(2);
  expect(resourceLimits(parseContract({ cpu_percent: 50 }), machine, { threads: 2, maxSessions: 4 }, model).threads).toBe(2);
});

test("max_ram_mb limits the layers held (40 MB a layer here), and so does free memory", () => {
  expect(resourceLimits(parseContract({ max_ram_mb: 400 }), machine, { maxSessions: 4 }, model).maxLayers).toBe(10);
  expect(resourceLimits(parseContract({ max_ram_mb: 100_000 }), machine, { maxSessions: 4 }, model).maxLayers).toBe(30);
  expect(resourceLimits(parseContract({ max_ram_mb: 30 }), machine, { maxSessions: 4 }, model).maxLayers).toBe(0);
  expect(resourceLimits(parseContract({ max_ram_mb: 4096 }), { cores: 8, freeBytes: 250 * MB }, { maxSessions: 4 }, model).maxLayers).toBe(
    5,
  );
});

test("a range at an end is shortened until its layers and the embedding or head fit", () => {
  // Middle: 10 layers = 400 MB fit 400 MB.
  expect(fitRange(model, { layerBegin: 10, layerEnd: 20 }, 400 * MB)).toEqual({ layerBegin: 10, layerEnd: 20 });
  // First stage: 300 MB of embedding leave room for 2 layers.
  expect(fitRange(model, { layerBegin: 0, layerEnd: 10 }, 400 * MB)).toEqual({ layerBegin: 0, layerEnd: 2 });
  // Last stage: shortening from the end drops the head too: 10 middle layers fit.
  expect(fitRange(model, { layerBegin: 20, layerEnd: 30 }, 400 * MB)).toEqual({ layerBegin: 20, layerEnd: 29 });
  expect(fitRange(model, { layerBegin: 0, layerEnd: 10 }, 320 * MB)).toBeNull();
});

test("max_bandwidth_mbps paces frames: 375 kB at 1 Mbit/s (125 kB/s) leave over at least 1.5 s", async () => {
  const limiter = new BandwidthLimiter(1); // 125,000 bytes/s
  const started = performance.now();
  for (let i = 0; i < 6; i++) await limiter.take(62_500);
  const elapsed = performance.now() - started;
  // The bucket starts with one second's worth (125,000 B) and a frame may go once the bucket is not
  // in debt, so the last 62,500 B frame leaves when 375,000 − 125,000 − 62,500 B have been earned: 1.5 s.
  expect(elapsed).toBeGreaterThanOrEqual(1_450);
  expect(elapsed).toBeLessThan(3_000);
  // Unlimited in practice at the default rate: the same traffic at 100 Mbit/s goes at once.
  const fast = new BandwidthLimiter(100);
  const t0 = performance.now();
  for (let i = 0; i < 6; i++) await fast.take(62_500);
  expect(performance.now() - t0).toBeLessThan(200);
});
