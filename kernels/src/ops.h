/* Row operations of the forward pass (docs/bitnet-format.md §1.2-1.5). All f32, index order. */
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

/* In-place softmax over x[n]: max subtracted, expf from libm, the sum 16-lane striped. */
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
    float d;                 /* tensor-wide weight scale passed to dot_i8 (I2_S, row_sum), else 1 */
    /* TQ2_0 / TQ1_0 whose blocks all carry one d (== d above): bound to the row-sum kernels */
    bool row_sum;
    aria_dot_q8_fn dot_q8;   /* Q8_0 head on per-32-block int8 activations */
    /* Q8_0 rows in the x8 layout (the head's heap copy, kernels.h): activations are put in
       the same order (aria_q8_x8_order_act) before dot_q8 / gemm_q8 */
    bool x8;
    /* Multi-row kernels bound for the model's tier (tier.c); NULL = generic loop over the dot */
    aria_gemm_i8_fn gemm_i8;
    aria_gemm_f32_fn gemm_f32;
    aria_gemm_q8_fn gemm_q8;
} aria_matrix;

/* BitLinear on n_rows rows: y[r][j] = dot(W[j], xq[r]) / xs[r] * scale.
   xq: [n_rows][n_in] int8, xs: [n_rows] activation scales, y: [n_rows][n_out]. Each weight row
   is read once for all rows. Multiplying by scale = 1 is exact, so there is no special case. */
void aria_matmul_i8(const aria_matrix *w, int32_t n_rows, const int8_t *xq, const float *xs,
                    float *y);

/* ---- Tiered ops of the forward pass (v = model->vec; identical results in every tier) ---- */

/* aria_rmsnorm / aria_softmax above are these with the reference primitives. */
void aria_rmsnorm_v(const aria_vec_ops *v, int64_t n, const float *x, const float *w, float eps,
                    float *y);
void aria_softmax_v(const aria_vec_ops *v, float *x, int64_t n);

/* aria_quantize_row_i8 plus the 128-group sums of q (kernels.h): sums [n / 128]. Returns s. */
float aria_quantize_row_i8_v(const aria_vec_ops *v, int64_t n, const float *x, int8_t *q,
                             int32_t *sums);

/* Every NaN in x[0, n) becomes the quiet NaN 0x7fc00000. Applied to everything the library
   writes out (embeddings, hidden rows, logits): which values are NaN is the same everywhere,
   but the bits of a NaN are not (a NaN made by inf - inf is 0xffc00000 on x86, 0x7fc00000 on
   ARM; of two NaN operands, the one an instruction returns depends on operand order, which
   compilers may swap). Inside the forward pass NaN bits never reach a non-NaN value. */
void aria_canonical_nans(float *x, int64_t n);

/* RoPE angles of one position: cs[i] = cos(pos * inv_freq[i]), cs[half + i] = sin(...),
   half = rope_dims / 2 (the values aria_rope_neox computes), so one table serves every layer.
   sin / cos (and softmax's and SiLU's exp) are detmath.h's, not libm's. */
void aria_rope_cs(int32_t rope_dims, const float *inv_freq, int32_t pos, float *cs);
/* aria_rope_neox with the angles from aria_rope_cs. */
void aria_rope_neox_cs(float *v, int32_t n_heads, int32_t head_dim, int32_t rope_dims,
                       const float *cs);

/* The same rotation applied to pairs (2i, 2i + 1) instead of (i, i + half): llama's order. */
void aria_rope_interleaved_cs(float *v, int32_t n_heads, int32_t head_dim, int32_t rope_dims,
                              const float *cs);

/* Raw dots of weight rows [j0, j1) against n_rows activation rows, through the matrix's GEMM
   kernel: y[r * ldy + j] for j in [j0, j1) (not yet divided by the activation scale).
   xq [n_rows][n_in], xsum [n_rows][n_in / 128]. */
void aria_matmul_i8_rows(const aria_matrix *w, int64_t j0, int64_t j1, int32_t n_rows,
                         const int8_t *xq, const int32_t *xsum, float *y, int64_t ldy);
/* The same for float activations x [n_rows][n_in] (output head). */
void aria_matmul_f32_rows(const aria_matrix *w, int64_t j0, int64_t j1, int32_t n_rows,
                          const float *x, float *y, int64_t ldy);

#endif
