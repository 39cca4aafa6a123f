/* f32 primitives and float-weight GEMMs, AVX2 tier. Reductions keep the canonical 16-lane
   striped order of kernels.h: register lo holds lanes 0..7, hi lanes 8..15; the tree is
   lo + hi (k + 8), then the 128-bit halves (k + 4), then movehl (k + 2), then lanes 0 + 1.
   Products are rounded before they are added (_mm256_mul_ps then _mm256_add_ps, never FMA). */
#include <immintrin.h>
#include <math.h>

#include "arch/x86/kernels_avx2.h"
#include "arch/x86/lanes_x86.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* Lanes to memory, for a scalar tail in the same striping (i0 is a multiple of 16). */
ALWAYS_INLINE void spill16(__m256 lo, __m256 hi, float acc[ARIA_LANES]) {
    _mm256_storeu_ps(acc, lo);
    _mm256_storeu_ps(acc + 8, hi);
}

/* Two F16 lanes-of-8 from 16 halves at w. */
ALWAYS_INLINE void load_f16x16(const uint8_t *w, __m256 *a, __m256 *b) {
    const __m256i h = _mm256_loadu_si256((const __m256i *)w);
    *a = _mm256_cvtph_ps(_mm256_castsi256_si128(h));
    *b = _mm256_cvtph_ps(_mm256_extracti128_si256(h, 1));
}

static float sum_avx2(int64_t n, const float *x) {
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        lo = _mm256_add_ps(lo, _mm256_loadu_ps(x + i));
        hi = _mm256_add_ps(hi, _mm256_loadu_ps(x + i + 8));
    }
    if (i == n) return aria_tree16(lo, hi);
    float acc[ARIA_LANES];
    spill16(lo, hi, acc);
    for (; i < n; i++) acc[i % ARIA_LANES] += x[i];
    return aria_reduce16(acc);
}

static float sumsq_avx2(int64_t n, const float *x) {
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
        lo = _mm256_add_ps(lo, _mm256_mul_ps(a, a));
        hi = _mm256_add_ps(hi, _mm256_mul_ps(b, b));
    }
    if (i == n) return aria_tree16(lo, hi);
    float acc[ARIA_LANES];
    spill16(lo, hi, acc);
    for (; i < n; i++) acc[i % ARIA_LANES] += x[i] * x[i];
    return aria_reduce16(acc);
}

static float amax_avx2(int64_t n, const float *x) {
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 m = _mm256_setzero_ps();
    int64_t i = 0;
    /* _mm256_max_ps(a, m) returns m when a is NaN: NaN is ignored, as in the reference. */
    for (; i + 8 <= n; i += 8) m = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x + i), abs_mask), m);
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    float amax = _mm_cvtss_f32(h);
    for (; i < n; i++) {
        float a = fabsf(x[i]);
        if (a > amax) amax = a;
    }
    return amax;
}

/* 8 floats -> rounded, NaN-zeroed, clamped int32. */
ALWAYS_INLINE __m256i round8(const float *x, __m256 s) {
    __m256 v = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x), s),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    v = _mm256_and_ps(v, _mm256_cmp_ps(v, v, _CMP_ORD_Q)); /* NaN -> +0 */
    v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-128.0f)), _mm256_set1_ps(127.0f));
    return _mm256_cvtps_epi32(v);
}

static void round_i8_avx2(int64_t n, const float *x, float s, int8_t *q, int32_t *sums) {
    const __m256 vs = _mm256_set1_ps(s);
    const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    __m256i gsum = _mm256_setzero_si256();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m256i a = round8(x + i, vs), b = round8(x + i + 8, vs);
        const __m256i c = round8(x + i + 16, vs), d = round8(x + i + 24, vs);
        /* values are in [-128, 127]: the saturating packs are exact */
        const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
        _mm256_storeu_si256((__m256i *)(q + i), _mm256_permutevar8x32_epi32(p, perm));
        gsum = _mm256_add_epi32(gsum, _mm256_add_epi32(_mm256_add_epi32(a, b), _mm256_add_epi32(c, d)));
        if ((i + 32) % 128 == 0) {
            __m128i h = _mm_add_epi32(_mm256_castsi256_si128(gsum), _mm256_extracti128_si256(gsum, 1));
            h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
            h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
            sums[i / 128] = _mm_cvtsi128_si32(h);
            gsum = _mm256_setzero_si256();
        }
    }
    for (; i < n; i++) {
        float v = nearbyintf(x[i] * s);
        if (v > 127.0f) v = 127.0f;
        else if (v < -128.0f) v = -128.0f;
        else if (v != v) v = 0.0f;
        q[i] = (int8_t)v;
    }
    /* Groups not closed by the loop above (only when n % 32 != 0) are summed here. */
    for (int64_t g = (n - n % 32) / 128; g < n / 128; g++) {
        int32_t t = 0;
        for (int k = 0; k < 128; k++) t += q[g * 128 + k];
        sums[g] = t;
    }
}

/* F16 row dot; pf (may be NULL) is the next row, prefetched while this one is read: the
   hardware prefetchers of some VMs do not keep up with a plain stream of rows. */
ALWAYS_INLINE float dot_f16_pf(int64_t n, const uint8_t *wb, const float *x, const uint8_t *pf) {
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        if (pf && (i & 31) == 0) _mm_prefetch((const char *)pf + 2 * i, _MM_HINT_T0);
        __m256 a, b;
        load_f16x16(wb + 2 * i, &a, &b);
        lo = _mm256_add_ps(lo, _mm256_mul_ps(a, _mm256_loadu_ps(x + i)));
        hi = _mm256_add_ps(hi, _mm256_mul_ps(b, _mm256_loadu_ps(x + i + 8)));
    }
    if (i == n) return aria_tree16(lo, hi);
    float acc[ARIA_LANES];
    spill16(lo, hi, acc);
    for (; i < n; i++) acc[i % ARIA_LANES] += aria_fp16_to_fp32(aria_load_u16(wb + 2 * i)) * x[i];
    return aria_reduce16(acc);
}

float aria_dot_f16_f32_avx2(int64_t n, const void *w, const float *x) {
    return dot_f16_pf(n, w, x, NULL);
}

float aria_dot_f32_f32_avx2(int64_t n, const void *w, const float *x) {
    /* Mapped tensors may sit at any byte offset: vector loads are unaligned, tail loads go
       through aria_load_f32. */
    const uint8_t *wb = w;
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        lo = _mm256_add_ps(lo, _mm256_mul_ps(_mm256_loadu_ps((const float *)(wb + 4 * i)),
                                             _mm256_loadu_ps(x + i)));
        hi = _mm256_add_ps(hi, _mm256_mul_ps(_mm256_loadu_ps((const float *)(wb + 4 * i + 32)),
                                             _mm256_loadu_ps(x + i + 8)));
    }
    if (i == n) return aria_tree16(lo, hi);
    float acc[ARIA_LANES];
    spill16(lo, hi, acc);
    for (; i < n; i++) acc[i % ARIA_LANES] += aria_load_f32(wb + 4 * i) * x[i];
    return aria_reduce16(acc);
}

/* Float-weight GEMM: one weight row converted once per 16 elements, applied to 4 activation
   rows (lanes per row as in the single-row dot, so every output equals it bit for bit). */
ALWAYS_INLINE void gemm_float(const int F16, int64_t n, const uint8_t *w, uint64_t row_bytes,
                              int32_t n_w, const float *x, int32_t n_x, float *y, int64_t ldy) {
    const int64_t n16 = n - n % 16;
    for (int32_t r0 = 0; r0 < n_x; r0 += 4) {
        const int32_t nr = n_x - r0 < 4 ? n_x - r0 : 4;
        if (nr == 1) {
            for (int32_t j = 0; j < n_w; j++) {
                const uint8_t *next = j + 1 < n_w ? w + (j + 1) * row_bytes : NULL;
                y[r0 * ldy + j] = F16 ? dot_f16_pf(n, w + j * row_bytes, x + r0 * n, next)
                                      : aria_dot_f32_f32_avx2(n, w + j * row_bytes, x + r0 * n);
            }
            continue;
        }
        const float *xr[4];
        for (int r = 0; r < 4; r++) xr[r] = x + (r0 + (r < nr ? r : 0)) * n;
        for (int32_t j = 0; j < n_w; j++) {
            const uint8_t *wr = w + j * row_bytes;
            __m256 lo[4], hi[4];
            for (int r = 0; r < 4; r++) lo[r] = hi[r] = _mm256_setzero_ps();
            const uint8_t *next = j + 1 < n_w ? wr + row_bytes : NULL;
            for (int64_t i = 0; i < n16; i += 16) {
                if (next && (i & 31) == 0) _mm_prefetch((const char *)next + (F16 ? 2 : 4) * i, _MM_HINT_T0);
                __m256 a, b;
                if (F16) {
                    load_f16x16(wr + 2 * i, &a, &b);
                } else {
                    a = _mm256_loadu_ps((const float *)(wr + 4 * i));
                    b = _mm256_loadu_ps((const float *)(wr + 4 * i + 32));
                }
#pragma GCC unroll 4
                for (int r = 0; r < 4; r++) {
                    lo[r] = _mm256_add_ps(lo[r], _mm256_mul_ps(a, _mm256_loadu_ps(xr[r] + i)));
                    hi[r] = _mm256_add_ps(hi[r], _mm256_mul_ps(b, _mm256_loadu_ps(xr[r] + i + 8)));
                }
            }
            for (int r = 0; r < nr; r++) {
                float v;
                if (n16 == n) {
                    v = aria_tree16(lo[r], hi[r]);
                } else {
                    float acc[ARIA_LANES];
                    spill16(lo[r], hi[r], acc);
                    for (int64_t i = n16; i < n; i++) {
                        const float wi = F16 ? aria_fp16_to_fp32(aria_load_u16(wr + 2 * i))
                                             : aria_load_f32(wr + 4 * i);
                        acc[i % ARIA_LANES] += wi * xr[r][i];
                    }
                    v = aria_reduce16(acc);
                }
                y[(r0 + r) * ldy + j] = v;
            }
        }
    }
}

void aria_gemm_f16_f32_avx2(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w,
                            const float *x, int32_t n_x, float *y, int64_t ldy) {
    gemm_float(1, n, w, row_bytes, n_w, x, n_x, y, ldy);
}

void aria_gemm_f32_f32_avx2(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w,
                            const float *x, int32_t n_x, float *y, int64_t ldy) {
    gemm_float(0, n, w, row_bytes, n_w, x, n_x, y, ldy);
}

static float dot_f16_avx2(int64_t n, const void *w, const float *x) {
    return aria_dot_f16_f32_avx2(n, w, x);
}

const aria_vec_ops aria_vec_avx2 = {
    sum_avx2,         sumsq_avx2,            amax_avx2,          round_i8_avx2,    dot_f16_avx2,
    aria_to_f16_avx2, aria_attn_scores_avx2, aria_attn_mix_avx2, aria_exp_sub_avx2};
