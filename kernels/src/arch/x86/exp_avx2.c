/* Softmax's exponentials, AVX2 tier: x[i] = aria_expf(x[i] - m) four lanes at a time.

   Every step is detmath.h's aria_expf / aria_exp_d in the same order on IEEE doubles, so the
   bits are the scalar ones: the f32 difference, the clamps to [-110, 100] (NaN lanes take
   x + x at the end, as the scalar code returns early), z = x * 64/ln2 + 1.5 * 2^52 (no FMA:
   the build has -ffp-contract=off and these are separate intrinsics), n read from z's low
   bits (what the scalar (int64_t)(z - shift) gives, |n| < 2^51), the table entry gathered by
   j = n & 63, its exponent raised by (n - j) << 46 == k << 52, the polynomial in the same
   Estrin order, one rounding to float (round to nearest, as the C cast). At 1024 positions the
   scalar loop was 4-7 % of a 2B-4T decode step. */
#include <immintrin.h>

#include "arch/x86/kernels_avx2.h"
#include "detmath.h"

static inline __m128 exp4(__m128 xf) {
    const __m128 nan = _mm_cmpunord_ps(xf, xf);
    __m256d x = _mm256_cvtps_pd(xf);
    x = _mm256_max_pd(_mm256_min_pd(x, _mm256_set1_pd(100.0)), _mm256_set1_pd(-110.0));
    const __m256d shift = _mm256_set1_pd(ARIA_DM_SHIFT);
    const __m256d z = _mm256_add_pd(_mm256_mul_pd(x, _mm256_set1_pd(0x1.71547652b82fep+6)), shift);
    const __m256d nd = _mm256_sub_pd(z, shift);
    const __m256i n = _mm256_sub_epi64(_mm256_castpd_si256(z), _mm256_castpd_si256(shift));
    const __m256i j = _mm256_and_si256(n, _mm256_set1_epi64x(63));
    const __m256i k52 = _mm256_slli_epi64(_mm256_sub_epi64(n, j), 46);
    const __m256d r = _mm256_sub_pd(_mm256_sub_pd(x, _mm256_mul_pd(nd, _mm256_set1_pd(0x1.62e42fefa0000p-7))),
                                    _mm256_mul_pd(nd, _mm256_set1_pd(0x1.cf79abc9e3b3ap-46)));
    const __m256d r2 = _mm256_mul_pd(r, r);
    const __m256d lo = _mm256_add_pd(_mm256_set1_pd(0.5), _mm256_mul_pd(r, _mm256_set1_pd(0x1.5555555555555p-3)));
    const __m256d hi = _mm256_add_pd(_mm256_set1_pd(0x1.5555555555555p-5),
                                     _mm256_mul_pd(r, _mm256_set1_pd(0x1.1111111111111p-7)));
    const __m256d p = _mm256_add_pd(_mm256_add_pd(_mm256_set1_pd(1.0), r),
                                    _mm256_mul_pd(r2, _mm256_add_pd(lo, _mm256_mul_pd(r2, hi))));
    const __m256d tab = _mm256_i64gather_pd(aria_dm_exp2_64, j, 8);
    const __m256d t = _mm256_castsi256_pd(_mm256_add_epi64(_mm256_castpd_si256(tab), k52));
    const __m128 e = _mm256_cvtpd_ps(_mm256_mul_pd(t, p));
    return _mm_blendv_ps(e, _mm_add_ps(xf, xf), nan);
}

void aria_exp_sub_avx2(int64_t n, float *x, float m) {
    const __m128 mv = _mm_set1_ps(m);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) _mm_storeu_ps(x + i, exp4(_mm_sub_ps(_mm_loadu_ps(x + i), mv)));
    for (; i < n; i++) x[i] = aria_expf(x[i] - m);
}
