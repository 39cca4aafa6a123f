/* Horizontal sums of AVX2 registers, shared by the x86 kernels (compiled only into objects
   built with the AVX2 flags). Integer sums are exact in any order; tree16 is the canonical
   16-lane striped f32 reduction of kernels.h with lanes 0..7 in lo and 8..15 in hi. */
#ifndef ARIA_LANES_X86_H
#define ARIA_LANES_X86_H

#include <immintrin.h>
#include <stdint.h>

#define ARIA_LANES_INLINE static inline __attribute__((always_inline))

/* Total of the 8 int32 lanes of v. */
ARIA_LANES_INLINE int32_t aria_hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

/* [total(v[0]) .. total(v[3])] */
ARIA_LANES_INLINE __m128i aria_hsum4(const __m256i *v) {
    const __m256i h =
        _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
    return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

/* [total(v[0]) .. total(v[7])] */
ARIA_LANES_INLINE __m256i aria_hsum8(const __m256i *v) {
    const __m256i h0 =
        _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
    const __m256i h1 =
        _mm256_hadd_epi32(_mm256_hadd_epi32(v[4], v[5]), _mm256_hadd_epi32(v[6], v[7]));
    return _mm256_add_epi32(_mm256_permute2x128_si256(h0, h1, 0x20),
                            _mm256_permute2x128_si256(h0, h1, 0x31));
}

/* The striped tree: lo + hi (k + 8), then the 128-bit halves (k + 4), then movehl (k + 2),
   then lanes 0 + 1. */
ARIA_LANES_INLINE float aria_tree16(__m256 lo, __m256 hi) {
    const __m256 s8 = _mm256_add_ps(lo, hi);
    const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

#endif
