/* TQ2_0 x int8 GEMM, AVX-512 VNNI tier (built with -mavx512f -mavx512bw -mavx512vl
   -mavx512vnni plus the AVX2 flags -- VL gives the 256-bit part 32 registers; called only when
   __builtin_cpu_supports reports all four). Same arithmetic and lane scheme as tq2_0_x86.h, twice as wide for the integer
   part: one 64-byte load holds a whole block's codes (chunk 0 in bytes 0..31, chunk 1 in
   32..63), so code lane nn of both chunks is one (qs >> 2nn) & 3. The matching activations --
   x[nn*32 + m] and x[128 + nn*32 + m] side by side -- are laid out once per call in a
   permuted copy of the activation rows (xp below). _mm512_dpbusd_epi32 adds u8 x s8 products
   into int32 exactly; a 512-bit accumulator folds to 256 bits (exact int adds) before the
   same hadd trees and the same per-lane f32 work as the AVX2 tiers. The row-sum form (RS, a
   tensor whose blocks share one d) keeps the int32 accumulators over the whole row and
   reduces once at the end: exact, so bit-identical to aria_dot_tq2_0_row_sum_i8_ref
   (|lane| <= MAX_BLOCKS * 4 * 4 * 3 * 128). */
#include <immintrin.h>

#include "arch/x86/kernels_avx2.h"
#include "arch/x86/lanes_x86.h"

#define BLOCK_BYTES ((int64_t)sizeof(block_tq2_0))
#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define PF_ROWS 4
#define MAX_BLOCKS 32 /* n <= 8192: the permuted rows live on the stack */

ALWAYS_INLINE __m256i fold(__m512i v) {
    return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
}

ALWAYS_INLINE float load_d(const uint8_t *row, int64_t b) {
    return _cvtsh_ss(aria_load_u16(row + b * BLOCK_BYTES + TQ2_0_D_OFFSET));
}

/* Block b of a row -> 4 x 64 bytes: for nn < 4, x[nn*32 .. +32] then x[128 + nn*32 .. +32]. */
static void permute_row(int64_t nb, const int8_t *x, int8_t *xp) {
    for (int64_t b = 0; b < nb; b++)
        for (int nn = 0; nn < 4; nn++) {
            const __m256i lo = _mm256_loadu_si256((const __m256i *)(x + b * QK_K + nn * 32));
            const __m256i hi = _mm256_loadu_si256((const __m256i *)(x + b * QK_K + 128 + nn * 32));
            _mm512_storeu_si512(xp + b * QK_K + nn * 64,
                                _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1));
        }
}

/* As tile() in tq2_0_x86.h; xr rows are permuted (permute_row). RS: bt holds sum(x) of the
   whole row per activation row of the tile, d the tensor's scale. */
ALWAYS_INLINE void tile(const int RS, const int NJ, const int NR, int64_t nb,
                        const uint8_t *const *wr, const int8_t *const *xr, const int32_t *bs,
                        const int32_t *bt, float d_rs, const uint8_t *pf, float *out) {
    const __m512i m3 = _mm512_set1_epi8(3);
    __m256 facc8 = _mm256_setzero_ps();
    __m128 facc4 = _mm_setzero_ps();
    __m512i acc[8];
#pragma GCC unroll 8
    for (int p = 0; p < NJ * NR; p++) acc[p] = _mm512_setzero_si512();
    for (int64_t b = 0; b < nb; b++) {
        if (pf) {
            const char *a = (const char *)pf + b * NJ * BLOCK_BYTES;
            for (int k = 0; k < NJ * BLOCK_BYTES; k += 64) _mm_prefetch(a + k, _MM_HINT_T0);
        }
        if (!RS) {
#pragma GCC unroll 8
            for (int p = 0; p < NJ * NR; p++) acc[p] = _mm512_setzero_si512();
        }
        __m512i qs[4];
#pragma GCC unroll 4
        for (int j = 0; j < NJ; j++) qs[j] = _mm512_loadu_si512(wr[j] + b * BLOCK_BYTES);
#pragma GCC unroll 4
        for (int nn = 0; nn < 4; nn++) {
            __m512i q[4];
#pragma GCC unroll 4
            for (int j = 0; j < NJ; j++)
                q[j] = _mm512_and_si512(nn ? _mm512_srli_epi16(qs[j], 2 * nn) : qs[j], m3);
#pragma GCC unroll 8
            for (int r = 0; r < NR; r++) {
                const __m512i xv = _mm512_loadu_si512(xr[r] + b * QK_K + nn * 64);
#pragma GCC unroll 4
                for (int j = 0; j < NJ; j++)
                    acc[j * NR + r] = _mm512_dpbusd_epi32(acc[j * NR + r], q[j], xv);
            }
        }
        if (RS) continue;
        __m256i a8[8];
#pragma GCC unroll 8
        for (int p = 0; p < NJ * NR; p++) a8[p] = fold(acc[p]);
        if (NJ * NR == 4) {
            __m128i bsv;
            __m128 d;
            if (NR == 1) {
                bsv = _mm_set1_epi32(bs[b]);
                d = _mm_setr_ps(load_d(wr[0], b), load_d(wr[1], b), load_d(wr[2], b),
                                load_d(wr[3], b));
            } else {
                bsv = _mm_loadu_si128((const __m128i *)(bs + b * 8));
                d = _mm_set1_ps(load_d(wr[0], b));
            }
            const __m128 f = _mm_cvtepi32_ps(_mm_sub_epi32(aria_hsum4(a8), bsv));
            facc4 = _mm_add_ps(facc4, _mm_mul_ps(f, d));
        } else if (NJ == 1) { /* NR == 8 */
            const __m256i bsv = _mm256_loadu_si256((const __m256i *)(bs + b * 8));
            const __m256 f = _mm256_cvtepi32_ps(_mm256_sub_epi32(aria_hsum8(a8), bsv));
            facc8 = _mm256_add_ps(facc8, _mm256_mul_ps(f, _mm256_set1_ps(load_d(wr[0], b))));
        } else { /* NJ == 2, NR == 4: lanes [w0 x r0..r3, w1 x r0..r3] */
            const __m256i bsv =
                _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(bs + b * 8)));
            const __m256 d = _mm256_setr_m128(_mm_set1_ps(load_d(wr[0], b)),
                                              _mm_set1_ps(load_d(wr[1], b)));
            const __m256 f = _mm256_cvtepi32_ps(_mm256_sub_epi32(aria_hsum8(a8), bsv));
            facc8 = _mm256_add_ps(facc8, _mm256_mul_ps(f, d));
        }
    }
    if (RS) { /* lane p = j * NR + r: row sum minus row r's sum(x), times d */
        __m256i a8[8];
        int32_t t[8];
#pragma GCC unroll 8
        for (int p = 0; p < NJ * NR; p++) a8[p] = fold(acc[p]);
        for (int p = 0; p < NJ * NR; p++) t[p] = bt[p % NR];
        if (NJ * NR == 4) {
            const __m128i isum = _mm_sub_epi32(aria_hsum4(a8), _mm_loadu_si128((const __m128i *)t));
            facc4 = _mm_mul_ps(_mm_cvtepi32_ps(isum), _mm_set1_ps(d_rs));
        } else {
            const __m256i isum =
                _mm256_sub_epi32(aria_hsum8(a8), _mm256_loadu_si256((const __m256i *)t));
            facc8 = _mm256_mul_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(d_rs));
        }
    }
    if (NJ * NR == 4) _mm_storeu_ps(out, facc4);
    else _mm256_storeu_ps(out, facc8);
}

ALWAYS_INLINE void gemm(const int RS, int64_t n, const uint8_t *w, uint64_t row_bytes,
                        int32_t n_w, const int8_t *x, const int32_t *xsum, int32_t n_x, float *y,
                        int64_t ldy, float d) {
    const int64_t nb = n / QK_K, ns = n / 128;
    if (nb > MAX_BLOCKS) {
        if (RS) aria_gemm_tq2_0_row_sum_i8_avx2(n, w, row_bytes, n_w, x, xsum, n_x, y, ldy, d);
        else aria_gemm_tq2_0_i8_avx2(n, w, row_bytes, n_w, x, xsum, n_x, y, ldy, d);
        return;
    }
    int8_t xp[8 * MAX_BLOCKS * QK_K] __attribute__((aligned(64)));
    int32_t bs[MAX_BLOCKS * 8], bt[8];
    float out[8];
    {
        const int32_t first = n_w < PF_ROWS ? n_w : PF_ROWS;
        for (uint64_t o = 0; o < (uint64_t)first * row_bytes; o += 64)
            _mm_prefetch((const char *)w + o, _MM_HINT_T0);
    }
    for (int32_t r0 = 0; r0 < n_x; r0 += 8) {
        const int32_t nr = n_x - r0 < 8 ? n_x - r0 : 8;
        const int8_t *xr[8];
        for (int r = 0; r < 8; r++) {
            const int32_t rr = r0 + (r < nr ? r : 0); /* padding lanes repeat row r0 */
            xr[r] = xp + (r < nr ? r : 0) * nb * QK_K;
            if (r < nr) permute_row(nb, x + rr * n, xp + r * nb * QK_K);
            const int32_t *s = xsum + rr * ns;
            bt[r] = 0;
            for (int64_t k = 0; k < ns; k++) bt[r] += s[k];
            if (nr == 1) {
                if (r == 0)
                    for (int64_t b = 0; b < nb; b++) bs[b] = s[2 * b] + s[2 * b + 1];
            } else {
                for (int64_t b = 0; b < nb; b++) bs[b * 8 + r] = s[2 * b] + s[2 * b + 1];
            }
        }
        if (nr == 1) {
            for (int32_t j = 0; j < n_w; j += 4) {
                const uint8_t *wr[4];
                for (int k = 0; k < 4; k++) wr[k] = w + (j + (j + k < n_w ? k : 0)) * row_bytes;
                tile(RS, 4, 1, nb, wr, xr, bs, bt, d, j + 4 + PF_ROWS <= n_w ? w + (j + PF_ROWS) * row_bytes : NULL, out);
                for (int k = 0; k < 4 && j + k < n_w; k++) y[r0 * ldy + j + k] = out[k];
            }
        } else if (nr <= 4) { /* pairs of weight rows: each activation load feeds two */
            for (int32_t j = 0; j < n_w; j += 2) {
                const uint8_t *wr[2] = {w + j * row_bytes, w + (j + 1 < n_w ? j + 1 : j) * row_bytes};
                tile(RS, 2, 4, nb, wr, xr, bs, bt, d,
                     j + 2 + PF_ROWS <= n_w ? wr[0] + PF_ROWS * row_bytes : NULL, out);
                for (int k = 0; k < 2 && j + k < n_w; k++)
                    for (int r = 0; r < nr; r++) y[(r0 + r) * ldy + j + k] = out[k * 4 + r];
            }
        } else {
            for (int32_t j = 0; j < n_w; j++) {
                const uint8_t *wr[1] = {w + j * row_bytes};
                tile(RS, 1, 8, nb, wr, xr, bs, bt, d, j + PF_ROWS < n_w ? wr[0] + PF_ROWS * row_bytes : NULL, out);
                for (int r = 0; r < nr; r++) y[(r0 + r) * ldy + j] = out[r];
            }
        }
    }
}

void aria_gemm_tq2_0_i8_avx512(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w,
                               const int8_t *x, const int32_t *xsum, int32_t n_x, float *y,
                               int64_t ldy, float d) {
    gemm(0, n, w, row_bytes, n_w, x, xsum, n_x, y, ldy, d); /* d unused: per-block scales */
}

void aria_gemm_tq2_0_row_sum_i8_avx512(int64_t n, const uint8_t *w, uint64_t row_bytes,
                                       int32_t n_w, const int8_t *x, const int32_t *xsum,
                                       int32_t n_x, float *y, int64_t ldy, float d) {
    gemm(1, n, w, row_bytes, n_w, x, xsum, n_x, y, ldy, d);
}
