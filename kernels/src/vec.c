/* f32 vector primitives, reference tier, in the canonical 16-lane striped order (kernels.h),
   and the per-tier table. */
#include <math.h>

#include "cpu.h"
#include "detmath.h"
#include "kernels.h"

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

static float dot_f16_ref(int64_t n, const void *w, const float *x) {
    return aria_dot_f16_f32_ref(n, w, x);
}

void aria_to_f16_ref(int64_t n, const float *x, uint16_t *h) {
    for (int64_t i = 0; i < n; i++) h[i] = aria_fp32_to_fp16(x[i]);
}

void aria_attn_scores_loop(float (*dot_f16)(int64_t, const void *, const float *), int32_t hd,
                           int32_t nh, const float *q, const uint16_t *k, int64_t k_stride,
                           int32_t n_pos, float scale, float *s, int64_t s_stride) {
    for (int32_t t = 0; t < n_pos; t++)
        for (int32_t h = 0; h < nh; h++)
            s[h * s_stride + t] = dot_f16(hd, k + t * k_stride, q + (int64_t)h * hd) * scale;
}

void aria_attn_mix_loop(int32_t hd, int32_t nh, const float *a, int64_t a_stride,
                        const uint16_t *v, int64_t v_stride, int32_t n_pos, float *o) {
    for (int32_t t = 0; t < n_pos; t++)
        for (int32_t h = 0; h < nh; h++) {
            const float w = a[h * a_stride + t];
            float *oh = o + (int64_t)h * hd;
            const uint16_t *vt = v + t * v_stride;
            for (int32_t i = 0; i < hd; i++) oh[i] += w * aria_fp16_to_fp32(vt[i]);
        }
}

static void attn_scores_ref(int32_t hd, int32_t nh, const float *q, const uint16_t *k,
                            int64_t k_stride, int32_t n_pos, float scale, float *s,
                            int64_t s_stride) {
    aria_attn_scores_loop(dot_f16_ref, hd, nh, q, k, k_stride, n_pos, scale, s, s_stride);
}

void aria_exp_sub_ref(int64_t n, float *x, float m) {
    for (int64_t i = 0; i < n; i++) x[i] = aria_expf(x[i] - m);
}

static const aria_vec_ops vec_ref = {
    sum_ref,         sumsq_ref,       amax_ref,           round_i8_ref,    dot_f16_ref,
    aria_to_f16_ref, attn_scores_ref, aria_attn_mix_loop, aria_exp_sub_ref};

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
