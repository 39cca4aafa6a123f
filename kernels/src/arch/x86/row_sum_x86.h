/* The 2-bit ternary formats with one scale per tensor: I2_S, and TQ2_0 tensors whose blocks
   all carry the same d (layouts in formats.h, the row-sum arithmetic in kernels.h). The body
   shared by the AVX2 tier (row_sum_avx2.c, RS_VNNI 0) and the AVX-VNNI one
   (row_sum_avxvnni.c, RS_VNNI 1), which name the functions.

   Both store 128 weights in 32 bytes ("a unit"): shifting the unit's bytes right and masking
   with 3 gives the u8 codes of 32 consecutive elements. I2_S: unit k / 128 at byte k / 4,
   elements [32 g, 32 g + 32) at shift 6 - 2 g. TQ2_0: half k / 128 % 2 of block k / 256 (66
   bytes, fp16 d last), elements at shift 2 g. _mm256_maddubs_epi16 multiplies the codes (0..3)
   by the s8 activations and adds pairs into int16: |pair| <= 2 * 3 * 128 = 768, so int16 lanes
   take FLUSH_UNITS * 4 = 32 such vectors (24576) before they are widened into int32. With
   AVX-VNNI, _mm256_dpbusd_avx_epi32 adds the same products into int32 lanes directly.
   sum(code * x) - sum(x) is the row's exact sum((code - 1) * x) (code 3 counts as +2, as in
   the references); an integer sum does not depend on the order it is taken in, so any tiling
   here is bit-identical to aria_dot_i2_s_i8_ref / aria_dot_tq2_0_row_sum_i8_ref. */
#include <immintrin.h>

#include "arch/x86/kernels_avx2.h"
#include "arch/x86/lanes_x86.h"

/* 128-weight units summed in int16 before widening to int32 (see above). */
#define FLUSH_UNITS 8
#define ALWAYS_INLINE static inline __attribute__((always_inline))

#if RS_VNNI
#define MAC(acc, q, x) _mm256_dpbusd_avx_epi32((acc), (q), (x))
#define WIDEN(acc) (acc)
#else
#define MAC(acc, q, x) _mm256_add_epi16((acc), _mm256_maddubs_epi16((q), (x)))
#define WIDEN(acc) _mm256_madd_epi16((acc), _mm256_set1_epi16(1))
#endif

enum { I2_S, TQ2_0 }; /* layouts */

/* The unit holding elements [k, k + 128) of a row (k % 128 == 0). */
ALWAYS_INLINE const uint8_t *unit(const int L, const uint8_t *row, int64_t k) {
    if (L == I2_S) return row + k / 4;
    return row + k / QK_K * (int64_t)sizeof(block_tq2_0) + (k / 128 % 2) * 32;
}

/* Codes of elements [32 g, 32 g + 32) of the unit at b. */
ALWAYS_INLINE __m256i codes(const int L, const uint8_t *b, int g) {
    const __m256i v = _mm256_loadu_si256((const __m256i *)b);
    const int shift = L == I2_S ? 6 - 2 * g : 2 * g;
    return _mm256_and_si256(shift ? _mm256_srli_epi16(v, shift) : v, _mm256_set1_epi8(3));
}

/* sum(x[0..n)) from the 128-group sums. */
static int32_t row_xsum(const int32_t *xsum, int64_t n) {
    int32_t s = 0;
    for (int64_t k = 0; k < n / 128; k++) s += xsum[k];
    return s;
}

ALWAYS_INLINE float dot(const int L, int64_t n, const uint8_t *b, const int8_t *x, float d) {
    const __m256i ones8 = _mm256_set1_epi8(1);
    __m256i acc32 = _mm256_setzero_si256(), xacc32 = _mm256_setzero_si256();
    for (int64_t i = 0; i < n; i += FLUSH_UNITS * 128) {
        const int64_t end = i + FLUSH_UNITS * 128 < n ? i + FLUSH_UNITS * 128 : n;
        __m256i acc = _mm256_setzero_si256(), xacc = _mm256_setzero_si256();
        for (int64_t k = i; k < end; k += 128)
            for (int g = 0; g < 4; g++) {
                const __m256i xv = _mm256_loadu_si256((const __m256i *)(x + k + 32 * g));
                acc = MAC(acc, codes(L, unit(L, b, k), g), xv);
                xacc = MAC(xacc, ones8, xv); /* sum(x): |pair| <= 256, 32 vectors fit int16 */
            }
        acc32 = _mm256_add_epi32(acc32, WIDEN(acc));
        xacc32 = _mm256_add_epi32(xacc32, WIDEN(xacc));
    }
    return (float)aria_hsum_i32(_mm256_sub_epi32(acc32, xacc32)) * d;
}

float RS_DOT_I2_S(int64_t n, const void *w, const int8_t *x, float d) {
    return dot(I2_S, n, w, x, d);
}

float RS_DOT_TQ2_0(int64_t n, const void *w, const int8_t *x, float d) {
    return dot(TQ2_0, n, w, x, d);
}

/* ---- GEMM: NJ weight rows x NR activation rows per tile, NJ * NR = 8 -----------------------

   Output (j, r) is lane p = j * NR + r of the result: its int16 accumulator takes 32 vectors
   at most, then is widened into an int32 one; at the end each is reduced, the row's sum of x
   subtracted and the total scaled by d. Padding lanes repeat a valid row.

   Eight activation rows of a long row (ffn_down's 6912 bytes: 55 KB) do not fit L1 together,
   and reloading them from L2 for every weight row ran that GEMM at 77 G multiply-adds/s
   against 98 for the 2560-wide ones. Such rows are taken in slices of K_SLICE elements: a
   slice's activations (16 KB) stay in L1 while every weight row of a run of J_RUN passes over
   them, and each output's exact int32 partial sum is carried from slice to slice. */
#define K_SLICE (2 * FLUSH_UNITS * 128)
#define L1_X_BYTES (32 * 1024) /* activation bytes a tile may keep without slicing */
#define J_RUN 256              /* weight rows per run of slices (their slice stays in L2) */

/* The next tile's weight rows (next, pf_bytes long: they follow this tile's in memory) are
   prefetched a slice per block: short rows taken 8 at a time defeat the hardware prefetchers
   (perf put decode's time on the weight loads; 1-thread decode read 5.8 GB/s of 14). carry:
   the 8 outputs' int32 sums over elements before k0, updated to [0, k1); on the row's last
   slice (k1 == n) the outputs are finished into out. */
ALWAYS_INLINE void tile(const int L, const int NJ, const int NR, int64_t n, int64_t k0,
                        int64_t k1, const uint8_t *const *wr, const int8_t *const *xr,
                        const int32_t *xtot, float d, int32_t *carry, float *out,
                        const uint8_t *next, int64_t pf_bytes) {
    const int64_t pf_step = (pf_bytes * 128 + n - 1) / n; /* per unit */
    __m256i acc32[8];
#pragma GCC unroll 8
    for (int p = 0; p < 8; p++) acc32[p] = _mm256_setzero_si256();
    for (int64_t i = k0; i < k1; i += FLUSH_UNITS * 128) {
        const int64_t end = i + FLUSH_UNITS * 128 < k1 ? i + FLUSH_UNITS * 128 : k1;
        __m256i acc[8];
#pragma GCC unroll 8
        for (int p = 0; p < 8; p++) acc[p] = _mm256_setzero_si256();
        for (int64_t k = i; k < end; k += 128) {
            if (NJ >= 2 && next) { /* a lone weight row streams well enough on its own */
                const int64_t pf = k / 128 * pf_step;
                for (int64_t o = pf & ~(int64_t)63; o < pf + pf_step; o += 64)
                    _mm_prefetch((const char *)next + o, _MM_HINT_T0);
            }
#pragma GCC unroll 4
            for (int g = 0; g < 4; g++) {
                __m256i code[8];
#pragma GCC unroll 8
                for (int j = 0; j < NJ; j++) code[j] = codes(L, unit(L, wr[j], k), g);
#pragma GCC unroll 8
                for (int r = 0; r < NR; r++) {
                    const __m256i xv = _mm256_loadu_si256((const __m256i *)(xr[r] + k + 32 * g));
#pragma GCC unroll 8
                    for (int j = 0; j < NJ; j++)
                        acc[j * NR + r] = MAC(acc[j * NR + r], code[j], xv);
                }
                /* Keep one running sum per output in a register: left alone, gcc sums the four
                   groups as a tree and spills the partial products (measured ~25 % slower). */
#pragma GCC unroll 8
                for (int p = 0; p < 8; p++) __asm__("" : "+x"(acc[p]));
            }
        }
#pragma GCC unroll 8
        for (int p = 0; p < 8; p++)
            acc32[p] = _mm256_add_epi32(acc32[p], WIDEN(acc[p]));
    }
    __m256i isum = aria_hsum8(acc32);
    if (k0 > 0) isum = _mm256_add_epi32(isum, _mm256_loadu_si256((const __m256i *)carry));
    if (k1 < n) {
        _mm256_storeu_si256((__m256i *)carry, isum);
        return;
    }
    isum = _mm256_sub_epi32(isum, _mm256_loadu_si256((const __m256i *)xtot));
    _mm256_storeu_ps(out, _mm256_mul_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(d)));
}

ALWAYS_INLINE void gemm(const int L, int64_t n, const uint8_t *w, uint64_t row_bytes,
                        int32_t n_w, const int8_t *x, const int32_t *xsum, int32_t n_x, float *y,
                        int64_t ldy, float d) {
    const int64_t ns = n / 128;
    float out[8];
    int32_t carry[J_RUN * 8];
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
        /* Sliced only with one weight row per tile (NR == 8), which has no prefetch to adapt. */
        const int64_t ks = NR == 8 && (int64_t)NR * n > L1_X_BYTES ? K_SLICE : n;
        const int32_t run = ks < n ? J_RUN : n_w;
        for (int32_t jr = 0; jr < n_w; jr += run) {
            const int32_t jr_end = n_w - jr < run ? n_w : jr + run;
            for (int64_t k0 = 0; k0 < n; k0 += ks) {
                const int64_t k1 = n - k0 < ks ? n : k0 + ks;
                for (int32_t j0 = jr; j0 < jr_end; j0 += NJ) {
                    const uint8_t *wr[8];
                    for (int j = 0; j < NJ; j++) /* rows past n_w repeat row j0: padding lanes */
                        wr[j] = w + (uint64_t)(j0 + (j0 + j < n_w ? j : 0)) * row_bytes;
                    /* prefetching past the matrix is harmless: a prefetch never faults */
                    const uint8_t *next = w + (uint64_t)(j0 + NJ) * row_bytes;
                    const int64_t pf = (int64_t)(NJ * row_bytes);
                    int32_t *c = ks < n ? carry + (j0 - jr) / NJ * 8 : carry; /* unused if whole */
                    switch (NR) {
                    case 1: tile(L, 8, 1, n, k0, k1, wr, xr, xtot, d, c, out, next, pf); break;
                    case 2: tile(L, 4, 2, n, k0, k1, wr, xr, xtot, d, c, out, next, pf); break;
                    case 4: tile(L, 2, 4, n, k0, k1, wr, xr, xtot, d, c, out, next, pf); break;
                    default: tile(L, 1, 8, n, k0, k1, wr, xr, xtot, d, c, out, NULL, 0); break;
                    }
                    if (k1 < n) continue;
                    for (int j = 0; j < NJ && j0 + j < n_w; j++)
                        for (int r = 0; r < nr; r++) y[(r0 + r) * ldy + j0 + j] = out[j * NR + r];
                }
            }
        }
    }
}

void RS_GEMM_I2_S(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w,
                  const int8_t *x, const int32_t *xsum, int32_t n_x, float *y, int64_t ldy,
                  float d) {
    gemm(I2_S, n, w, row_bytes, n_w, x, xsum, n_x, y, ldy, d);
}

void RS_GEMM_TQ2_0(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w,
                   const int8_t *x, const int32_t *xsum, int32_t n_x, float *y, int64_t ldy,
                   float d) {
    gemm(TQ2_0, n, w, row_bytes, n_w, x, xsum, n_x, y, ldy, d);
}
