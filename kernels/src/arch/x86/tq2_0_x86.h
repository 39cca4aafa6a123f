/* TQ2_0 x int8 dot / GEMM body shared by the AVX2 and AVX-VNNI tiers (layout in formats.h,
   arithmetic in kernels.h). Included once per tier by tq2_0_avx2.c (TQ2_VNNI 0) and
   tq2_0_avxvnni.c (TQ2_VNNI 1), which define the function names.

   Per 256-weight block the exact integer sum is computed as sum(q * x) - sum(x), q the
   unsigned 2-bit code (code 3 gives 3x - x = 2x, as the reference decodes it):
   - AVX2: _mm256_maddubs_epi16(q, x) multiplies u8 codes by s8 activations and adds pairs
     into int16 (|pair| <= 2 * 3 * 128 = 768, never saturates); a block's 8 such vectors add
     up to at most 8 * 768 = 6144 per int16 lane; _mm256_madd_epi16 then widens to int32.
   - AVX-VNNI: _mm256_dpbusd_avx_epi32 adds the same u8 x s8 products, four at a time, to
     int32 lanes directly (non-saturating form).
   sum(x) comes from the activation group sums (xsum), pre-added per block. Per-block int32
   totals come from an hadd tree over 4 or 8 (weight row, activation row) pairs at once, so
   each SIMD lane is one output: lane p accumulates (float)isum_b * d_b over blocks b in index
   order exactly like aria_dot_tq2_0_i8_ref, and padded or regrouped lanes never change
   another lane's value. */
#include <immintrin.h>

#include "arch/x86/kernels_avx2.h"
#include "arch/x86/lanes_x86.h"

#define BLOCK_BYTES ((int64_t)sizeof(block_tq2_0))
#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* Blocks of one row handled with the stack tables below (n <= 32768); longer rows use the
   reference (no real model comes close). */
#define MAX_BLOCKS 128

/* Single-weight-row tiles prefetch this many rows ahead (a few KiB: enough to cover DRAM
   latency when a row takes only tens of nanoseconds to compute). */
#define PF_ROWS 4

#if TQ2_VNNI
#define MAC(acc, q, x) _mm256_dpbusd_avx_epi32((acc), (q), (x))
#define WIDEN(acc) (acc)
#else
#define MAC(acc, q, x) _mm256_add_epi16((acc), _mm256_maddubs_epi16((q), (x)))
#define WIDEN(acc) _mm256_madd_epi16((acc), _mm256_set1_epi16(1))
#endif

ALWAYS_INLINE float load_d(const uint8_t *row, int64_t b) {
    return _cvtsh_ss(aria_load_u16(row + b * BLOCK_BYTES + TQ2_0_D_OFFSET));
}

/* One tile: NJ weight rows x NR activation rows over nb blocks; lane p = j * NR + r of out
   receives dot(W[j], X[r]). NJ * NR is 4 or 8. bs holds sum(x) per block: bs[b] when NR == 1,
   bs[b * 8 + r] otherwise. wr/xr may repeat a row (padding). pf (may be NULL) is the next
   tile's first weight row, prefetched while this tile computes: on VMs whose hardware
   prefetchers lag, this doubles the streaming rate. */
ALWAYS_INLINE void tile(const int NJ, const int NR, int64_t nb, const uint8_t *const *wr,
                        const int8_t *const *xr, const int32_t *bs, const uint8_t *pf,
                        float *out) {
    const __m256i m3 = _mm256_set1_epi8(3);
    __m256 facc8 = _mm256_setzero_ps();
    __m128 facc4 = _mm_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        if (pf) {
            const char *a = (const char *)pf + b * NJ * BLOCK_BYTES;
            for (int k = 0; k < NJ * BLOCK_BYTES; k += 64) _mm_prefetch(a + k, _MM_HINT_T0);
        }
        __m256i acc[8];
#pragma GCC unroll 8
        for (int p = 0; p < NJ * NR; p++) acc[p] = _mm256_setzero_si256();
#pragma GCC unroll 2
        for (int c = 0; c < 2; c++) {
            __m256i qs[4];
#pragma GCC unroll 4
            for (int j = 0; j < NJ; j++)
                qs[j] = _mm256_loadu_si256((const __m256i *)(wr[j] + b * BLOCK_BYTES + c * 32));
#pragma GCC unroll 4
            for (int nn = 0; nn < 4; nn++) {
                __m256i q[4];
#pragma GCC unroll 4
                for (int j = 0; j < NJ; j++)
                    q[j] = _mm256_and_si256(nn ? _mm256_srli_epi16(qs[j], 2 * nn) : qs[j], m3);
#pragma GCC unroll 8
                for (int r = 0; r < NR; r++) {
                    const __m256i xv = _mm256_loadu_si256(
                        (const __m256i *)(xr[r] + b * QK_K + c * 128 + nn * 32));
#pragma GCC unroll 4
                    for (int j = 0; j < NJ; j++) acc[j * NR + r] = MAC(acc[j * NR + r], q[j], xv);
                }
                /* One running sum per output, kept in its register: left alone, gcc adds the
                   maddubs products of a block as a tree and spills them (as in row_sum_avx2.c). */
#pragma GCC unroll 8
                for (int p = 0; p < NJ * NR; p++) __asm__("" : "+x"(acc[p]));
            }
        }
#pragma GCC unroll 8
        for (int p = 0; p < NJ * NR; p++) acc[p] = WIDEN(acc[p]);

        if (NJ * NR == 4) {
            __m128i bsv;
            __m128 d;
            if (NR == 1) {
                bsv = _mm_set1_epi32(bs[b]);
                d = _mm_setr_ps(load_d(wr[0], b), load_d(wr[1], b), load_d(wr[2], b),
                                load_d(wr[3], b));
            } else { /* NJ == 1, NR == 4 */
                bsv = _mm_loadu_si128((const __m128i *)(bs + b * 8));
                d = _mm_set1_ps(load_d(wr[0], b));
            }
            const __m128 f = _mm_cvtepi32_ps(_mm_sub_epi32(aria_hsum4(acc), bsv));
            facc4 = _mm_add_ps(facc4, _mm_mul_ps(f, d));
        } else if (NJ == 1) { /* NR == 8 */
            const __m256i bsv = _mm256_loadu_si256((const __m256i *)(bs + b * 8));
            const __m256 f = _mm256_cvtepi32_ps(_mm256_sub_epi32(aria_hsum8(acc), bsv));
            facc8 = _mm256_add_ps(facc8, _mm256_mul_ps(f, _mm256_set1_ps(load_d(wr[0], b))));
        } else { /* NJ == 2, NR == 4: lanes [w0 x r0..r3, w1 x r0..r3] */
            const __m256i bsv =
                _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(bs + b * 8)));
            const __m256 d = _mm256_setr_m128(_mm_set1_ps(load_d(wr[0], b)),
                                              _mm_set1_ps(load_d(wr[1], b)));
            const __m256 f = _mm256_cvtepi32_ps(_mm256_sub_epi32(aria_hsum8(acc), bsv));
            facc8 = _mm256_add_ps(facc8, _mm256_mul_ps(f, d));
        }
    }
    if (NJ * NR == 4) _mm_storeu_ps(out, facc4);
    else _mm256_storeu_ps(out, facc8);
}

/* Single-row dot: block sums of x computed here. */
float TQ2_DOT(int64_t n, const void *w, const int8_t *x, float d) {
    const int64_t nb = n / QK_K;
    if (nb > MAX_BLOCKS) return aria_dot_tq2_0_i8_ref(n, w, x, d);
    int32_t bs[MAX_BLOCKS];
    for (int64_t b = 0; b < nb; b++) {
        int32_t t = 0;
        for (int i = 0; i < QK_K; i++) t += x[b * QK_K + i];
        bs[b] = t;
    }
    float out[4];
    const uint8_t *wr[4] = {w, w, w, w};
    const int8_t *xr[1] = {x};
    tile(4, 1, nb, wr, xr, bs, NULL, out);
    return out[0];
}

void TQ2_GEMM(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w, const int8_t *x,
              const int32_t *xsum, int32_t n_x, float *y, int64_t ldy, float d) {
    const int64_t nb = n / QK_K, ns = n / 128;
    if (nb > MAX_BLOCKS) {
        aria_gemm_tq2_0_i8_ref(n, w, row_bytes, n_w, x, xsum, n_x, y, ldy, d);
        return;
    }
    int32_t bs[MAX_BLOCKS * 8]; /* sum(x) per (block, activation row of the group) */
    float out[8];
    /* The first rows are needed at once and the tiles only prefetch their successors: request
       them all now rather than as the first tile walks its blocks. */
    {
        const int32_t first = n_w < PF_ROWS ? n_w : PF_ROWS;
        const char *p = (const char *)w;
        for (uint64_t o = 0; o < (uint64_t)first * row_bytes; o += 64) _mm_prefetch(p + o, _MM_HINT_T0);
    }
    for (int32_t r0 = 0; r0 < n_x; r0 += 8) {
        const int32_t nr = n_x - r0 < 8 ? n_x - r0 : 8;
        const int8_t *xr[8];
        for (int r = 0; r < 8; r++) { /* rows past nr repeat row r0: padding lanes */
            const int32_t rr = r0 + (r < nr ? r : 0);
            xr[r] = x + rr * n;
            const int32_t *s = xsum + rr * ns;
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
                tile(4, 1, nb, wr, xr, bs, j + 4 + PF_ROWS <= n_w ? w + (j + PF_ROWS) * row_bytes : NULL, out);
                for (int k = 0; k < 4 && j + k < n_w; k++) y[r0 * ldy + j + k] = out[k];
            }
        } else if (nr <= 4) { /* pairs of weight rows: each activation load feeds two */
            for (int32_t j = 0; j < n_w; j += 2) {
                const uint8_t *wr[2] = {w + j * row_bytes, w + (j + 1 < n_w ? j + 1 : j) * row_bytes};
                tile(2, 4, nb, wr, xr, bs,
                     j + 2 + PF_ROWS <= n_w ? wr[0] + PF_ROWS * row_bytes : NULL, out);
                for (int k = 0; k < 2 && j + k < n_w; k++)
                    for (int r = 0; r < nr; r++) y[(r0 + r) * ldy + j + k] = out[k * 4 + r];
            }
        } else {
            for (int32_t j = 0; j < n_w; j++) {
                const uint8_t *wr[1] = {w + j * row_bytes};
                tile(1, 8, nb, wr, xr, bs, j + PF_ROWS < n_w ? wr[0] + PF_ROWS * row_bytes : NULL, out);
                for (int r = 0; r < nr; r++) y[(r0 + r) * ldy + j] = out[r];
            }
        }
    }
}
