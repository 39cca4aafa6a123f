/* I2_S x int8 dot, AVX2 tier (layout in formats.h, arithmetic in kernels.h).

   A 128-weight block is 32 bytes; shifting them right by 6, 4, 2, 0 and masking with 3 gives the
   u8 codes of elements [0, 32), [32, 64), [64, 96), [96, 128) in order. _mm256_maddubs_epi16
   multiplies the codes (0..3) by the s8 activations and adds pairs into int16 (|pair| <=
   2 * 3 * 128 = 768: no saturation); subtracting the same with codes of 1 leaves pairs of
   (code - 1) * x, |pair| <= 2 * 2 * 128 = 512, so the 8 vectors of a 256-weight group stay
   within 8 * 512 + 768 per int16 lane. Code 3 counts as +2, as in the reference. The group's
   exact int32 sum is then scaled by d and accumulated group after group in f32, exactly as
   aria_dot_i2_s_i8_ref does. */
#include <immintrin.h>

#include "arch/x86/kernels_avx2.h"

static inline int32_t hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

/* Adds sum(code * x) - sum(x) of one 128-weight block, as int16 pairs, to acc. */
static inline __m256i block_pairs(const uint8_t *b, const int8_t *x, __m256i acc) {
    const __m256i m3 = _mm256_set1_epi8(3), ones = _mm256_set1_epi8(1);
    const __m256i v = _mm256_loadu_si256((const __m256i *)b);
    for (int g = 0; g < 4; g++) {
        const __m256i code = _mm256_and_si256(_mm256_srli_epi16(v, 6 - 2 * g), m3);
        const __m256i xv = _mm256_loadu_si256((const __m256i *)(x + 32 * g));
        acc = _mm256_add_epi16(acc, _mm256_maddubs_epi16(code, xv));
        acc = _mm256_sub_epi16(acc, _mm256_maddubs_epi16(ones, xv));
    }
    return acc;
}

float aria_dot_i2_s_i8_avx2(int64_t n, const void *w, const int8_t *x, float d) {
    const uint8_t *b = w;
    const __m256i ones16 = _mm256_set1_epi16(1);
    float acc = 0.0f;
    for (int64_t i = 0; i < n; i += QK_K) {
        __m256i p = block_pairs(b + i / 4, x + i, _mm256_setzero_si256());
        if (i + QK_I2_S < n) p = block_pairs(b + i / 4 + I2_S_BLOCK_BYTES, x + i + QK_I2_S, p);
        const int32_t isum = hsum_i32(_mm256_madd_epi16(p, ones16));
        acc += (float)isum * d;
    }
    return acc;
}

/* ---- GEMM: NJ weight rows x NR activation rows per tile, NJ * NR = 8 -----------------------

   Lane p = j * NR + r of one f32 vector is output (j, r) and performs exactly the dot's
   operations: per 256-group, isum = sum(code * x) - xsum (the caller's 128-group sums of x),
   then acc += (float)isum * d, groups in index order. Codes 0..3 times s8 in maddubs pairs stay
   <= 768, 8 vectors per group <= 6144 in int16. Padding lanes repeat a valid row. */
#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* [total(v[0]) .. total(v[7])] */
ALWAYS_INLINE __m256i hsum8(const __m256i *v) {
    const __m256i h0 =
        _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
    const __m256i h1 =
        _mm256_hadd_epi32(_mm256_hadd_epi32(v[4], v[5]), _mm256_hadd_epi32(v[6], v[7]));
    return _mm256_add_epi32(_mm256_permute2x128_si256(h0, h1, 0x20),
                            _mm256_permute2x128_si256(h0, h1, 0x31));
}

ALWAYS_INLINE void tile(const int NJ, const int NR, int64_t n, const uint8_t *const *wr,
                        const int8_t *const *xr, const int32_t *const *sr, float d, float *out) {
    const __m256i m3 = _mm256_set1_epi8(3), ones16 = _mm256_set1_epi16(1);
    const __m256 dv = _mm256_set1_ps(d);
    __m256 facc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; i += QK_K) {
        const int nblk = i + QK_I2_S < n ? 2 : 1;
        __m256i acc[8];
#pragma GCC unroll 8
        for (int p = 0; p < 8; p++) acc[p] = _mm256_setzero_si256();
        for (int blk = 0; blk < nblk; blk++) {
            __m256i v[8];
#pragma GCC unroll 8
            for (int j = 0; j < NJ; j++)
                v[j] = _mm256_loadu_si256(
                    (const __m256i *)(wr[j] + i / 4 + blk * I2_S_BLOCK_BYTES));
#pragma GCC unroll 4
            for (int g = 0; g < 4; g++) {
                __m256i code[8];
#pragma GCC unroll 8
                for (int j = 0; j < NJ; j++)
                    code[j] = _mm256_and_si256(_mm256_srli_epi16(v[j], 6 - 2 * g), m3);
#pragma GCC unroll 8
                for (int r = 0; r < NR; r++) {
                    const __m256i xv =
                        _mm256_loadu_si256((const __m256i *)(xr[r] + i + blk * QK_I2_S + 32 * g));
#pragma GCC unroll 8
                    for (int j = 0; j < NJ; j++)
                        acc[j * NR + r] = _mm256_add_epi16(acc[j * NR + r],
                                                           _mm256_maddubs_epi16(code[j], xv));
                }
            }
        }
#pragma GCC unroll 8
        for (int p = 0; p < 8; p++) acc[p] = _mm256_madd_epi16(acc[p], ones16);
        int32_t bs[8];
        for (int j = 0; j < NJ; j++)
            for (int r = 0; r < NR; r++)
                bs[j * NR + r] = sr[r][i / QK_I2_S] + (nblk == 2 ? sr[r][i / QK_I2_S + 1] : 0);
        const __m256i isum = _mm256_sub_epi32(hsum8(acc), _mm256_loadu_si256((const __m256i *)bs));
        facc = _mm256_add_ps(facc, _mm256_mul_ps(_mm256_cvtepi32_ps(isum), dv));
    }
    _mm256_storeu_ps(out, facc);
}

void aria_gemm_i2_s_i8_avx2(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w,
                            const int8_t *x, const int32_t *xsum, int32_t n_x, float *y,
                            int64_t ldy, float d) {
    const int64_t ns = n / QK_I2_S;
    float out[8];
    for (int32_t r0 = 0; r0 < n_x; r0 += 8) {
        const int32_t nr = n_x - r0 < 8 ? n_x - r0 : 8;
        /* rows per tile: 1 activation row -> 8 weight rows, 2 -> 4, 3..4 -> 2, more -> 1 */
        const int NR = nr == 1 ? 1 : nr == 2 ? 2 : nr <= 4 ? 4 : 8, NJ = 8 / NR;
        const int8_t *xr[8];
        const int32_t *sr[8];
        for (int r = 0; r < NR; r++) {
            const int32_t rr = r0 + (r < nr ? r : 0);
            xr[r] = x + rr * n;
            sr[r] = xsum + rr * ns;
        }
        for (int32_t j0 = 0; j0 < n_w; j0 += NJ) {
            const uint8_t *wr[8];
            for (int j = 0; j < NJ; j++) /* rows past n_w repeat row j0: padding lanes */
                wr[j] = w + (uint64_t)(j0 + (j0 + j < n_w ? j : 0)) * row_bytes;
            switch (NR) {
            case 1: tile(8, 1, n, wr, xr, sr, d, out); break;
            case 2: tile(4, 2, n, wr, xr, sr, d, out); break;
            case 4: tile(2, 4, n, wr, xr, sr, d, out); break;
            default: tile(1, 8, n, wr, xr, sr, d, out); break;
            }
            for (int j = 0; j < NJ && j0 + j < n_w; j++)
                for (int r = 0; r < nr; r++) y[(r0 + r) * ldy + j0 + j] = out[j * NR + r];
        }
    }
}
