/* Row operations of the forward pass; see ops.h. */
#include "ops.h"

#include <math.h>
#include <string.h>

#include "detmath.h"

void aria_rmsnorm(int64_t n, const float *x, const float *w, float eps, float *y) {
    aria_rmsnorm_v(aria_vec_ops_for(0), n, x, w, eps, y);
}

void aria_rmsnorm_v(const aria_vec_ops *v, int64_t n, const float *x, const float *w, float eps,
                    float *y) {
    const float ss = v->sumsq(n, x); /* 16-lane striped (kernels.h) */
    const float inv = 1.0f / sqrtf(ss / (float)n + eps);
    for (int64_t i = 0; i < n; i++) y[i] = w[i] * (x[i] * inv);
}

void aria_round_i8(int64_t n, const float *x, float s, int8_t *q) {
    for (int64_t i = 0; i < n; i++) {
        /* nearbyintf rounds half to even in the default rounding mode (torch.round semantics);
           the comparisons also catch NaN before the float -> int conversion. */
        float v = nearbyintf(x[i] * s);
        if (v > 127.0f) v = 127.0f;
        else if (v < -128.0f) v = -128.0f;
        else if (v != v) v = 0.0f;
        q[i] = (int8_t)v;
    }
}

float aria_quantize_row_i8(int64_t n, const float *x, int8_t *q) {
    float amax = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        if (a > amax) amax = a; /* NaN never compares greater: ignored */
    }
    if (amax < 1e-5f) amax = 1e-5f;
    const float s = 127.0f / amax;
    aria_round_i8(n, x, s, q);
    return s;
}

void aria_rope_neox(float *v, int32_t n_heads, int32_t head_dim, int32_t rope_dims,
                    const float *inv_freq, int32_t pos) {
    const int32_t half = rope_dims / 2;
    for (int32_t i = 0; i < half; i++) {
        const float theta = (float)pos * inv_freq[i];
        float c, s;
        aria_sincosf(theta, &s, &c);
        for (int32_t h = 0; h < n_heads; h++) {
            float *x = v + (int64_t)h * head_dim;
            const float x0 = x[i], x1 = x[i + half];
            x[i] = x0 * c - x1 * s;
            x[i + half] = x0 * s + x1 * c;
        }
    }
}

void aria_canonical_nans(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, &x[i], sizeof b);
        b = (b & 0x7fffffffu) > 0x7f800000u ? 0x7fc00000u : b;
        memcpy(&x[i], &b, sizeof b);
    }
}

void aria_softmax(float *x, int64_t n) { aria_softmax_v(aria_vec_ops_for(0), x, n); }

void aria_softmax_v(const aria_vec_ops *v, float *x, int64_t n) {
    float max = x[0];
    for (int64_t i = 1; i < n; i++)
        if (x[i] > max) max = x[i];
    v->exp_sub(n, x, max); /* detmath.h's exp, not libm's */
    const float sum = v->sum(n, x);                            /* 16-lane striped */
    for (int64_t i = 0; i < n; i++) x[i] /= sum;
}

void aria_matmul_i8(const aria_matrix *w, int32_t n_rows, const int8_t *xq, const float *xs,
                    float *y) {
    for (int64_t j = 0; j < w->n_out; j++) {
        const uint8_t *row = w->data + (uint64_t)j * w->row_bytes;
        for (int32_t r = 0; r < n_rows; r++) {
            float dot = w->dot_i8(w->n_in, row, xq + (int64_t)r * w->n_in, w->d);
            y[(int64_t)r * w->n_out + j] = dot / xs[r] * w->scale;
        }
    }
}

float aria_quantize_row_i8_v(const aria_vec_ops *v, int64_t n, const float *x, int8_t *q,
                             int32_t *sums) {
    float amax = v->amax(n, x);
    if (amax < 1e-5f) amax = 1e-5f;
    const float s = 127.0f / amax;
    v->round_i8(n, x, s, q, sums);
    return s;
}

void aria_rope_cs(int32_t rope_dims, const float *inv_freq, int32_t pos, float *cs) {
    const int32_t half = rope_dims / 2;
    for (int32_t i = 0; i < half; i++) {
        const float theta = (float)pos * inv_freq[i];
        aria_sincosf(theta, &cs[half + i], &cs[i]); /* detmath.h, not libm */
    }
}

void aria_rope_neox_cs(float *v, int32_t n_heads, int32_t head_dim, int32_t rope_dims,
                       const float *cs) {
    const int32_t half = rope_dims / 2;
    const float *sn = cs + half;
    for (int32_t h = 0; h < n_heads; h++) {
        float *x = v + (int64_t)h * head_dim;
        for (int32_t i = 0; i < half; i++) {
            const float x0 = x[i], x1 = x[i + half];
            x[i] = x0 * cs[i] - x1 * sn[i];
            x[i + half] = x0 * sn[i] + x1 * cs[i];
        }
    }
}

void aria_rope_interleaved_cs(float *v, int32_t n_heads, int32_t head_dim, int32_t rope_dims,
                              const float *cs) {
    const int32_t half = rope_dims / 2;
    const float *sn = cs + half;
    for (int32_t h = 0; h < n_heads; h++) {
        float *x = v + (int64_t)h * head_dim;
        for (int32_t i = 0; i < half; i++) {
            const float x0 = x[2 * i], x1 = x[2 * i + 1];
            x[2 * i] = x0 * cs[i] - x1 * sn[i];
            x[2 * i + 1] = x0 * sn[i] + x1 * cs[i];
        }
    }
}

void aria_matmul_i8_rows(const aria_matrix *w, int64_t j0, int64_t j1, int32_t n_rows,
                         const int8_t *xq, const int32_t *xsum, float *y, int64_t ldy) {
    const uint8_t *rows = w->data + (uint64_t)j0 * w->row_bytes;
    if (w->gemm_i8)
        w->gemm_i8(w->n_in, rows, w->row_bytes, (int32_t)(j1 - j0), xq, xsum, n_rows, y + j0,
                   ldy, w->d);
    else
        aria_gemm_i8_generic(w->dot_i8, w->n_in, rows, w->row_bytes, (int32_t)(j1 - j0), xq,
                             n_rows, y + j0, ldy, w->d);
}

void aria_matmul_f32_rows(const aria_matrix *w, int64_t j0, int64_t j1, int32_t n_rows,
                          const float *x, float *y, int64_t ldy) {
    const uint8_t *rows = w->data + (uint64_t)j0 * w->row_bytes;
    if (w->gemm_f32)
        w->gemm_f32(w->n_in, rows, w->row_bytes, (int32_t)(j1 - j0), x, n_rows, y + j0, ldy);
    else
        aria_gemm_f32_generic(w->dot_f32, w->n_in, rows, w->row_bytes, (int32_t)(j1 - j0), x,
                              n_rows, y + j0, ldy);
}
