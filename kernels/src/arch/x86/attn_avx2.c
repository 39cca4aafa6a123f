/* The KV cache (binary16 rows) and attention over a KV head's cached rows, AVX2 tier, for
   head sizes that are multiples of 16 (other sizes take the reference loops). One call covers
   all query heads of a KV head and all positions: the per-position calls they replace cost
   more than their arithmetic at long contexts (perf: 33 % of the samples of a run that
   prefills 1024 positions and decodes after them were in dot and axpy).

   Bit-identical to the reference (kernels.h): _mm256_cvtph_ps is exact; each score is the
   striped dot_f16 -- register lo takes lanes 0..7, hi 8..15, products rounded before they
   are added, the same aria_tree16 -- times scale; each mix step is y + a * x with the product
   rounded, positions in order for every output element. Only the order of independent
   results changes. _mm256_cvtps_ph rounds to nearest even like aria_fp32_to_fp16; NaN lanes
   are set to its sign | 0x7e00. */
#include <immintrin.h>

#include "arch/x86/kernels_avx2.h"
#include "arch/x86/lanes_x86.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))
/* cached rows prefetched ahead of the one in use */
#define PF_ROWS 8

ALWAYS_INLINE __m256 f16x8(const uint16_t *h) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)h));
}

void aria_to_f16_avx2(int64_t n, const float *x, uint16_t *h) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        const __m128i r = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        const __m256i nan32 = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        const __m128i nan16 = _mm_packs_epi32(_mm256_castsi256_si128(nan32),
                                              _mm256_extracti128_si256(nan32, 1));
        if (_mm_testz_si128(nan16, nan16)) {
            _mm_storeu_si128((__m128i *)(h + i), r);
            continue;
        }
        const __m256i sign32 = _mm256_srli_epi32(_mm256_castps_si256(v), 16);
        const __m128i sign16 = _mm_and_si128(
            _mm_packus_epi32(_mm256_castsi256_si128(sign32), _mm256_extracti128_si256(sign32, 1)),
            _mm_set1_epi16((short)0x8000));
        const __m128i qnan = _mm_or_si128(sign16, _mm_set1_epi16(0x7e00));
        _mm_storeu_si128((__m128i *)(h + i), _mm_blendv_epi8(r, qnan, nan16));
    }
    for (; i < n; i++) h[i] = aria_fp32_to_fp16(x[i]);
}

void aria_attn_scores_avx2(int32_t hd, int32_t nh, const float *q, const uint16_t *k,
                           int64_t k_stride, int32_t n_pos, float scale, float *s,
                           int64_t s_stride) {
    if (hd % 16) {
        aria_attn_scores_loop(aria_dot_f16_f32_avx2, hd, nh, q, k, k_stride, n_pos, scale, s, s_stride);
        return;
    }
    for (int32_t t = 0; t < n_pos; t++) {
        const uint16_t *kt = k + t * k_stride;
        /* rows are a stride apart: fetch a few ahead (one ahead did not cover the latency) */
        if (t + PF_ROWS < n_pos)
            for (int32_t i = 0; i < hd; i += 32)
                _mm_prefetch((const char *)(kt + PF_ROWS * k_stride + i), _MM_HINT_T0);
        for (int32_t h = 0; h < nh; h++) {
            const float *qh = q + (int64_t)h * hd;
            __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
            for (int32_t i = 0; i < hd; i += 16) {
                lo = _mm256_add_ps(lo, _mm256_mul_ps(f16x8(kt + i), _mm256_loadu_ps(qh + i)));
                hi = _mm256_add_ps(hi, _mm256_mul_ps(f16x8(kt + i + 8), _mm256_loadu_ps(qh + i + 8)));
            }
            s[h * s_stride + t] = aria_tree16(lo, hi) * scale;
        }
    }
}

/* NH (<= 4) heads, 16 output columns [c, c + 16) of each, every position: the 2 * NH running
   sums stay in registers and each value row slice is loaded once for all NH heads. */
ALWAYS_INLINE void mix_cols(const int NH, int32_t hd, int32_t c, const float *a, int64_t a_stride,
                            const uint16_t *v, int64_t v_stride, int32_t n_pos, float *o) {
    __m256 acc[8];
#pragma GCC unroll 4
    for (int h = 0; h < NH; h++) {
        acc[2 * h] = _mm256_loadu_ps(o + (int64_t)h * hd + c);
        acc[2 * h + 1] = _mm256_loadu_ps(o + (int64_t)h * hd + c + 8);
    }
    for (int32_t t = 0; t < n_pos; t++) {
        const uint16_t *vt = v + t * v_stride + c;
        /* The first column pass brings each value row slice in whole, a few rows ahead: the
           passes after it then read it from cache instead of one line per strided row. */
        if (c == 0 && t + PF_ROWS < n_pos)
            for (int32_t i = 0; i < hd; i += 32)
                _mm_prefetch((const char *)(vt + PF_ROWS * v_stride + i), _MM_HINT_T0);
        const __m256 x0 = f16x8(vt), x1 = f16x8(vt + 8);
#pragma GCC unroll 4
        for (int h = 0; h < NH; h++) {
            const __m256 w = _mm256_set1_ps(a[h * a_stride + t]);
            acc[2 * h] = _mm256_add_ps(acc[2 * h], _mm256_mul_ps(w, x0));
            acc[2 * h + 1] = _mm256_add_ps(acc[2 * h + 1], _mm256_mul_ps(w, x1));
        }
    }
#pragma GCC unroll 4
    for (int h = 0; h < NH; h++) {
        _mm256_storeu_ps(o + (int64_t)h * hd + c, acc[2 * h]);
        _mm256_storeu_ps(o + (int64_t)h * hd + c + 8, acc[2 * h + 1]);
    }
}

void aria_attn_mix_avx2(int32_t hd, int32_t nh, const float *a, int64_t a_stride,
                        const uint16_t *v, int64_t v_stride, int32_t n_pos, float *o) {
    if (hd % 16) {
        aria_attn_mix_loop(hd, nh, a, a_stride, v, v_stride, n_pos, o);
        return;
    }
    for (int32_t h0 = 0; h0 < nh; h0 += 4) {
        const int n = nh - h0 < 4 ? nh - h0 : 4;
        const float *ah = a + h0 * a_stride;
        float *oh = o + (int64_t)h0 * hd;
        for (int32_t c = 0; c < hd; c += 16) {
            switch (n) {
            case 1: mix_cols(1, hd, c, ah, a_stride, v, v_stride, n_pos, oh); break;
            case 2: mix_cols(2, hd, c, ah, a_stride, v, v_stride, n_pos, oh); break;
            case 3: mix_cols(3, hd, c, ah, a_stride, v, v_stride, n_pos, oh); break;
            default: mix_cols(4, hd, c, ah, a_stride, v, v_stride, n_pos, oh); break;
            }
        }
    }
}
