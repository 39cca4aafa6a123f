/**
 * Reads the GGUF header of a file on disk without reading its tensor data: starts with the first
 * MiB and grows the read until it holds the header (a real 2B-4T header is ~7 MB of vocabulary),
 * then parses it once.
 */
import { open } from "node:fs/promises";
import { GgufError } from "../../../shared/gguf/errors.ts";
import { ggufHeaderLength } from "../../../shared/gguf/header-length.ts";
import { type GgufFile, probeGguf } from "../../../shared/gguf/reader.ts";
import { ModelError } from "./errors.ts";

const FIRST_READ = 1 << 20;
/** No sane header is this large; stop instead of reading a whole multi-GB file. */
const MAX_HEADER_BYTES = 512 << 20;

/** A file's parsed header and its size in bytes. */
export interface GgufFileHeader {
  readonly file: GgufFile;
  readonly size: number;
}

/**
 * Parses the header of the GGUF file at `path`, checking tensor bounds against the file size.
 * Throws ModelError: BAD_MODEL (cause: GgufError) or IO.
 */
export async function readGgufHeaderFile(path: string): Promise<GgufFileHeader> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch (e) {
    throw new ModelError("IO", `cannot open ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const { size } = await handle.stat();
    let want = Math.min(FIRST_READ, size);
    for (;;) {
      const buf = new Uint8Array(want);
      const { bytesRead } = await handle.read(buf, 0, want, 0);
      const head = buf.subarray(0, bytesRead);
      // Grow the read by walking lengths only; the strings are decoded once, when all are in.
      const skim = ggufHeaderLength(head);
      if (skim && "needed" in skim && skim.needed > bytesRead && skim.needed <= Math.min(size, MAX_HEADER_BYTES)) {
        want = Math.min(size, Math.max(skim.needed, 2 * want));
        continue;
      }
      const probe = probeGguf(head, { fileSize: size });
      if (probe.complete) return { file: probe.file, size };
      if (probe.needed > size) {
        throw new GgufError("TRUNCATED", `the header needs at least ${probe.needed} bytes, but the file has ${size}`, probe.needed);
      }
      if (probe.needed > MAX_HEADER_BYTES) throw new GgufError("BAD_METADATA", `the header is larger than ${MAX_HEADER_BYTES} bytes`);
      want = Math.min(size, Math.max(probe.needed, 2 * want));
    }
  } catch (e) {
    if (e instanceof GgufError) throw new ModelError("BAD_MODEL", `${path} is not a valid GGUF model: ${e.message}`, { cause: e });
    if (e instanceof ModelError) throw e;
    throw new ModelError("IO", `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  } finally {
    await handle.close();
  }
}
