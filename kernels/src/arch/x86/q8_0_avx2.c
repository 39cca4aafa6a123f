/* Q8_0 dots, AVX2 tier (layout in formats.h, arithmetic in kernels.h).

   Weights and activations are sign-extended to int16 and multiplied with _mm256_madd_epi16
   (pairs of products <= 2 * 128 * 128 fit int32), which is exact for every int8 including
   -128 (the maddubs sign trick is not). Eight blocks at a time: an hadd tree gives their exact
   int32 sums in one vector, times (dw [* xd]) per lane, added to one of two f32 accumulators
   holding the 16 striped lanes (block b -> lane b % 16); a tail of fewer than 8 blocks and the
   final reduction are done on the spilled lanes exactly as in aria_dot_q8_0_*_ref. */
#include <immintrin.h>

#include "arch/x86/kernels_avx2.h"
#include "arch/x86/lanes_x86.h"

#define BLOCK_BYTES ((int64_t)sizeof(block_q8_0))

/* 8 int32 partial sums of one block's 32 products. */
static inline __m256i block_prod(const uint8_t *b, const int8_t *x) {
    const __m256i w = _mm256_loadu_si256((const __m256i *)(b + Q8_0_QS_OFFSET));
    const __m256i xv = _mm256_loadu_si256((const __m256i *)x);
    const __m256i w0 = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(w));
    const __m256i w1 = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(w, 1));
    const __m256i x0 = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(xv));
    const __m256i x1 = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(xv, 1));
    return _mm256_add_epi32(_mm256_madd_epi16(w0, x0), _mm256_madd_epi16(w1, x1));
}

/* The 8 block terms isum_k * (dw_k [* xd_k]) of blocks b[0..8). */
static inline __m256 terms8(const uint8_t *b, const int8_t *x, const float *xd) {
    __m256i p[8];
    for (int k = 0; k < 8; k++) p[k] = block_prod(b + k * BLOCK_BYTES, x + 32 * k);
    const __m256i isum = aria_hsum8(p);
    __m256 d = _mm256_cvtph_ps(_mm_setr_epi16(
        (short)aria_load_u16(b), (short)aria_load_u16(b + BLOCK_BYTES),
        (short)aria_load_u16(b + 2 * BLOCK_BYTES), (short)aria_load_u16(b + 3 * BLOCK_BYTES),
        (short)aria_load_u16(b + 4 * BLOCK_BYTES), (short)aria_load_u16(b + 5 * BLOCK_BYTES),
        (short)aria_load_u16(b + 6 * BLOCK_BYTES), (short)aria_load_u16(b + 7 * BLOCK_BYTES)));
    if (xd) d = _mm256_mul_ps(d, _mm256_loadu_ps(xd));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(isum), d);
}

static float dot_q8_0(int64_t n, const uint8_t *b, const int8_t *x, const float *xd) {
    const int64_t nb = n / QK8_0;
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps(); /* lanes 0..7, 8..15 */
    int64_t i = 0;
    for (; i + 8 <= nb; i += 8) {
        const __m256 t = terms8(b + i * BLOCK_BYTES, x + i * QK8_0, xd ? xd + i : NULL);
        if (i % ARIA_LANES == 0) lo = _mm256_add_ps(lo, t);
        else hi = _mm256_add_ps(hi, t);
    }
    float acc[ARIA_LANES];
    _mm256_storeu_ps(acc, lo);
    _mm256_storeu_ps(acc + 8, hi);
    for (; i < nb; i++) {
        const int32_t isum = aria_hsum_i32(block_prod(b + i * BLOCK_BYTES, x + i * QK8_0));
        float d = _cvtsh_ss(aria_load_u16(b + i * BLOCK_BYTES));
        if (xd) d *= xd[i];
        acc[i % ARIA_LANES] += (float)isum * d;
    }
    return aria_reduce16(acc);
}

/* F16 row -> Q8_0, the bytes of aria_quantize_row_q8_0_f16_ref: F16C conversion is exact;
   max_ps(|x|, acc) returns acc when |x| is NaN (NaN ignored, as the reference's a > amax);
   d and 1/d are computed in scalar f32 as in the reference; rounding is half-to-even
   (_mm256_round_ps, like nearbyintf); NaN products are zeroed before the clamp to +-127. */
void aria_quantize_row_q8_0_f16_avx2(const void *w, void *y, int64_t n) {
    const uint8_t *src = w;
    uint8_t *dst = y;
    const __m256 sign = _mm256_set1_ps(-0.0f), lim = _mm256_set1_ps(127.0f);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int64_t b = 0; b < n / QK8_0; b++, src += 2 * QK8_0, dst += BLOCK_BYTES) {
        __m256 v[4];
        __m256 amax = _mm256_setzero_ps();
        for (int k = 0; k < 4; k++) {
            v[k] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + 16 * k)));
            amax = _mm256_max_ps(_mm256_andnot_ps(sign, v[k]), amax);
        }
        __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
        m = _mm_max_ps(m, _mm_movehl_ps(m, m));
        m = _mm_max_ss(m, _mm_movehdup_ps(m));
        const float d = _mm_cvtss_f32(m) / 127.0f;
        const __m256 id = _mm256_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
        __m256i q[4];
        for (int k = 0; k < 4; k++) {
            __m256 r = _mm256_round_ps(_mm256_mul_ps(v[k], id),
                                       _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            r = _mm256_and_ps(r, _mm256_cmp_ps(r, r, _CMP_ORD_Q)); /* NaN -> 0 */
            r = _mm256_max_ps(_mm256_min_ps(r, lim), _mm256_sub_ps(_mm256_setzero_ps(), lim));
            q[k] = _mm256_cvtps_epi32(r);
        }
        /* packs interleave 128-bit lanes; the permute restores element order */
        const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]),
                                             _mm256_packs_epi32(q[2], q[3]));
        _mm256_storeu_si256((__m256i *)(dst + Q8_0_QS_OFFSET),
                            _mm256_permutevar8x32_epi32(p, order));
        const uint16_t dh = aria_fp32_to_fp16(d);
        memcpy(dst, &dh, sizeof dh);
    }
}

float aria_dot_q8_0_i8_avx2(int64_t n, const void *w, const int8_t *x, float d_tensor) {
    (void)d_tensor; /* per-block scales */
    return dot_q8_0(n, w, x, NULL);
}

float aria_dot_q8_0_q8_avx2(int64_t n, const void *w, const int8_t *xq, const float *xd) {
    return dot_q8_0(n, w, xq, xd);
}
