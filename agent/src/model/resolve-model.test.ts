import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GgmlType } from "../../../shared/gguf/constants.ts";
import { gv } from "../../../shared/gguf/metadata.ts";
import { writeGguf } from "../../../shared/gguf/writer.ts";
import { BUILTIN_MODEL_ID } from "./builtin.ts";
import { ModelError } from "./errors.ts";
import { resolveModel } from "./resolve-model.ts";

let dir = "";
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function setup(): Promise<string> {
  dir ||= await mkdtemp(join(tmpdir(), "aria-resolve-"));
  return dir;
}

const tiny = (metadata: Parameters<typeof writeGguf>[0]["metadata"]) =>
  writeGguf({ metadata, tensors: [{ name: "w", type: GgmlType.F32, dims: [4], data: new Uint8Array(16) }] });

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "no error";
  } catch (e) {
    return e instanceof ModelError ? e.code : `not a ModelError: ${e}`;
  }
}

describe("resolveModel", () => {
  test("the built-in id resolves into the cache", async () => {
    const d = await setup();
    const r = await resolveModel(BUILTIN_MODEL_ID, join(d, "cache"));
    expect(r).toEqual({ id: BUILTIN_MODEL_ID, path: join(d, "cache", "models", "aria-tiny-random.gguf") });
  });

  test("a path: id from general.name, else the base name", async () => {
    const d = await setup();
    await writeFile(join(d, "named.gguf"), tiny([["general.name", gv.str("bitnet2b")]]));
    await writeFile(join(d, "plain-model.v2.gguf"), tiny([["general.architecture", gv.str("bitnet-b1.58")]]));
    expect(await resolveModel(join(d, "named.gguf"), "/unused")).toEqual({ id: "bitnet2b", path: join(d, "named.gguf") });
    expect((await resolveModel(join(d, "plain-model.v2.gguf"), "/unused")).id).toBe("plain-model.v2");
  });

  test("clear errors for missing, non-file and invalid paths", async () => {
    const d = await setup();
    expect(await codeOf(resolveModel(join(d, "nope.gguf"), "/unused"))).toBe("MODEL_NOT_FOUND");
    await expect(resolveModel(join(d, "nope.gguf"), "/unused")).rejects.toThrow(/model file not found: .*nope\.gguf/);
    expect(await codeOf(resolveModel(d, "/unused"))).toBe("NOT_A_FILE");
    await writeFile(join(d, "junk.gguf"), "this is not a gguf file at all");
    expect(await codeOf(resolveModel(join(d, "junk.gguf"), "/unused"))).toBe("BAD_MODEL");
    const cut = tiny([["general.name", gv.str("x")]]);
    await writeFile(join(d, "cut.gguf"), cut.subarray(0, 40));
    expect(await codeOf(resolveModel(join(d, "cut.gguf"), "/unused"))).toBe("BAD_MODEL");
    await writeFile(join(d, "nodata.gguf"), cut.subarray(0, cut.length - 20));
    expect(await codeOf(resolveModel(join(d, "nodata.gguf"), "/unused"))).toBe("BAD_MODEL");
  });
});
