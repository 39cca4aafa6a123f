import { describe, expect, test } from "bun:test";
import { crc32 } from "../crypto/crc32.ts";
import { decodeFrame, encodeFrame, FLAG_FINAL, FRAME_HEADER_BYTES, peekFrameHeader } from "./frame.ts";

describe("activation frame", () => {
  const header = { session: 7, fromStage: 1, flags: FLAG_FINAL, pos0: 12, rows: 3, width: 5 };
  const data = Float32Array.from({ length: 15 }, (_, i) => Math.fround(i * 0.1 - 0.7));

  test("round trip keeps every bit of every value", () => {
    const special = data.slice();
    special[0] = -0;
    special[1] = Number.MIN_VALUE;
    special[2] = 3.4028234663852886e38;
    const frame = decodeFrame(encodeFrame(header, special));
    expect(frame).toMatchObject(header);
    expect(new Uint8Array(frame.data.buffer)).toEqual(new Uint8Array(special.buffer));
  });

  test("the header can be read without the payload; garbage is not a frame", () => {
    expect(peekFrameHeader(encodeFrame(header, data))).toEqual(header);
    expect(peekFrameHeader(new Uint8Array(40))).toBeNull();
    expect(peekFrameHeader(new TextEncoder().encode("{}"))).toBeNull();
  });

  test("corruption and size mismatches are detected", () => {
    const bytes = encodeFrame(header, data);
    const flipped = bytes.slice();
    flipped[FRAME_HEADER_BYTES + 5]! ^= 1;
    expect(() => decodeFrame(flipped)).toThrow(/checksum/);
    expect(() => decodeFrame(bytes.slice(0, bytes.length - 4))).toThrow(/bytes/);
    expect(() => encodeFrame({ ...header, rows: 4 }, data)).toThrow(/length/);
  });

  test("CRC-32 matches the standard check value", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });
});
