/*
 * kernels.h - dot-product kernels, ggml-style tiers.
 *
 * Every format has a portable `_ref` tier; SIMD tiers (`_avx2`, `_neon`, ...) must have the same
 * signature and return bit-identical results, because the network verifies work by
 * recomputation on other machines. That fixes the arithmetic:
 *  - int8 x ternary: exact int32 sum per 256-weight block, times the block's d as f32, blocks
 *    accumulated in index order in f32 (no FMA contraction: the build uses -ffp-contract=off);
 *  - float weights: products accumulated in index order in f32.
 * aria_dot_*_for(type) returns the best tier this build has for a tensor type, or NULL.
 */
#ifndef ARIA_KERNELS_H
#define ARIA_KERNELS_H

#include <stdint.h>

#include "formats.h"

/* One weight row w (n elements, n % block size == 0) against int8 activations x[n].
   Returns the row's dot in activation-quant units; the caller divides by the activation scale. */
typedef float (*aria_dot_i8_fn)(int64_t n, const void *w, const int8_t *x);

/* One weight row w (n elements) against f32 activations x[n]. */
typedef float (*aria_dot_f32_fn)(int64_t n, const void *w, const float *x);

/* TQ2_0 (tq2_0.c) */
/* Exact int32 sum over one 256-weight block: sum (q - 1) * x, x[256]; |sum| <= 2 * 128 * 256. */
int32_t aria_tq2_0_block_isum_ref(const uint8_t *block, const int8_t *x);
float aria_dot_tq2_0_i8_ref(int64_t n, const void *w, const int8_t *x);
void aria_quantize_row_tq2_0_ref(const float *x, void *y, int64_t n);
void aria_dequantize_row_tq2_0_ref(const void *w, float *y, int64_t n);

/* Float weights (vec_float.c) */
float aria_dot_f32_i8_ref(int64_t n, const void *w, const int8_t *x);
float aria_dot_f16_i8_ref(int64_t n, const void *w, const int8_t *x);
float aria_dot_bf16_i8_ref(int64_t n, const void *w, const int8_t *x);
float aria_dot_f32_f32_ref(int64_t n, const void *w, const float *x);
float aria_dot_f16_f32_ref(int64_t n, const void *w, const float *x);
float aria_dot_bf16_f32_ref(int64_t n, const void *w, const float *x);

/* Row of a float tensor (F32/F16/BF16) converted to f32; used for embeddings and norms. */
void aria_row_to_f32(uint32_t type, const void *w, float *y, int64_t n);

aria_dot_i8_fn aria_dot_i8_for(uint32_t type);
aria_dot_f32_fn aria_dot_f32_for(uint32_t type);

#endif
