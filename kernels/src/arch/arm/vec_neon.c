/* f32 primitives, NEON tier. Four float32x4 registers hold the 16 striped lanes of kernels.h
   (a0: lanes 0..3, a1: 4..7, a2: 8..11, a3: 12..15); the tree is (a0 + a2, a1 + a3) for k + 8,
   their sum for k + 4, low + high halves for k + 2, then lanes 0 + 1. Products are rounded
   before they are added (vmulq then vaddq; the build uses -ffp-contract=off). */
#if defined(__aarch64__)
#include <arm_neon.h>
#include <math.h>

#include "arch/arm/kernels_neon.h"

static inline float tree16(float32x4_t a0, float32x4_t a1, float32x4_t a2, float32x4_t a3) {
    const float32x4_t s = vaddq_f32(vaddq_f32(a0, a2), vaddq_f32(a1, a3));
    const float32x2_t t = vadd_f32(vget_low_f32(s), vget_high_f32(s));
    return vget_lane_f32(t, 0) + vget_lane_f32(t, 1);
}

static inline void spill16(float32x4_t a0, float32x4_t a1, float32x4_t a2, float32x4_t a3,
                           float acc[ARIA_LANES]) {
    vst1q_f32(acc, a0);
    vst1q_f32(acc + 4, a1);
    vst1q_f32(acc + 8, a2);
    vst1q_f32(acc + 12, a3);
}

#define STRIPED(TERM4, TAIL)                                                                 \
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;                           \
    int64_t i = 0;                                                                           \
    for (; i + 16 <= n; i += 16) {                                                           \
        a0 = vaddq_f32(a0, TERM4(i));                                                        \
        a1 = vaddq_f32(a1, TERM4(i + 4));                                                    \
        a2 = vaddq_f32(a2, TERM4(i + 8));                                                    \
        a3 = vaddq_f32(a3, TERM4(i + 12));                                                   \
    }                                                                                        \
    if (i == n) return tree16(a0, a1, a2, a3);                                               \
    float acc[ARIA_LANES];                                                                   \
    spill16(a0, a1, a2, a3, acc);                                                            \
    for (; i < n; i++) acc[i % ARIA_LANES] += TAIL(i);                                       \
    return aria_reduce16(acc);

static float sum_neon(int64_t n, const float *x) {
#define T4(k) vld1q_f32(x + (k))
#define T1(k) (x[k])
    STRIPED(T4, T1)
#undef T4
#undef T1
}

static float sumsq_neon(int64_t n, const float *x) {
#define T4(k) vmulq_f32(vld1q_f32(x + (k)), vld1q_f32(x + (k)))
#define T1(k) (x[k] * x[k])
    STRIPED(T4, T1)
#undef T4
#undef T1
}

static inline float32x4_t f16x4(const uint8_t *w) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16((const uint16_t *)w)));
}

float aria_dot_f16_f32_neon(int64_t n, const void *wv, const float *x) {
    const uint8_t *w = wv; /* vld1 has no alignment requirement beyond the element's */
#define T4(k) vmulq_f32(f16x4(w + 2 * (k)), vld1q_f32(x + (k)))
#define T1(k) (aria_fp16_to_fp32(aria_load_u16(w + 2 * (k))) * x[k])
    STRIPED(T4, T1)
#undef T4
#undef T1
}

static float dot_f16_neon(int64_t n, const void *w, const float *x) {
    return aria_dot_f16_f32_neon(n, w, x);
}

static float amax_neon(int64_t n, const float *x) {
    float32x4_t m = vdupq_n_f32(0.0f);
    int64_t i = 0;
    /* vmaxnmq: IEEE maxNum returns the number when the other operand is NaN (NaN ignored). */
    for (; i + 4 <= n; i += 4) m = vmaxnmq_f32(m, vabsq_f32(vld1q_f32(x + i)));
    float amax = vmaxnmvq_f32(m);
    for (; i < n; i++) {
        const float a = fabsf(x[i]);
        if (a > amax) amax = a;
    }
    return amax;
}

static void round_i8_neon(int64_t n, const float *x, float s, int8_t *q, int32_t *sums) {
    const float32x4_t vs = vdupq_n_f32(s), lo = vdupq_n_f32(-128.0f), hi = vdupq_n_f32(127.0f);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t v = vrndnq_f32(vmulq_f32(vld1q_f32(x + i), vs)); /* half to even */
        v = vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(v), vceqq_f32(v, v))); /* NaN -> 0 */
        v = vminq_f32(vmaxq_f32(v, lo), hi);
        const int16x4_t h = vmovn_s32(vcvtq_s32_f32(v)); /* exact: integral, in range */
        const int8x8_t b = vmovn_s16(vcombine_s16(h, h));
        q[i] = vget_lane_s8(b, 0), q[i + 1] = vget_lane_s8(b, 1);
        q[i + 2] = vget_lane_s8(b, 2), q[i + 3] = vget_lane_s8(b, 3);
    }
    for (; i < n; i++) {
        float v = nearbyintf(x[i] * s);
        if (v > 127.0f) v = 127.0f;
        else if (v < -128.0f) v = -128.0f;
        else if (v != v) v = 0.0f;
        q[i] = (int8_t)v;
    }
    for (int64_t g = 0; g < n / 128; g++) {
        int32x4_t t = vdupq_n_s32(0);
        for (int k = 0; k < 128; k += 16) t = vpadalq_s16(t, vpaddlq_s8(vld1q_s8(q + g * 128 + k)));
        sums[g] = vaddvq_s32(t);
    }
}

static void attn_scores_neon(int32_t hd, int32_t nh, const float *q, const uint16_t *k,
                             int64_t k_stride, int32_t n_pos, float scale, float *s,
                             int64_t s_stride) {
    aria_attn_scores_loop(dot_f16_neon, hd, nh, q, k, k_stride, n_pos, scale, s, s_stride);
}

/* o += a * f32(v) per head and position, 4 lanes at a time (exact conversion, product rounded
   before the add: the reference's operations); hd % 4 != 0 takes the reference loop. */
static void attn_mix_neon(int32_t hd, int32_t nh, const float *a, int64_t a_stride,
                          const uint16_t *v, int64_t v_stride, int32_t n_pos, float *o) {
    if (hd % 4) {
        aria_attn_mix_loop(hd, nh, a, a_stride, v, v_stride, n_pos, o);
        return;
    }
    for (int32_t t = 0; t < n_pos; t++)
        for (int32_t h = 0; h < nh; h++) {
            const float32x4_t w = vdupq_n_f32(a[h * a_stride + t]);
            float *oh = o + (int64_t)h * hd;
            const uint8_t *vt = (const uint8_t *)(v + t * v_stride);
            for (int32_t i = 0; i < hd; i += 4)
                vst1q_f32(oh + i, vaddq_f32(vld1q_f32(oh + i), vmulq_f32(w, f16x4(vt + 2 * i))));
        }
}

const aria_vec_ops aria_vec_neon = {
    sum_neon,        sumsq_neon,       amax_neon,     round_i8_neon,   dot_f16_neon,
    aria_to_f16_ref, attn_scores_neon, attn_mix_neon, aria_exp_sub_ref};
#endif
