/** The raw bun:ffi table of libaria (docs/kernels-abi.md). Use engine.ts, never this, elsewhere. */
import { dlopen, FFIType } from "bun:ffi";

const { i32, u64, ptr, cstring } = FFIType;

export const ARIA_SYMBOLS = {
  aria_status_name: { args: [i32], returns: cstring },
  aria_model_load: { args: [ptr, ptr, ptr, u64], returns: i32 },
  aria_model_free: { args: [ptr], returns: FFIType.void },
  aria_model_info: { args: [ptr, ptr, i32], returns: i32 },
  aria_model_memory: { args: [ptr, ptr, ptr], returns: i32 },
  aria_session_create: { args: [ptr, i32, i32, i32, ptr, ptr, u64], returns: i32 },
  aria_session_free: { args: [ptr], returns: FFIType.void },
  aria_session_truncate: { args: [ptr, i32], returns: i32 },
  aria_session_n_past: { args: [ptr], returns: i32 },
  aria_session_memory: { args: [ptr], returns: FFIType.u64_fast },
  aria_embed: { args: [ptr, ptr, i32, ptr], returns: i32 },
  aria_session_forward: { args: [ptr, ptr, i32, i32, ptr], returns: i32 },
  aria_logits: { args: [ptr, ptr, i32, ptr], returns: i32 },
  aria_model_load_ex: { args: [ptr, i32, ptr, ptr, u64], returns: i32 },
  aria_pool_create: { args: [i32, ptr], returns: i32 },
  aria_pool_free: { args: [ptr], returns: FFIType.void },
  aria_pool_threads: { args: [ptr], returns: i32 },
  aria_shard_create: { args: [ptr, i32, i32, i32, ptr, ptr, u64], returns: i32 },
  aria_shard_free: { args: [ptr], returns: FFIType.void },
  aria_seq_open: { args: [ptr, i32, ptr], returns: i32 },
  aria_seq_close: { args: [ptr, i32], returns: i32 },
  aria_seq_truncate: { args: [ptr, i32, i32], returns: i32 },
  aria_seq_n_past: { args: [ptr, i32], returns: i32 },
  aria_shard_forward: { args: [ptr, ptr, i32, ptr, ptr, ptr, ptr], returns: i32 },
  aria_shard_memory: { args: [ptr], returns: FFIType.u64_fast },
  aria_logits_mt: { args: [ptr, ptr, ptr, i32, ptr], returns: i32 },
  aria_cpu_features: { args: [], returns: FFIType.u32 },
  aria_numerics_version: { args: [], returns: FFIType.u32 },
  aria_model_load_range: { args: [ptr, i32, i32, i32, ptr, ptr, u64], returns: i32 },
} as const;

export type AriaLibrary = ReturnType<typeof dlopen<typeof ARIA_SYMBOLS>>["symbols"];

export function openAriaLibrary(path: string): { symbols: AriaLibrary; close(): void } {
  return dlopen(path, ARIA_SYMBOLS);
}
