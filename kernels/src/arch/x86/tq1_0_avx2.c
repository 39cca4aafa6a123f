/* TQ1_0 x int8 dot, AVX2 tier (layout in formats.h, arithmetic in kernels.h).

   Trit n of a byte b is ((uint8_t)(b * 3^n) * 3) >> 8. In 16-bit lanes, with the byte moved to
   the high half (b << 8, or b & 0xff00 for the odd byte), _mm256_mullo_epi16 by 3^n keeps exactly
   (b * 3^n mod 256) << 8, and _mm256_mulhi_epu16 by 3 then yields ((b * 3^n mod 256) * 3) >> 8:
   the trit, in the low byte. The multiplier is per 16-bit lane, so one vector can decode
   different trits of different bytes. A block is 8 vectors of 32 trits in element order:
     qs[0..32) x 3^0 .. 3^4          -> elements   0..159 (5 vectors)
     qs[32..48) in both halves, x (3^0 | 3^1), (3^2 | 3^3) -> elements 160..223
     qs[32..48) x 3^4 | qh[0..4) x4 with dword k x 3^k     -> elements 224..255
   _mm256_maddubs_epi16(trit, x) minus maddubs(1, x) gives int16 pairs of (t - 1) * x,
   |pair| <= 2 * 128; 8 vectors stay far from saturation. The exact int32 block sum times the
   block's d is accumulated block after block in f32, as aria_dot_tq1_0_i8_ref does; a tensor
   whose blocks share one d (the row-sum kernels) adds the block sums in int32 and multiplies
   by d once, as aria_dot_tq1_0_row_sum_i8_ref does. The GEMM at the end of the file does the
   same per output lane. */
#include <immintrin.h>

#include "arch/x86/kernels_avx2.h"
#include "arch/x86/lanes_x86.h"

/* Trits of the 32 bytes of v, trit index chosen per 16-bit lane by pw = 3^n in that lane. */
static inline __m256i trits(__m256i v, __m256i pw) {
    const __m256i three = _mm256_set1_epi16(3);
    __m256i lo = _mm256_mullo_epi16(_mm256_slli_epi16(v, 8), pw);
    __m256i hi = _mm256_mullo_epi16(_mm256_and_si256(v, _mm256_set1_epi16((short)0xff00)), pw);
    lo = _mm256_mulhi_epu16(lo, three);
    hi = _mm256_mulhi_epu16(hi, three);
    return _mm256_or_si256(lo, _mm256_slli_epi16(hi, 8));
}

/* acc += int16 pairs of (t - 1) * x over 32 elements. */
static inline __m256i add_pairs(__m256i acc, __m256i t, const int8_t *x) {
    const __m256i xv = _mm256_loadu_si256((const __m256i *)x);
    acc = _mm256_add_epi16(acc, _mm256_maddubs_epi16(t, xv));
    return _mm256_sub_epi16(acc, _mm256_maddubs_epi16(_mm256_set1_epi8(1), xv));
}

/* Trit vector v (0..7) of block b: the 32 trits for elements [32 v, 32 v + 32). */
static inline __m256i trit_vec(const uint8_t *b, int v) {
    if (v < 5) {
        static const short pw[5] = {1, 3, 9, 27, 81};
        return trits(_mm256_loadu_si256((const __m256i *)b), _mm256_set1_epi16(pw[v]));
    }
    const __m128i qs1 = _mm_loadu_si128((const __m128i *)(b + 32));
    if (v < 7) { /* 3^n per 16-bit lane: low half | high half */
        const __m256i pw =
            v == 5 ? _mm256_setr_epi16(1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3)
                   : _mm256_setr_epi16(9, 9, 9, 9, 9, 9, 9, 9, 27, 27, 27, 27, 27, 27, 27, 27);
        return trits(_mm256_broadcastsi128_si256(qs1), pw);
    }
    int32_t qh;
    memcpy(&qh, b + TQ1_0_QH_OFFSET, sizeof qh);
    const __m256i pw = _mm256_setr_epi16(81, 81, 81, 81, 81, 81, 81, 81, 1, 1, 3, 3, 9, 9, 27, 27);
    return trits(_mm256_set_m128i(_mm_set1_epi32(qh), qs1), pw);
}

static int32_t block_isum(const uint8_t *b, const int8_t *x) {
    __m256i acc = _mm256_setzero_si256();
    for (int v = 0; v < 8; v++) acc = add_pairs(acc, trit_vec(b, v), x + 32 * v);
    return aria_hsum_i32(_mm256_madd_epi16(acc, _mm256_set1_epi16(1)));
}

float aria_dot_tq1_0_i8_avx2(int64_t n, const void *w, const int8_t *x, float d_tensor) {
    (void)d_tensor; /* per-block scales */
    const uint8_t *b = w;
    float acc = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++, b += sizeof(block_tq1_0)) {
        const float d = _cvtsh_ss(aria_load_u16(b + TQ1_0_D_OFFSET));
        acc += (float)block_isum(b, x + i * QK_K) * d;
    }
    return acc;
}

float aria_dot_tq1_0_row_sum_i8_avx2(int64_t n, const void *w, const int8_t *x, float d) {
    const uint8_t *b = w;
    int32_t isum = 0;
    for (int64_t i = 0; i < n / QK_K; i++, b += sizeof(block_tq1_0))
        isum += block_isum(b, x + i * QK_K);
    return (float)isum * d;
}

/* ---- GEMM: NJ weight rows x NR activation rows per tile, NJ * NR = 8 -----------------------

   Lane p = j * NR + r of one f32 vector is output (j, r) and performs exactly the dot's
   operations: per block, isum = sum(t * x) - (the caller's two 128-group sums of x), then
   acc += (float)isum * d_block, blocks in index order (RS: isum added in int32, times d at
   the end). Trits decoded once per weight row serve
   all NR activation rows; maddubs pairs <= 2 * 2 * 128, 8 vectors <= 4096 in int16. */
#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE void tile(const int RS, const int NJ, const int NR, int64_t nb,
                        const uint8_t *const *wr, const int8_t *const *xr,
                        const int32_t *const *sr, float d_rs, float *out) {
    const __m256i ones16 = _mm256_set1_epi16(1);
    __m256 facc = _mm256_setzero_ps();
    __m256i iacc = _mm256_setzero_si256();
    for (int64_t b = 0; b < nb; b++) {
        __m256i acc[8];
#pragma GCC unroll 8
        for (int p = 0; p < 8; p++) acc[p] = _mm256_setzero_si256();
#pragma GCC unroll 8
        for (int v = 0; v < 8; v++) {
            __m256i t[8];
#pragma GCC unroll 8
            for (int j = 0; j < NJ; j++)
                t[j] = trit_vec(wr[j] + b * (int64_t)sizeof(block_tq1_0), v);
#pragma GCC unroll 8
            for (int r = 0; r < NR; r++) {
                const __m256i xv =
                    _mm256_loadu_si256((const __m256i *)(xr[r] + b * QK_K + 32 * v));
#pragma GCC unroll 8
                for (int j = 0; j < NJ; j++)
                    acc[j * NR + r] =
                        _mm256_add_epi16(acc[j * NR + r], _mm256_maddubs_epi16(t[j], xv));
            }
        }
#pragma GCC unroll 8
        for (int p = 0; p < 8; p++) acc[p] = _mm256_madd_epi16(acc[p], ones16);
        int32_t bs[8];
        float dl[8];
        for (int j = 0; j < NJ; j++) {
            const uint8_t *blk = wr[j] + b * (int64_t)sizeof(block_tq1_0);
            const float d = _cvtsh_ss(aria_load_u16(blk + TQ1_0_D_OFFSET));
            for (int r = 0; r < NR; r++) {
                bs[j * NR + r] = sr[r][2 * b] + sr[r][2 * b + 1];
                dl[j * NR + r] = d;
            }
        }
        const __m256i isum =
            _mm256_sub_epi32(aria_hsum8(acc), _mm256_loadu_si256((const __m256i *)bs));
        if (RS) iacc = _mm256_add_epi32(iacc, isum);
        else facc = _mm256_add_ps(facc, _mm256_mul_ps(_mm256_cvtepi32_ps(isum), _mm256_loadu_ps(dl)));
    }
    if (RS) facc = _mm256_mul_ps(_mm256_cvtepi32_ps(iacc), _mm256_set1_ps(d_rs));
    _mm256_storeu_ps(out, facc);
}

ALWAYS_INLINE void gemm(const int RS, int64_t n, const uint8_t *w, uint64_t row_bytes,
                        int32_t n_w, const int8_t *x, const int32_t *xsum, int32_t n_x, float *y,
                        int64_t ldy, float d) {
    const int64_t nb = n / QK_K, ns = n / 128;
    float out[8];
    for (int32_t r0 = 0; r0 < n_x; r0 += 8) {
        const int32_t nr = n_x - r0 < 8 ? n_x - r0 : 8;
        /* rows per tile: 1 activation row -> 8 weight rows, 2 -> 4, 3..4 -> 2, more -> 1 */
        const int NR = nr == 1 ? 1 : nr == 2 ? 2 : nr <= 4 ? 4 : 8, NJ = 8 / NR;
        const int8_t *xr[8];
        const int32_t *sr[8];
        for (int r = 0; r < NR; r++) { /* rows past nr repeat row r0: padding lanes */
            const int32_t rr = r0 + (r < nr ? r : 0);
            xr[r] = x + rr * n;
            sr[r] = xsum + rr * ns;
        }
        for (int32_t j0 = 0; j0 < n_w; j0 += NJ) {
            const uint8_t *wr[8];
            for (int j = 0; j < NJ; j++) /* rows past n_w repeat row j0 */
                wr[j] = w + (uint64_t)(j0 + (j0 + j < n_w ? j : 0)) * row_bytes;
            switch (NR) {
            case 1: tile(RS, 8, 1, nb, wr, xr, sr, d, out); break;
            case 2: tile(RS, 4, 2, nb, wr, xr, sr, d, out); break;
            case 4: tile(RS, 2, 4, nb, wr, xr, sr, d, out); break;
            default: tile(RS, 1, 8, nb, wr, xr, sr, d, out); break;
            }
            for (int j = 0; j < NJ && j0 + j < n_w; j++)
                for (int r = 0; r < nr; r++) y[(r0 + r) * ldy + j0 + j] = out[j * NR + r];
        }
    }
}

void aria_gemm_tq1_0_i8_avx2(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w,
                             const int8_t *x, const int32_t *xsum, int32_t n_x, float *y,
                             int64_t ldy, float d) {
    gemm(0, n, w, row_bytes, n_w, x, xsum, n_x, y, ldy, d); /* d unused: per-block scales */
}

void aria_gemm_tq1_0_row_sum_i8_avx2(int64_t n, const uint8_t *w, uint64_t row_bytes,
                                     int32_t n_w, const int8_t *x, const int32_t *xsum,
                                     int32_t n_x, float *y, int64_t ldy, float d) {
    gemm(1, n, w, row_bytes, n_w, x, xsum, n_x, y, ldy, d);
}
