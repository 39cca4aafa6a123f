/*
 * kernels.h - dot-product kernels, ggml-style tiers.
 *
 * Every format has a portable `_ref` tier; SIMD tiers (`_avx2`, `_neon`, ...) must have the same
 * signature and return bit-identical results, because the network verifies work by
 * recomputation on other machines. That fixes the arithmetic:
 *  - int8 x ternary, per-block scales (TQ2_0, TQ1_0): exact int32 sum per 256-weight block,
 *    times the block's d as f32, blocks accumulated in index order in f32 (no FMA
 *    contraction: the build uses -ffp-contract=off). TQ1_0 computes exactly as TQ2_0.
 *  - int8 x ternary, one scale ("row sum"): I2_S, and TQ2_0 / TQ1_0 tensors whose blocks all
 *    carry the same finite d (the loader checks; dispatch keys ARIA_KERNELS_*_ROW_SUM): the
 *    whole row's exact int32 sum, times the f32 scale d once (as bitnet.cpp does; |sum| <=
 *    ARIA_MAX_FF * 2 * 128 fits). An integer sum has no order, so every tiling is
 *    bit-identical, and the same trits and scale in any of the three formats give the same
 *    bits.
 *  - float weights: products accumulated in index order in f32.
 *  - Q8_0: int32 per 32-weight block, times the block's fp16 d (times the activation block's
 *    f32 d for the head: (dw * dx) is rounded first), the block terms reduced in the canonical
 *    16-lane striped order (ARIA_LANES below; block b goes to lane b % 16).
 * aria_dot_*_for(type) returns the best tier this build has for a tensor type, or NULL.
 */
#ifndef ARIA_KERNELS_H
#define ARIA_KERNELS_H

#include <stdint.h>

#include "formats.h"

/* One weight row w (n elements, n % block size == 0) against int8 activations x[n].
   d is the tensor-wide weight scale of formats that keep it outside the rows (I2_S); formats
   with per-block scales and float weights ignore it (callers pass 1).
   Returns the row's dot in activation-quant units; the caller divides by the activation scale. */
typedef float (*aria_dot_i8_fn)(int64_t n, const void *w, const int8_t *x, float d);

/* One Q8_0 weight row w (n elements) against activations quantized per 32-block by
   aria_quantize_row_q8_act: xq[n] in [-127, 127], xd[n / 32] block scales. */
typedef float (*aria_dot_q8_fn)(int64_t n, const void *w, const int8_t *xq, const float *xd);
/* Multi-row form (GEMM kind, see below): y[r * ldy + j] = dot_q8(W[j], xq[r], xd[r]) for
   xq [n_x][n], xd [n_x][n / 32]; bit-identical to the single-row dot. */
typedef void (*aria_gemm_q8_fn)(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w,
                                const int8_t *xq, const float *xd, int32_t n_x, float *y,
                                int64_t ldy);

/* One weight row w (n elements) against f32 activations x[n]. */
typedef float (*aria_dot_f32_fn)(int64_t n, const void *w, const float *x);

/* TQ2_0 (tq2_0.c) */
/* Exact int32 sum over one 256-weight block: sum (q - 1) * x, x[256]; |sum| <= 2 * 128 * 256. */
int32_t aria_tq2_0_block_isum_ref(const uint8_t *block, const int8_t *x);
float aria_dot_tq2_0_i8_ref(int64_t n, const void *w, const int8_t *x, float d);
/* Row sum (see above): sum of every block's isum, times d (the tensor's shared scale). */
float aria_dot_tq2_0_row_sum_i8_ref(int64_t n, const void *w, const int8_t *x, float d);
void aria_quantize_row_tq2_0_ref(const float *x, void *y, int64_t n);
void aria_dequantize_row_tq2_0_ref(const void *w, float *y, int64_t n);

/* Float weights (vec_float.c) */
float aria_dot_f32_i8_ref(int64_t n, const void *w, const int8_t *x, float d);
float aria_dot_f16_i8_ref(int64_t n, const void *w, const int8_t *x, float d);
float aria_dot_bf16_i8_ref(int64_t n, const void *w, const int8_t *x, float d);
float aria_dot_f32_f32_ref(int64_t n, const void *w, const float *x);
float aria_dot_f16_f32_ref(int64_t n, const void *w, const float *x);
float aria_dot_bf16_f32_ref(int64_t n, const void *w, const float *x);

/* TQ1_0 (tq1_0.c) */
/* Exact int32 sum over one 256-weight block: sum (q - 1) * x, x[256]; |sum| <= 128 * 256. */
int32_t aria_tq1_0_block_isum_ref(const uint8_t *block, const int8_t *x);
float aria_dot_tq1_0_i8_ref(int64_t n, const void *w, const int8_t *x, float d);
float aria_dot_tq1_0_row_sum_i8_ref(int64_t n, const void *w, const int8_t *x, float d);
/* ggml's quantize_row_tq1_0_ref: d = max|x| per block, q = round(x / d) + 1. */
void aria_quantize_row_tq1_0_ref(const float *x, void *y, int64_t n);
void aria_dequantize_row_tq1_0_ref(const void *w, float *y, int64_t n);

/* I2_S (i2_s.c); rows are n / 4 bytes of codes, the scale lives in the tensor's tail. */
/* Exact int32 sum over one 128-weight block: sum (code - 1) * x, x[128]. */
int32_t aria_i2_s_block_isum_ref(const uint8_t *block, const int8_t *x);
float aria_dot_i2_s_i8_ref(int64_t n, const void *w, const int8_t *x, float d);
/* The f32 scale in the tail of an I2_S tensor of n_elements weights starting at data. */
float aria_i2_s_scale(const void *data, int64_t n_elements);
/* A whole tensor of n weights (n % 128 == 0) as bitnet.cpp's quantize_i2_s writes it: scale
   s = max|x|, code = round(x / s) + 1, then the tail with s; y holds n / 4 + 32 bytes. */
void aria_quantize_i2_s_ref(const float *x, void *y, int64_t n);
void aria_dequantize_row_i2_s_ref(const void *w, float *y, int64_t n, float d);

/* Q8_0 (q8_0.c) */
float aria_dot_q8_0_i8_ref(int64_t n, const void *w, const int8_t *x, float d);
float aria_dot_q8_0_q8_ref(int64_t n, const void *w, const int8_t *xq, const float *xd);
/* Per 32-block: d = max|x| / 127, q = round_half_even(x / d) in [-127, 127] (0 when d == 0;
   NaN -> 0), d stored as fp16 -- llama.cpp's quantize_row_q8_0_ref except that it rounds half
   away from zero. */
void aria_quantize_row_q8_0_ref(const float *x, void *y, int64_t n);
void aria_dequantize_row_q8_0_ref(const void *w, float *y, int64_t n);
/* Activations for the Q8_0 head: the same per-32-block rule with d kept in f32:
   x[n] -> xq[n], xd[n / 32]. */
void aria_quantize_row_q8_act(int64_t n, const float *x, int8_t *xq, float *xd);
/* The "x8" layout of a Q8_0 row (the output head's heap copy, formats.h Q8_0_X8_*): every 8
   consecutive blocks form a group of 272 bytes -- their 8 fp16 d, then 8 vectors of 32 bytes,
   vector t holding bytes [4t, 4t + 4) of block l at [4l, 4l + 4) -- and the nb % 8 blocks left
   at the end stay as they are. A 32-bit lane of every vector then belongs to one block, so
   SIMD tiers sum the 8 blocks' products in 8 int32 lanes with no horizontal reduction per
   block. Activations for x8 kernels are reordered the same way (aria_q8_x8_order_act). The
   arithmetic is Q8_0's, bit for bit. Same row size as Q8_0. */
void aria_q8_0_to_x8(const void *src, void *dst, int64_t n);
void aria_q8_x8_order_act(int64_t n, int8_t *xq); /* in place */
float aria_dot_q8_0_x8_q8_ref(int64_t n, const void *w, const int8_t *xq, const float *xd);
/* Load-time head requantization of one F16 row: the bytes of aria_row_to_f32 followed by
   aria_quantize_row_q8_0_ref, in every tier. aria_requant_f16_q8_0_for(tier) (dispatch.c)
   gives the tier's version. */
typedef void (*aria_requant_f16_q8_0_fn)(const void *w, void *y, int64_t n);
void aria_quantize_row_q8_0_f16_ref(const void *w, void *y, int64_t n);
aria_requant_f16_q8_0_fn aria_requant_f16_q8_0_for(int32_t tier);

/* Row of a float tensor (F32/F16/BF16) or of a Q8_0 tensor converted to f32; used for
   embeddings and norms. */
void aria_row_to_f32(uint32_t type, const void *w, float *y, int64_t n);

aria_dot_i8_fn aria_dot_i8_for(uint32_t type);
aria_dot_f32_fn aria_dot_f32_for(uint32_t type);

/* ---- Multi-row kernels and run-time dispatch (dispatch.c) ------------------------------------

   A GEMM kind computes, for n_w consecutive weight rows (w, w + row_bytes, ...) and n_x
   activation rows, every dot y[r * ldy + j] = dot(W[j], X[r]) -- each weight block is loaded
   once for all activation rows. Every (j, r) result is bit-identical to the kind's single-row
   dot (the same exact int32 block sums, the same f32 operations in the same order), whatever
   n_w and n_x are and however the caller splits rows among threads: that is what makes
   results independent of thread count and batch composition.

   Int8 activations come with the sums of each 128-value group, xsum [n_x][n / 128] (int32;
   |sum| <= 128 * 128), so kernels on unsigned 2-bit codes can compute sum((q - 1) * x) as
   sum(q * x) - sum(x) (TQ2_0, TQ1_0 with 2 groups per block, I2_S with 1). Rows of x are n
   apart, rows of xsum n / 128 apart. Kernels for n % 128 != 0 must not read xsum.
   d is the tensor-wide weight scale handed to the dot (I2_S keeps it in the tensor's tail, not
   in the rows; every other format ignores it and callers pass 1). */
typedef void (*aria_gemm_i8_fn)(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w,
                                const int8_t *x, const int32_t *xsum, int32_t n_x, float *y,
                                int64_t ldy, float d);
/* The same for f32 activations x [n_x][n] (output head / float weights). */
typedef void (*aria_gemm_f32_fn)(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w,
                                 const float *x, int32_t n_x, float *y, int64_t ldy);

/* The kernels of one weight type at one tier. Any member may be NULL: dot-only types run
   through a generic GEMM loop over their dot (aria_gemm_*_generic). */
typedef struct {
    aria_dot_i8_fn dot_i8;
    aria_gemm_i8_fn gemm_i8;
    aria_dot_f32_fn dot_f32;
    aria_gemm_f32_fn gemm_f32;
    aria_dot_q8_fn dot_q8; /* output head on per-32-block int8 activations (Q8_0 weights) */
} aria_type_kernels;

/* The multi-row form of a type's dot_q8 at a tier, or NULL (callers loop over dot_q8). Kept
   out of aria_type_kernels so the table rows stay as they are. */
aria_gemm_q8_fn aria_gemm_q8_for(uint32_t key, int32_t tier); /* Q8_0 or its x8 key */

/* HOOK for weight formats: dispatch.c keeps one table row per type with its reference
   kernels and its SIMD kernels per ISA (NULL = use the reference one). A new format adds one
   row there; its SIMD files go in arch/<isa>/ and are listed in the Makefile's AVX2_SRCS (or
   the NEON list). aria_kernels_for() resolves a tier (cpu.h) to the functions to call and
   returns false for a type with no i8 and no f32 kernel. On CPUs with AVX-VNNI / AVX-512 VNNI
   it then swaps in the VPDPBUSD variants of the TQ2_0, row-sum TQ2_0 and I2_S kernels (same
   results). */
bool aria_kernels_for(uint32_t type, int32_t tier, aria_type_kernels *out);

/* Generic GEMMs over a single-row dot (any format without a tuned GEMM). */
void aria_gemm_i8_generic(aria_dot_i8_fn dot, int64_t n, const uint8_t *w, uint64_t row_bytes,
                          int32_t n_w, const int8_t *x, int32_t n_x, float *y, int64_t ldy,
                          float d);
void aria_gemm_f32_generic(aria_dot_f32_fn dot, int64_t n, const uint8_t *w, uint64_t row_bytes,
                           int32_t n_w, const float *x, int32_t n_x, float *y, int64_t ldy);

/* Reference GEMMs of this file's formats. */
void aria_gemm_tq2_0_i8_ref(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w,
                            const int8_t *x, const int32_t *xsum, int32_t n_x, float *y,
                            int64_t ldy, float d);

/* ---- f32 vector primitives -----------------------------------------------------------------

   Reductions over f32 use one canonical order in every tier, "16-lane striped": partial sums
   acc[k] (k < 16) start at +0 and take terms i = k, k + 16, k + 32, ... in order; then
   acc[k] += acc[k + 8] (k < 8), acc[k] += acc[k + 4] (k < 4), acc[k] += acc[k + 2] (k < 2),
   result acc[0] + acc[1]. A product term is rounded before it is added (no FMA). Two AVX2
   registers (or four NEON ones) hold the 16 lanes, so the SIMD tiers reproduce the reference
   bit for bit. Maxima are exact in any order. */
#define ARIA_LANES 16

typedef struct {
    float (*sum)(int64_t n, const float *x);                      /* striped */
    float (*sumsq)(int64_t n, const float *x);                    /* sum x[i]^2, striped */
    float (*amax)(int64_t n, const float *x);                     /* max |x|, NaN ignored, >= 0 */
    /* q[i] = clamp(round_half_even(x[i] * s), -128, 127), NaN -> 0; sums[g] = sum of q over
       each full group of 128 (n / 128 groups). */
    void (*round_i8)(int64_t n, const float *x, float s, int8_t *q, int32_t *sums);
    /* dot with F16 weights, striped: sum f16(w[i]) * x[i] (the f32 dot of F16 rows) */
    float (*dot_f16)(int64_t n, const void *w, const float *x);
    /* h[i] = binary16 of x[i], round to nearest even (aria_fp32_to_fp16; NaN -> sign | 0x7e00):
       how keys and values enter the KV cache. */
    void (*to_f16)(int64_t n, const float *x, uint16_t *h);
    /* Attention of nh query heads (q: nh rows of hd floats) over n_pos cached binary16 rows of
       their KV head (forward.c task_attn). Every result is bit-identical to the reference:
       scores: s[h * s_stride + t] = dot_f16(hd, k + t * k_stride, q + h * hd) * scale;
       mix:    o[h * hd + i] += a[h * a_stride + t] * f32(v[t * v_stride + i]), t = 0, 1, .. in
               order, the product rounded before the add (y + a * x). */
    void (*attn_scores)(int32_t hd, int32_t nh, const float *q, const uint16_t *k,
                        int64_t k_stride, int32_t n_pos, float scale, float *s, int64_t s_stride);
    void (*attn_mix)(int32_t hd, int32_t nh, const float *a, int64_t a_stride, const uint16_t *v,
                     int64_t v_stride, int32_t n_pos, float *o);
    /* x[i] = aria_expf(x[i] - m) (detmath.h; the f32 difference rounded first): softmax's
       exponentials, the same bits in every tier. */
    void (*exp_sub)(int64_t n, float *x, float m);
} aria_vec_ops;

/* The attention ops as plain loops (vec.c): the scores over a tier's dot_f16, the mix in
   scalar code. The reference tier's, and the fallback of SIMD tiers for head sizes their fused
   versions do not take. */
void aria_attn_scores_loop(float (*dot_f16)(int64_t, const void *, const float *), int32_t hd,
                           int32_t nh, const float *q, const uint16_t *k, int64_t k_stride,
                           int32_t n_pos, float scale, float *s, int64_t s_stride);
void aria_attn_mix_loop(int32_t hd, int32_t nh, const float *a, int64_t a_stride,
                        const uint16_t *v, int64_t v_stride, int32_t n_pos, float *o);
void aria_to_f16_ref(int64_t n, const float *x, uint16_t *h);
void aria_exp_sub_ref(int64_t n, float *x, float m);

/* The primitives of a tier (never NULL). */
const aria_vec_ops *aria_vec_ops_for(int32_t tier);

/* The canonical striped reduction of 16 partial sums (see above). */
static inline float aria_reduce16(float acc[ARIA_LANES]) {
    for (int k = 0; k < 8; k++) acc[k] += acc[k + 8];
    for (int k = 0; k < 4; k++) acc[k] += acc[k + 4];
    for (int k = 0; k < 2; k++) acc[k] += acc[k + 2];
    return acc[0] + acc[1];
}

#endif
