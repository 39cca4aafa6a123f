/* Row operations of the forward pass (SPEC-bitnet.md §1.2-1.3, §4). All f32, index order. */
#ifndef ARIA_OPS_H
#define ARIA_OPS_H

#include <stdint.h>

#include "kernels.h"

/* y[i] = w[i] * (x[i] / sqrt(mean(x^2) + eps)); y may alias x. */
void aria_rmsnorm(int64_t n, const float *x, const float *w, float eps, float *y);

/* Per-row absmax int8 quantization: s = 127 / max(max|x|, 1e-5); q = clamp(round_half_even(x*s),
   -128, 127). Returns s; the matmul result is divided by it. */
float aria_quantize_row_i8(int64_t n, const float *x, int8_t *q);
/* The rounding step alone, with a given scale (NaN -> 0). */
void aria_round_i8(int64_t n, const float *x, float s, int8_t *q);

/* NeoX RoPE on n_heads heads of head_dim values each, rotating pairs (i, i + rope_dims/2) for
   i < rope_dims/2 by pos * inv_freq[i]. */
void aria_rope_neox(float *v, int32_t n_heads, int32_t head_dim, int32_t rope_dims,
                    const float *inv_freq, int32_t pos);

/* In-place softmax over x[n], max subtracted, sums in index order. */
void aria_softmax(float *x, int64_t n);

/* A weight matrix [n_out][n_in] in the map, with its tier kernels. */
typedef struct {
    const uint8_t *data;
    uint32_t type;
    int64_t n_in, n_out;
    uint64_t row_bytes;
    float scale;           /* per-tensor output scale ('bitnet' arch .scale tensors), else 1 */
    aria_dot_i8_fn dot_i8;   /* BitLinear weights */
    aria_dot_f32_fn dot_f32; /* float matrices (embedding / head) */
} aria_matrix;

/* BitLinear on n_rows rows: y[r][j] = dot(W[j], xq[r]) / xs[r] * scale.
   xq: [n_rows][n_in] int8, xs: [n_rows] activation scales, y: [n_rows][n_out]. Each weight row
   is read once for all rows. Multiplying by scale = 1 is exact, so there is no special case. */
void aria_matmul_i8(const aria_matrix *w, int32_t n_rows, const int8_t *xq, const float *xs,
                    float *y);

/* Float matmul: y[r][j] = dot(W[j], x[r]). x: [n_rows][n_in], y: [n_rows][n_out]. */
void aria_matmul_f32(const aria_matrix *w, int32_t n_rows, const float *x, float *y);

#endif
