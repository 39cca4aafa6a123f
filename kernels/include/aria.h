/*
 * aria.h - the one public header of libaria, the ARIA BitNet b1.58 inference kernels.
 *
 * Contract (docs/kernels-abi.md):
 *  - Every function that can fail returns int status: ARIA_OK (0) or a negative aria_status.
 *  - Functions that open resources take (char *err, size_t err_len) and write a one-line,
 *    NUL-terminated message there on failure (empty string on success).
 *  - The library never prints, exits or aborts, and keeps no mutable global state.
 *  - A loaded model is immutable: any number of sessions (and threads) may share it, but the model
 *    must outlive its sessions. A session is used by one thread at a time.
 *  - Float buffers are row-major; shapes are given as [rows][cols].
 *
 * Example:
 *   aria_model *m; char err[256];
 *   if (aria_model_load("model.gguf", &m, err, sizeof err) != ARIA_OK) { report(err); }
 */
#ifndef ARIA_H
#define ARIA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define ARIA_API __attribute__((visibility("default")))
#else
#define ARIA_API
#endif

/* Status codes; stable numbers and names (aria_status_name). */
typedef enum aria_status {
    ARIA_OK = 0,
    ARIA_E_INVALID_ARG = -1,     /* NULL pointer, negative count, bad layer range */
    ARIA_E_IO = -2,              /* open / stat / mmap failed */
    ARIA_E_BAD_MAGIC = -3,       /* not a GGUF file */
    ARIA_E_BAD_VERSION = -4,     /* GGUF version other than 2 or 3 */
    ARIA_E_TRUNCATED = -5,       /* a header, metadata or tensor read would pass the end of file */
    ARIA_E_BAD_METADATA = -6,    /* wrong value type, missing required key, absurd hyperparameter */
    ARIA_E_BAD_TENSOR = -7,      /* bad dims, misaligned/overlapping data, wrong shape/type */
    ARIA_E_MISSING_TENSOR = -8,  /* a tensor the architecture needs is absent */
    ARIA_E_UNSUPPORTED = -9,     /* unknown architecture or tensor type */
    ARIA_E_NOMEM = -10,          /* allocation failed */
    ARIA_E_RANGE = -11,          /* position / context / token id out of range */
    ARIA_E_NOT_LOADED = -12      /* the part of the model this needs was not loaded (range load) */
} aria_status;

/* Slots filled by aria_model_info. */
typedef enum aria_info {
    ARIA_INFO_N_VOCAB = 0,
    ARIA_INFO_N_EMBD = 1,
    ARIA_INFO_N_LAYER = 2,
    ARIA_INFO_N_HEAD = 3,
    ARIA_INFO_N_HEAD_KV = 4,
    ARIA_INFO_HEAD_DIM = 5,
    ARIA_INFO_N_FF = 6,
    ARIA_INFO_N_CTX_TRAIN = 7,
    ARIA_INFO_ARCH = 8,    /* ARIA_ARCH_* */
    ARIA_INFO_FFN_ACT = 9, /* ARIA_ACT_* */
    ARIA_INFO_COUNT = 10
} aria_info;

/* general.architecture values understood by the loader. */
typedef enum aria_arch {
    ARIA_ARCH_BITNET_B158 = 1, /* "bitnet-b1.58" (bitnet.cpp fork; official 2B-4T GGUF) */
    ARIA_ARCH_BITNET_25 = 2,   /* "bitnet-25" (earlier 2B-4T revision) */
    ARIA_ARCH_BITNET = 3,      /* "bitnet" (upstream llama.cpp; 1bitLLM models) */
    ARIA_ARCH_LLAMA = 4        /* "llama" with ternary BitLinear weights and no sub-norms
                                  (Llama3-8B-1.58, Falcon3-*-1.58bit as bitnet.cpp writes them) */
} aria_arch;

/* FFN activation: m = act(gate) * up. */
typedef enum aria_act {
    ARIA_ACT_RELU2 = 1, /* relu(g)^2: bitnet-b1.58, bitnet-25 */
    ARIA_ACT_SILU = 2   /* g * sigmoid(g): bitnet */
} aria_act;

typedef struct aria_model aria_model;
typedef struct aria_session aria_session;

/* Stable name of a status, e.g. aria_status_name(-5) == "ARIA_E_TRUNCATED"; "ARIA_E_UNKNOWN" for
   any other value. Never NULL. */
ARIA_API const char *aria_status_name(int status);

/* Load a GGUF v3 (or v2) file: read it into huge-page-advised memory (mmap as a fallback; see
   docs/kernels-abi.md "Loading"), validate every offset and size, bind the tensors.
   On failure *out is NULL and err holds a message naming the key/tensor/offset involved. */
ARIA_API int aria_model_load(const char *path, aria_model **out, char *err, size_t err_len);
/* Release the file image and free. NULL is a no-op. Free the model's sessions and shards
   first. */
ARIA_API void aria_model_free(aria_model *model);

/* Output-head representation chosen at load time (aria_model_load_ex, aria_model_load_range). */
typedef enum aria_head_type {
    ARIA_HEAD_AS_IS = 0, /* use the file's tensor as it is (aria_model_load) */
    ARIA_HEAD_Q8_0 = 1   /* F32/F16/BF16 head: requantize to Q8_0 on the heap (~0.53 bytes per
                            weight instead of 2 for F16); logits then use int8 x int8 dots
                            per 32-block. A Q8_0 head is kept as is. */
} aria_head_type;

/* aria_model_load with a choice of output-head representation. The embedding rows are always
   read from the file, also when the head is tied to them. The Q8_0 copy is counted in
   aria_model_memory's allocated bytes. ARIA_E_INVALID_ARG for an unknown head_type.
   Example: aria_model_load_ex("model.gguf", ARIA_HEAD_Q8_0, &m, err, sizeof err); */
ARIA_API int aria_model_load_ex(const char *path, int32_t head_type, aria_model **out, char *err,
                                size_t err_len);

/* Loads only what layers [layer_begin, layer_end) need (layer_end -1: through the last layer):
   those layers' weights, the token embedding only when layer_begin is 0, the final norm and the
   output head (requantized per head_type) only when the range ends at the last layer. The
   file's bytes for them are copied into memory and the file is unmapped, so memory is about the
   range's share of the weights. Shards outside the range, aria_embed without the embedding and
   aria_logits without the head fail with ARIA_E_NOT_LOADED. ARIA_E_INVALID_ARG for an empty or
   out-of-bounds range; ARIA_E_NOMEM when the range's bytes cannot be allocated.
   Example (the second half of a 30-layer model, as a last pipeline stage):
     aria_model_load_range("model.gguf", ARIA_HEAD_Q8_0, 15, 30, &m, err, sizeof err); */
ARIA_API int aria_model_load_range(const char *path, int32_t head_type, int32_t layer_begin,
                                   int32_t layer_end, aria_model **out, char *err, size_t err_len);

/* Hyperparameters as int32 slots (ARIA_INFO_*); fills min(n, ARIA_INFO_COUNT) slots. */
ARIA_API int aria_model_info(const aria_model *model, int32_t *out, int32_t n);
/* Bytes mapped from the file (0 once the model's tensors are copied into memory and the file is
   unmapped — the usual case; the file's size when memory for the copy could not be had) and
   bytes allocated on the heap for this model (the copied weights included). */
ARIA_API int aria_model_memory(const aria_model *model, uint64_t *mapped, uint64_t *allocated);

/* A session is one sequence's state for layers [layer_begin, layer_end): its KV cache
   ([layer][n_ctx][kv_dim] binary16 for K and V) and scratch buffers.
   Requires 0 <= layer_begin < layer_end <= n_layer (ARIA_E_INVALID_ARG) and
   1 <= n_ctx <= n_ctx_train (ARIA_E_RANGE). */
ARIA_API int aria_session_create(const aria_model *model, int32_t layer_begin, int32_t layer_end,
                                 int32_t n_ctx, aria_session **out, char *err, size_t err_len);
/* NULL is a no-op. */
ARIA_API void aria_session_free(aria_session *session);
/* Keep positions [0, n_past) in the cache and drop the rest; 0 resets.
   ARIA_E_RANGE if n_past is larger than the current n_past. */
ARIA_API int aria_session_truncate(aria_session *session, int32_t n_past);
/* Number of cached positions, or ARIA_E_INVALID_ARG for NULL. */
ARIA_API int32_t aria_session_n_past(const aria_session *session);
/* Heap bytes owned by the session (KV cache + scratch); 0 for NULL. */
ARIA_API uint64_t aria_session_memory(const aria_session *session);

/* tokens [n] -> out [n][n_embd] (embedding rows as f32). ARIA_E_RANGE on a bad token id
   (checked for all tokens before anything is written). */
ARIA_API int aria_embed(const aria_model *model, const int32_t *tokens, int32_t n, float *out);

/* Run layers [layer_begin, layer_end) on n rows at positions pos0 .. pos0+n-1.
   in, out: [n][n_embd]; in == out is allowed. Requires 0 <= pos0 <= n_past and
   pos0 + n <= n_ctx (ARIA_E_RANGE); positions >= pos0 already in the cache are overwritten, and
   afterwards n_past = pos0 + n. Results do not depend on how a sequence is split into calls. */
ARIA_API int aria_session_forward(aria_session *session, const float *in, int32_t n, int32_t pos0,
                                  float *out);

/* Final RMSNorm then the output head: hidden [n][n_embd] -> logits [n][n_vocab]. */
ARIA_API int aria_logits(const aria_model *model, const float *hidden, int32_t n, float *out);

/* ---- Engine API: threads, batching, many sequences (docs/kernels-abi.md) -------------------
   Every output element is computed by exactly one thread in a fixed order, so hidden states and
   logits are bit-identical for any thread count and any batch composition.

   Example (two sequences decoded together):
     aria_pool *p; aria_shard *sh; int32_t a, b;
     aria_pool_create(2, &p);
     aria_shard_create(m, 0, n_layer, 4, &sh, err, sizeof err);
     aria_seq_open(sh, 512, &a); aria_seq_open(sh, 512, &b);
     int32_t seq[2] = {a, b}, pos[2] = {7, 0};   // rows at different positions
     aria_shard_forward(sh, p, 2, seq, pos, hidden, hidden);
     aria_logits_mt(m, p, hidden, 2, logits); */

typedef struct aria_pool aria_pool;
typedef struct aria_shard aria_shard;

/* Bits of aria_cpu_features. */
typedef enum aria_cpu_feature {
    ARIA_CPU_AVX2 = 1u << 0,
    ARIA_CPU_FMA = 1u << 1,
    ARIA_CPU_F16C = 1u << 2,
    ARIA_CPU_NEON = 1u << 3,
    ARIA_CPU_AVXVNNI = 1u << 4,   /* VEX-encoded VPDPBUSD: the TQ2_0 kernels use it when present */
    ARIA_CPU_AVX512VNNI = 1u << 5 /* AVX-512 F + BW + VL + VNNI: the 512-bit TQ2_0 GEMM */
} aria_cpu_feature;

/* A pool of n_threads threads (1..256, else ARIA_E_INVALID_ARG); the calling thread is one of
   them, so n_threads = 1 spawns nothing. A pool is used by one call at a time. */
ARIA_API int aria_pool_create(int32_t n_threads, aria_pool **out);
/* Joins the workers. NULL is a no-op. */
ARIA_API void aria_pool_free(aria_pool *pool);
/* Thread count, or ARIA_E_INVALID_ARG for NULL. */
ARIA_API int32_t aria_pool_threads(const aria_pool *pool);

/* Layers [layer_begin, layer_end) of a model and the KV caches of up to n_seq_max sequences.
   Requires 0 <= layer_begin < layer_end <= n_layer and 1 <= n_seq_max <= 4096
   (ARIA_E_INVALID_ARG). A shard is used by one thread at a time; the model must outlive it. */
ARIA_API int aria_shard_create(const aria_model *model, int32_t layer_begin, int32_t layer_end,
                               int32_t n_seq_max, aria_shard **out, char *err, size_t err_len);
/* NULL is a no-op. */
ARIA_API void aria_shard_free(aria_shard *shard);

/* Opens a sequence slot with a KV cache for n_ctx positions (allocated now: [layers][n_ctx]
   [kv_dim] binary16 for K and V). *seq_out is the lowest free id in [0, n_seq_max).
   ARIA_E_INVALID_ARG for n_ctx < 1; ARIA_E_RANGE when every slot is open or n_ctx exceeds the
   model's context; ARIA_E_NOMEM. */
ARIA_API int aria_seq_open(aria_shard *shard, int32_t n_ctx, int32_t *seq_out);
/* Frees the slot's cache; the id can be handed out again. ARIA_E_INVALID_ARG if not open. */
ARIA_API int aria_seq_close(aria_shard *shard, int32_t seq);
/* Keeps positions [0, n_past); 0 resets. ARIA_E_INVALID_ARG for a bad seq or n_past < 0,
   ARIA_E_RANGE if n_past is larger than the current one. */
ARIA_API int aria_seq_truncate(aria_shard *shard, int32_t seq, int32_t n_past);
/* Cached positions of an open sequence; ARIA_E_INVALID_ARG (< 0) for a bad shard or seq. */
ARIA_API int32_t aria_seq_n_past(const aria_shard *shard, int32_t seq);

/* Runs the shard's layers on n rows: row r belongs to open sequence seq[r] at position pos[r].
   in, out: [n][n_embd]; in == out is allowed. For each sequence its rows appear (in array
   order, possibly interleaved with other sequences' rows) at consecutive increasing positions
   p0, p0 + 1, ... with p0 <= n_past (cached positions >= p0 are overwritten) and the last one
   < n_ctx; afterwards n_past = last position + 1. A row attends to its own sequence's
   positions <= its own. Everything is checked before anything changes:
   ARIA_E_INVALID_ARG for NULL pointers, n < 0, a seq id that is not open, or positions that
   are not consecutive; ARIA_E_RANGE for p0 > n_past, a negative position or one >= n_ctx;
   ARIA_E_NOMEM if scratch cannot grow. pool may be NULL (calling thread only). n = 0 is a
   no-op. */
ARIA_API int aria_shard_forward(aria_shard *shard, aria_pool *pool, int32_t n, const int32_t *seq,
                                const int32_t *pos, const float *in, float *out);
/* Heap bytes held by the shard: KV caches of the open sequences + scratch; 0 for NULL. */
ARIA_API uint64_t aria_shard_memory(const aria_shard *shard);

/* aria_logits with the vocabulary split across the pool's threads (pool NULL: caller only).
   Bit-identical to aria_logits. */
ARIA_API int aria_logits_mt(const aria_model *model, aria_pool *pool, const float *hidden,
                            int32_t n, float *out);

/* ARIA_CPU_* bits of the running CPU (what the SIMD tiers may use). */
ARIA_API uint32_t aria_cpu_features(void);
/* Version of libaria's numerics: two builds that report the same number compute bit-identical
   hidden rows and logits from the same file, head type, layer range and input rows, on any CPU
   and tier. It changes with every change to any of those bits (docs/kernels-abi.md, "Numerics
   version"); agents announce it, and work is re-executed only on agents that report the same. */
#define ARIA_NUMERICS_VERSION 3
ARIA_API uint32_t aria_numerics_version(void);
/* Kernel tier of a model: 0 = the scalar reference, 1 = the best this CPU runs (the default).
   All tiers give bit-identical results; tier 0 exists to test that. Call it before the model
   is shared (it rebinds the model's kernels). ARIA_E_INVALID_ARG for another tier. */
ARIA_API int aria_set_kernel_tier(aria_model *model, int32_t tier);

#ifdef __cplusplus
}
#endif

#endif /* ARIA_H */
