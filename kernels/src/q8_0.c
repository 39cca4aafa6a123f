/* Q8_0 kernels, reference tier: the output head / embedding format (layout in formats.h), its
   load-time requantization from float rows, and the head matmul on per-block int8 activations. */
#include <math.h>

#include "kernels.h"

/* The per-32-block rule shared by weights and activations: d = max|x| / 127 (NaN ignored),
   q = round_half_even(x / d) clamped to [-127, 127] (|x / d| <= 127 up to rounding; NaN -> 0;
   all 0 when d == 0). Returns d. Keeping q >= -127 lets SIMD tiers use sign tricks safely. */
static float quantize_block(const float *x, int8_t *q) {
    float amax = 0.0f;
    for (int j = 0; j < QK8_0; j++) {
        const float a = fabsf(x[j]);
        if (a > amax) amax = a;
    }
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int j = 0; j < QK8_0; j++) {
        float v = nearbyintf(x[j] * id);
        if (v > 127.0f) v = 127.0f;
        else if (v < -127.0f) v = -127.0f;
        else if (v != v) v = 0.0f;
        q[j] = (int8_t)v;
    }
    return d;
}

void aria_quantize_row_q8_0_ref(const float *x, void *y, int64_t n) {
    uint8_t *b = y;
    for (int64_t i = 0; i < n / QK8_0; i++, b += sizeof(block_q8_0)) {
        int8_t q[QK8_0];
        const uint16_t d = aria_fp32_to_fp16(quantize_block(x + i * QK8_0, q));
        memcpy(b, &d, sizeof d);
        memcpy(b + Q8_0_QS_OFFSET, q, sizeof q);
    }
}

void aria_quantize_row_q8_0_f16_ref(const void *w, void *y, int64_t n) {
    const uint8_t *src = w;
    uint8_t *b = y;
    for (int64_t i = 0; i < n / QK8_0; i++, b += sizeof(block_q8_0), src += 2 * QK8_0) {
        float x[QK8_0];
        int8_t q[QK8_0];
        for (int j = 0; j < QK8_0; j++) x[j] = aria_fp16_to_fp32(aria_load_u16(src + 2 * j));
        const uint16_t d = aria_fp32_to_fp16(quantize_block(x, q));
        memcpy(b, &d, sizeof d);
        memcpy(b + Q8_0_QS_OFFSET, q, sizeof q);
    }
}

void aria_dequantize_row_q8_0_ref(const void *w, float *y, int64_t n) {
    const uint8_t *b = w;
    for (int64_t i = 0; i < n / QK8_0; i++, b += sizeof(block_q8_0)) {
        const float d = aria_fp16_to_fp32(aria_load_u16(b));
        const int8_t *qs = (const int8_t *)(b + Q8_0_QS_OFFSET);
        for (int j = 0; j < QK8_0; j++) y[i * QK8_0 + j] = (float)qs[j] * d;
    }
}

void aria_quantize_row_q8_act(int64_t n, const float *x, int8_t *xq, float *xd) {
    for (int64_t i = 0; i < n / QK8_0; i++) xd[i] = quantize_block(x + i * QK8_0, xq + i * QK8_0);
}

/* sum over blocks of isum_b * (dw_b [* xd_b]) in the 16-lane striped order (kernels.h).
   |isum_b| <= 32 * 128 * 128 = 2^19: exact in int32 and in f32. */
static float dot_q8_0(int64_t n, const uint8_t *b, const int8_t *x, const float *xd) {
    float acc[ARIA_LANES] = {0};
    for (int64_t i = 0; i < n / QK8_0; i++, b += sizeof(block_q8_0)) {
        const int8_t *qs = (const int8_t *)(b + Q8_0_QS_OFFSET);
        int32_t isum = 0;
        for (int j = 0; j < QK8_0; j++) isum += qs[j] * x[i * QK8_0 + j];
        float d = aria_fp16_to_fp32(aria_load_u16(b));
        if (xd) d *= xd[i];
        acc[i % ARIA_LANES] += (float)isum * d;
    }
    return aria_reduce16(acc);
}

float aria_dot_q8_0_i8_ref(int64_t n, const void *w, const int8_t *x, float d_tensor) {
    (void)d_tensor; /* per-block scales */
    return dot_q8_0(n, w, x, NULL);
}

float aria_dot_q8_0_q8_ref(int64_t n, const void *w, const int8_t *xq, const float *xd) {
    return dot_q8_0(n, w, xq, xd);
}
