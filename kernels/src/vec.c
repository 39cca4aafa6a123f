/* f32 vector primitives, reference tier, in the canonical 16-lane striped order (kernels.h),
   and the per-tier table. */
#include <math.h>

#include "cpu.h"
#include "kernels.h"

static float dot_ref(int64_t n, const float *a, const float *b) {
    float acc[ARIA_LANES] = {0};
    for (int64_t i = 0; i < n; i++) acc[i % ARIA_LANES] += a[i] * b[i];
    return aria_reduce16(acc);
}

static float sum_ref(int64_t n, const float *x) {
    float acc[ARIA_LANES] = {0};
    for (int64_t i = 0; i < n; i++) acc[i % ARIA_LANES] += x[i];
    return aria_reduce16(acc);
}

static float sumsq_ref(int64_t n, const float *x) {
    float acc[ARIA_LANES] = {0};
    for (int64_t i = 0; i < n; i++) acc[i % ARIA_LANES] += x[i] * x[i];
    return aria_reduce16(acc);
}

static float amax_ref(int64_t n, const float *x) {
    float amax = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        if (a > amax) amax = a; /* NaN never compares greater: ignored */
    }
    return amax;
}

static void round_i8_ref(int64_t n, const float *x, float s, int8_t *q, int32_t *sums) {
    for (int64_t i = 0; i < n; i++) {
        /* nearbyintf rounds half to even in the default rounding mode (torch.round semantics);
           the comparisons also catch NaN before the float -> int conversion. */
        float v = nearbyintf(x[i] * s);
        if (v > 127.0f) v = 127.0f;
        else if (v < -128.0f) v = -128.0f;
        else if (v != v) v = 0.0f;
        q[i] = (int8_t)v;
    }
    for (int64_t g = 0; g < n / 128; g++) {
        int32_t t = 0;
        for (int i = 0; i < 128; i++) t += q[g * 128 + i];
        sums[g] = t;
    }
}

static void axpy_ref(int64_t n, float a, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

static float dot_f16_ref(int64_t n, const void *w, const float *x) {
    return aria_dot_f16_f32_ref(n, w, x);
}

static const aria_vec_ops vec_ref = {dot_ref, sum_ref, sumsq_ref, amax_ref,
                                     round_i8_ref, axpy_ref, dot_f16_ref};

#if defined(__x86_64__)
extern const aria_vec_ops aria_vec_avx2; /* arch/x86/vec_avx2.c */
#elif defined(__aarch64__)
extern const aria_vec_ops aria_vec_neon; /* arch/arm/vec_neon.c */
#endif

const aria_vec_ops *aria_vec_ops_for(int32_t tier) {
    switch (aria_isa_for_tier(tier)) {
#if defined(__x86_64__)
    case ARIA_ISA_AVX2: return &aria_vec_avx2;
#elif defined(__aarch64__)
    case ARIA_ISA_NEON: return &aria_vec_neon;
#endif
    default: return &vec_ref;
    }
}
