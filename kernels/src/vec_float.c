/* Float-weight kernels (F32/F16/BF16), reference tier, and the per-type tier tables. */
#include <stddef.h>

#include "kernels.h"

/* Weights may be unaligned in the map (formats.h), hence the aria_load_* helpers. */
static inline float w_f32(const uint8_t *w, int64_t i) { return aria_load_f32(w + 4 * i); }
static inline float w_f16(const uint8_t *w, int64_t i) {
    return aria_fp16_to_fp32(aria_load_u16(w + 2 * i));
}
static inline float w_bf16(const uint8_t *w, int64_t i) {
    return aria_bf16_to_fp32(aria_load_u16(w + 2 * i));
}

#define DEFINE_DOTS(T)                                                                  \
    float aria_dot_##T##_i8_ref(int64_t n, const void *w, const int8_t *x, float d) {   \
        (void)d; /* no tensor-wide scale */                                              \
        float acc = 0.0f;                                                                \
        for (int64_t i = 0; i < n; i++) acc += w_##T((const uint8_t *)w, i) * (float)x[i]; \
        return acc;                                                                      \
    }                                                                                    \
    /* f32 activations: the canonical 16-lane striped order (kernels.h), as SIMD tiers. */ \
    float aria_dot_##T##_f32_ref(int64_t n, const void *w, const float *x) {            \
        float acc[ARIA_LANES] = {0};                                                     \
        for (int64_t i = 0; i < n; i++)                                                  \
            acc[i % ARIA_LANES] += w_##T((const uint8_t *)w, i) * x[i];                 \
        return aria_reduce16(acc);                                                       \
    }

DEFINE_DOTS(f32)
DEFINE_DOTS(f16)
DEFINE_DOTS(bf16)

void aria_row_to_f32(uint32_t type, const void *w, float *y, int64_t n) {
    if (type == ARIA_TYPE_Q8_0) {
        aria_dequantize_row_q8_0_ref(w, y, n);
        return;
    }
    const uint8_t *b = w;
    for (int64_t i = 0; i < n; i++) {
        switch (type) {
        case ARIA_TYPE_F16: y[i] = w_f16(b, i); break;
        case ARIA_TYPE_BF16: y[i] = w_bf16(b, i); break;
        default: y[i] = w_f32(b, i); break;
        }
    }
}

/* Tier selection: SIMD tiers slot in here behind #if, falling back to _ref. */
aria_dot_i8_fn aria_dot_i8_for(uint32_t type) {
    switch (type) {
    case ARIA_TYPE_TQ2_0: return aria_dot_tq2_0_i8_ref;
    case ARIA_TYPE_F32: return aria_dot_f32_i8_ref;
    case ARIA_TYPE_F16: return aria_dot_f16_i8_ref;
    case ARIA_TYPE_BF16: return aria_dot_bf16_i8_ref;
    default: return NULL;
    }
}

aria_dot_f32_fn aria_dot_f32_for(uint32_t type) {
    switch (type) {
    case ARIA_TYPE_F32: return aria_dot_f32_f32_ref;
    case ARIA_TYPE_F16: return aria_dot_f16_f32_ref;
    case ARIA_TYPE_BF16: return aria_dot_bf16_f32_ref;
    default: return NULL;
    }
}
