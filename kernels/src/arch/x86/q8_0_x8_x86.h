/* Q8_0 head in the x8 layout (kernels.h) x per-32-block int8 activations in the same order:
   the single-row dot and the multi-row GEMM, shared by the AVX2 tier (q8_0_x8_avx2.c,
   X8_VNNI 0) and the AVX-VNNI one (q8_0_x8_avxvnni.c, X8_VNNI 1), which name the functions.

   Vector t of an 8-block group holds 4 bytes of each block in its 32-bit lane l, so the
   products of lane l summed over the 8 vectors are block l's exact int32 sum: no horizontal
   reduction per block (the plain layout's hadd trees were ~40 % of that GEMM's work). Products
   use the sign trick as in q8_0_gemm_x86.h: |w| as u8 times x * sign(w); |w| <= 127 (the head
   copy's quantizer clamps to +-127) and |x| <= 127, so a maddubs pair is at most 32258 < 2^15:
   exact (vpdpbusd adds into int32: exact anyway). Then, as aria_dot_q8_0_x8_q8_ref: term
   (float)isum * (dw * xd) with dw * xd rounded first, block b added to lane b % 16, the tail
   blocks (nb % 8, plain Q8_0) likewise, aria_reduce16 at the end: bit-identical. */
#include <immintrin.h>

#include "arch/x86/kernels_avx2.h"
#include "arch/x86/lanes_x86.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define BLOCK_BYTES ((int64_t)sizeof(block_q8_0))
#define PF_ROWS 2 /* weight rows prefetched ahead: hardware prefetchers lag on some VMs */

#if X8_VNNI
#define MAC(acc, aw, s) _mm256_dpbusd_avx_epi32((acc), (aw), (s))
#else
#define MAC(acc, aw, s) \
    _mm256_add_epi32((acc), _mm256_madd_epi16(_mm256_maddubs_epi16((aw), (s)), _mm256_set1_epi16(1)))
#endif

/* Exact int32 sum of one plain block's 32 products (the tail). */
ALWAYS_INLINE int32_t tail_isum(const uint8_t *blk, const int8_t *x) {
    const __m256i wv = _mm256_loadu_si256((const __m256i *)(blk + Q8_0_QS_OFFSET));
    const __m256i s = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)x), wv);
    return aria_hsum_i32(MAC(_mm256_setzero_si256(), _mm256_abs_epi8(wv), s));
}

/* y[r * ldy] = dot(row, xq row r) for r < NR (1..4); xq rows n apart, xd rows n / 32. */
ALWAYS_INLINE void x8_rows(const int NR, int64_t n, const uint8_t *row, const int8_t *xq,
                           const float *xd, float *y, int64_t ldy) {
    const int64_t nb = n / QK8_0, ng = nb / Q8_0_X8_BLOCKS;
    __m256 lo[4], hi[4];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) lo[r] = hi[r] = _mm256_setzero_ps();
    for (int64_t g = 0; g < ng; g++) {
        const uint8_t *grp = row + g * Q8_0_X8_GROUP_BYTES;
        const int64_t x0 = g * Q8_0_X8_BLOCKS * QK8_0;
        __m256i acc[4];
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) acc[r] = _mm256_setzero_si256();
#pragma GCC unroll 8
        for (int t = 0; t < 8; t++) {
            const __m256i wv = _mm256_loadu_si256((const __m256i *)(grp + 16 + 32 * t));
            const __m256i aw = _mm256_abs_epi8(wv); /* once for all NR rows */
#pragma GCC unroll 4
            for (int r = 0; r < NR; r++) {
                const __m256i xv = _mm256_loadu_si256((const __m256i *)(xq + r * n + x0 + 32 * t));
                acc[r] = MAC(acc[r], aw, _mm256_sign_epi8(xv, wv));
            }
        }
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)grp));
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) {
            const __m256 d = _mm256_mul_ps(dw, _mm256_loadu_ps(xd + r * nb + g * Q8_0_X8_BLOCKS));
            const __m256 term = _mm256_mul_ps(_mm256_cvtepi32_ps(acc[r]), d);
            if (g % 2 == 0) lo[r] = _mm256_add_ps(lo[r], term); /* blocks 16k .. 16k + 7 */
            else hi[r] = _mm256_add_ps(hi[r], term);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) {
        float acc[ARIA_LANES];
        _mm256_storeu_ps(acc, lo[r]);
        _mm256_storeu_ps(acc + 8, hi[r]);
        const uint8_t *b = row + ng * Q8_0_X8_GROUP_BYTES;
        for (int64_t i = ng * Q8_0_X8_BLOCKS; i < nb; i++, b += BLOCK_BYTES) {
            const float d = _cvtsh_ss(aria_load_u16(b)) * xd[r * nb + i];
            acc[i % ARIA_LANES] += (float)tail_isum(b, xq + r * n + i * QK8_0) * d;
        }
        y[r * ldy] = aria_reduce16(acc);
    }
}

float X8_DOT(int64_t n, const void *w, const int8_t *xq, const float *xd) {
    float y;
    x8_rows(1, n, w, xq, xd, &y, 0);
    return y;
}

/* Each weight row is read once for up to 4 activation rows. */
void X8_GEMM(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w, const int8_t *xq,
             const float *xd, int32_t n_x, float *y, int64_t ldy) {
    const int64_t nb = n / QK8_0;
    for (int32_t r0 = 0; r0 < n_x; r0 += 4) {
        const int32_t nr = n_x - r0 < 4 ? n_x - r0 : 4;
        const int8_t *x = xq + r0 * n;
        const float *d = xd + r0 * nb;
        for (int32_t j = 0; j < n_w; j++) {
            const uint8_t *row = w + j * row_bytes;
            if (j + PF_ROWS < n_w) {
                const char *next = (const char *)row + PF_ROWS * row_bytes;
                for (uint64_t o = 0; o < row_bytes; o += 64) _mm_prefetch(next + o, _MM_HINT_T0);
            }
            float *yj = y + r0 * ldy + j;
            switch (nr) {
            case 1: x8_rows(1, n, row, x, d, yj, ldy); break;
            case 2: x8_rows(2, n, row, x, d, yj, ldy); break;
            case 3: x8_rows(3, n, row, x, d, yj, ldy); break;
            default: x8_rows(4, n, row, x, d, yj, ldy); break;
            }
        }
    }
}
