/* NEON kernels (AArch64, where Advanced SIMD is baseline: no special flags, no run-time
   check). Same signatures and bit-identical results as the _ref functions they replace. */
#ifndef ARIA_KERNELS_NEON_H
#define ARIA_KERNELS_NEON_H

#include "kernels.h"

float aria_dot_tq2_0_i8_neon(int64_t n, const void *w, const int8_t *x, float d);
float aria_dot_tq2_0_row_sum_i8_neon(int64_t n, const void *w, const int8_t *x, float d);
float aria_dot_f16_f32_neon(int64_t n, const void *w, const float *x);

extern const aria_vec_ops aria_vec_neon;

#endif
