/* Q8_0 output head x per-32-block int8 activations, multi-row (GEMM) body shared by the AVX2
   and AVX-VNNI tiers; included by q8_0_gemm_avx2.c / q8_0_gemm_avxvnni.c.

   Same arithmetic as aria_dot_q8_0_q8_ref for every (weight row, activation row): exact int32
   block sums, term (float)isum * (dw * xd) with dw * xd rounded first, block b added to lane
   b % 16 of the canonical striped order, then aria_reduce16. Products use the sign trick:
   sum(w * x) = sum(|w| * (x * sign(w))); |w| <= 128 as u8 and, because activations come from
   aria_quantize_row_q8_act and lie in [-127, 127], |x| <= 127, so a maddubs pair is at most
   2 * 128 * 127 = 32512 < 2^15: exact (AVX-VNNI's vpdpbusd adds into int32: exact anyway).
   Each weight row is read once for up to 4 activation rows; the next rows are prefetched. */
#include <immintrin.h>

#include "arch/x86/kernels_avx2.h"
#include "arch/x86/lanes_x86.h"

#define BLOCK_BYTES ((int64_t)sizeof(block_q8_0))
#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define PF_ROWS 2

#if Q8_VNNI
#define BLOCK_DOT(aw, s) _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), (aw), (s))
#else
#define BLOCK_DOT(aw, s) _mm256_madd_epi16(_mm256_maddubs_epi16((aw), (s)), _mm256_set1_epi16(1))
#endif

/* int32 sum of one block's 32 products (tail blocks). */
ALWAYS_INLINE int32_t block_isum(const uint8_t *blk, const int8_t *x) {
    const __m256i wv = _mm256_loadu_si256((const __m256i *)(blk + Q8_0_QS_OFFSET));
    const __m256i p = BLOCK_DOT(_mm256_abs_epi8(wv),
                                _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)x), wv));
    return aria_hsum_i32(p);
}

void Q8_GEMM(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w, const int8_t *xq,
             const float *xd, int32_t n_x, float *y, int64_t ldy) {
    const int64_t nb = n / QK8_0;
    for (int32_t r0 = 0; r0 < n_x; r0 += 4) {
        const int32_t nr = n_x - r0 < 4 ? n_x - r0 : 4;
        for (int32_t j = 0; j < n_w; j++) {
            const uint8_t *row = w + j * row_bytes;
            if (j + PF_ROWS < n_w) {
                const char *next = (const char *)row + PF_ROWS * row_bytes;
                for (uint64_t o = 0; o < row_bytes; o += 64) _mm_prefetch(next + o, _MM_HINT_T0);
            }
            __m256 lo[4], hi[4];
            for (int r = 0; r < 4; r++) lo[r] = hi[r] = _mm256_setzero_ps();
            int64_t i = 0;
            for (; i + 8 <= nb; i += 8) {
                const uint8_t *b = row + i * BLOCK_BYTES;
                const __m256 dw = _mm256_cvtph_ps(_mm_setr_epi16(
                    (short)aria_load_u16(b), (short)aria_load_u16(b + BLOCK_BYTES),
                    (short)aria_load_u16(b + 2 * BLOCK_BYTES), (short)aria_load_u16(b + 3 * BLOCK_BYTES),
                    (short)aria_load_u16(b + 4 * BLOCK_BYTES), (short)aria_load_u16(b + 5 * BLOCK_BYTES),
                    (short)aria_load_u16(b + 6 * BLOCK_BYTES), (short)aria_load_u16(b + 7 * BLOCK_BYTES)));
                for (int r = 0; r < nr; r++) {
                    const int8_t *x = xq + (r0 + r) * n + i * QK8_0;
                    __m256i p[8];
#pragma GCC unroll 8
                    for (int k = 0; k < 8; k++) {
                        const __m256i wv = _mm256_loadu_si256(
                            (const __m256i *)(b + k * BLOCK_BYTES + Q8_0_QS_OFFSET));
                        const __m256i xv = _mm256_loadu_si256((const __m256i *)(x + k * QK8_0));
                        p[k] = BLOCK_DOT(_mm256_abs_epi8(wv), _mm256_sign_epi8(xv, wv));
                    }
                    const __m256 d = _mm256_mul_ps(dw, _mm256_loadu_ps(xd + (r0 + r) * (n / QK8_0) + i));
                    const __m256 t = _mm256_mul_ps(_mm256_cvtepi32_ps(aria_hsum8(p)), d);
                    if (i % ARIA_LANES == 0) lo[r] = _mm256_add_ps(lo[r], t);
                    else hi[r] = _mm256_add_ps(hi[r], t);
                }
            }
            for (int r = 0; r < nr; r++) {
                float acc[ARIA_LANES];
                _mm256_storeu_ps(acc, lo[r]);
                _mm256_storeu_ps(acc + 8, hi[r]);
                const int8_t *x = xq + (r0 + r) * n;
                const float *xdr = xd + (r0 + r) * (n / QK8_0);
                for (int64_t t = i; t < nb; t++) {
                    const uint8_t *blk = row + t * BLOCK_BYTES;
                    const float d = _cvtsh_ss(aria_load_u16(blk)) * xdr[t];
                    acc[t % ARIA_LANES] += (float)block_isum(blk, x + t * QK8_0) * d;
                }
                y[(r0 + r) * ldy + j] = aria_reduce16(acc);
            }
        }
    }
}
