/* I2_S x int8 dot, AVX2 tier (layout in formats.h, arithmetic in kernels.h).

   A 128-weight block is 32 bytes; shifting them right by 6, 4, 2, 0 and masking with 3 gives the
   u8 codes of elements [0, 32), [32, 64), [64, 96), [96, 128) in order. _mm256_maddubs_epi16
   multiplies the codes (0..3) by the s8 activations and adds pairs into int16: |pair| <=
   2 * 3 * 128 = 768, so int16 lanes take FLUSH_BLOCKS * 4 = 32 such vectors (24576) before they
   are widened into int32. sum(code * x) - sum(x) is the row's exact sum((code - 1) * x) (code 3
   counts as +2, as in the reference); an integer sum does not depend on the order it is taken
   in, so any tiling here is bit-identical to aria_dot_i2_s_i8_ref. */
#include <immintrin.h>

#include "arch/x86/kernels_avx2.h"

/* 128-weight blocks summed in int16 before widening to int32 (see above). */
#define FLUSH_BLOCKS 8
#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE int32_t hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

/* Codes of elements [32 g, 32 g + 32) of the 32-byte block at b. */
ALWAYS_INLINE __m256i codes(const uint8_t *b, int g) {
    const __m256i v = _mm256_loadu_si256((const __m256i *)b);
    return _mm256_and_si256(g == 3 ? v : _mm256_srli_epi16(v, 6 - 2 * g), _mm256_set1_epi8(3));
}

/* sum(x[0..n)) from the 128-group sums. */
static int32_t row_xsum(const int32_t *xsum, int64_t n) {
    int32_t s = 0;
    for (int64_t k = 0; k < n / QK_I2_S; k++) s += xsum[k];
    return s;
}

float aria_dot_i2_s_i8_avx2(int64_t n, const void *w, const int8_t *x, float d) {
    const uint8_t *b = w;
    const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
    __m256i acc32 = _mm256_setzero_si256();
    for (int64_t i = 0; i < n; i += FLUSH_BLOCKS * QK_I2_S) {
        const int64_t end = i + FLUSH_BLOCKS * QK_I2_S < n ? i + FLUSH_BLOCKS * QK_I2_S : n;
        __m256i acc = _mm256_setzero_si256();
        for (int64_t k = i; k < end; k += QK_I2_S)
            for (int g = 0; g < 4; g++) {
                const __m256i xv = _mm256_loadu_si256((const __m256i *)(x + k + 32 * g));
                acc = _mm256_add_epi16(acc, _mm256_maddubs_epi16(codes(b + k / 4, g), xv));
                acc = _mm256_sub_epi16(acc, _mm256_maddubs_epi16(ones8, xv));
            }
        acc32 = _mm256_add_epi32(acc32, _mm256_madd_epi16(acc, ones16));
    }
    return (float)hsum_i32(acc32) * d;
}

/* ---- GEMM: NJ weight rows x NR activation rows per tile, NJ * NR = 8 -----------------------

   Output (j, r) is lane p = j * NR + r of the result: its int16 accumulator takes 32 vectors
   at most, then is widened into an int32 one; at the end each is reduced, the row's sum of x
   subtracted and the total scaled by d. Padding lanes repeat a valid row. */

/* [total(v[0]) .. total(v[7])] */
ALWAYS_INLINE __m256i hsum8(const __m256i *v) {
    const __m256i h0 =
        _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
    const __m256i h1 =
        _mm256_hadd_epi32(_mm256_hadd_epi32(v[4], v[5]), _mm256_hadd_epi32(v[6], v[7]));
    return _mm256_add_epi32(_mm256_permute2x128_si256(h0, h1, 0x20),
                            _mm256_permute2x128_si256(h0, h1, 0x31));
}

/* The next tile's weight rows (next, pf_bytes long: they follow this tile's in memory) are
   prefetched a slice per block: short rows taken 8 at a time defeat the hardware prefetchers
   (perf put decode's time on the weight loads; 1-thread decode read 5.8 GB/s of 14). */
ALWAYS_INLINE void tile(const int NJ, const int NR, int64_t n, const uint8_t *const *wr,
                        const int8_t *const *xr, const int32_t *xtot, float d, float *out,
                        const uint8_t *next, int64_t pf_bytes) {
    const int64_t pf_step = (pf_bytes * QK_I2_S + n - 1) / n;
    const __m256i ones16 = _mm256_set1_epi16(1);
    __m256i acc32[8];
#pragma GCC unroll 8
    for (int p = 0; p < 8; p++) acc32[p] = _mm256_setzero_si256();
    for (int64_t i = 0; i < n; i += FLUSH_BLOCKS * QK_I2_S) {
        const int64_t end = i + FLUSH_BLOCKS * QK_I2_S < n ? i + FLUSH_BLOCKS * QK_I2_S : n;
        __m256i acc[8];
#pragma GCC unroll 8
        for (int p = 0; p < 8; p++) acc[p] = _mm256_setzero_si256();
        for (int64_t k = i; k < end; k += QK_I2_S) {
            if (NJ >= 4) { /* one weight row at a time streams well enough on its own */
                const int64_t pf = k / QK_I2_S * pf_step;
                for (int64_t o = pf & ~(int64_t)63; o < pf + pf_step; o += 64)
                    _mm_prefetch((const char *)next + o, _MM_HINT_T0);
            }
#pragma GCC unroll 4
            for (int g = 0; g < 4; g++) {
                __m256i code[8];
#pragma GCC unroll 8
                for (int j = 0; j < NJ; j++) code[j] = codes(wr[j] + k / 4, g);
#pragma GCC unroll 8
                for (int r = 0; r < NR; r++) {
                    const __m256i xv = _mm256_loadu_si256((const __m256i *)(xr[r] + k + 32 * g));
#pragma GCC unroll 8
                    for (int j = 0; j < NJ; j++)
                        acc[j * NR + r] = _mm256_add_epi16(acc[j * NR + r],
                                                           _mm256_maddubs_epi16(code[j], xv));
                }
                /* Keep one running sum per output in a register: left alone, gcc sums the four
                   groups as a tree and spills the partial products (measured ~25 % slower). */
#pragma GCC unroll 8
                for (int p = 0; p < 8; p++) __asm__("" : "+x"(acc[p]));
            }
        }
#pragma GCC unroll 8
        for (int p = 0; p < 8; p++)
            acc32[p] = _mm256_add_epi32(acc32[p], _mm256_madd_epi16(acc[p], ones16));
    }
    const __m256i isum = _mm256_sub_epi32(hsum8(acc32), _mm256_loadu_si256((const __m256i *)xtot));
    _mm256_storeu_ps(out, _mm256_mul_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(d)));
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
        int32_t xtot[8];
        for (int r = 0; r < NR; r++) {
            const int32_t rr = r0 + (r < nr ? r : 0);
            xr[r] = x + rr * n;
            xtot[r] = row_xsum(xsum + rr * ns, n);
        }
        for (int p = NR; p < 8; p++) xtot[p] = xtot[p % NR]; /* lane j * NR + r: row r's */
        for (int32_t j0 = 0; j0 < n_w; j0 += NJ) {
            const uint8_t *wr[8];
            for (int j = 0; j < NJ; j++) /* rows past n_w repeat row j0: padding lanes */
                wr[j] = w + (uint64_t)(j0 + (j0 + j < n_w ? j : 0)) * row_bytes;
            /* prefetching past the matrix is harmless: a prefetch never faults */
            const uint8_t *next = w + (uint64_t)(j0 + NJ) * row_bytes;
            const int64_t pf = (int64_t)(NJ * row_bytes);
            switch (NR) {
            case 1: tile(8, 1, n, wr, xr, xtot, d, out, next, pf); break;
            case 2: tile(4, 2, n, wr, xr, xtot, d, out, next, pf); break;
            case 4: tile(2, 4, n, wr, xr, xtot, d, out, next, pf); break;
            default: tile(1, 8, n, wr, xr, xtot, d, out, next, pf); break;
            }
            for (int j = 0; j < NJ && j0 + j < n_w; j++)
                for (int r = 0; r < nr; r++) y[(r0 + r) * ldy + j0 + j] = out[j * NR + r];
        }
    }
}
