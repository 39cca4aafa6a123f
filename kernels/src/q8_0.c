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

/* ---- the x8 layout (kernels.h) ------------------------------------------------------------ */

/* Byte offset in an x8 group of element e (0..255) of the group's blocks: block e / 32, byte
   e % 32 of it, lands in vector (e % 32) / 4 at lane e / 32, byte e % 4. */
static int64_t x8_qs_offset(int64_t e) {
    return Q8_0_X8_BLOCKS * 2 + (e % QK8_0) / 4 * 32 + e / QK8_0 * 4 + e % 4;
}

void aria_q8_0_to_x8(const void *src, void *dst, int64_t n) {
    const uint8_t *s = src;
    uint8_t *d = dst;
    const int64_t nb = n / QK8_0, ng = nb / Q8_0_X8_BLOCKS;
    for (int64_t g = 0; g < ng; g++, s += Q8_0_X8_GROUP_BYTES, d += Q8_0_X8_GROUP_BYTES)
        for (int64_t l = 0; l < Q8_0_X8_BLOCKS; l++) {
            const uint8_t *b = s + l * (int64_t)sizeof(block_q8_0);
            memcpy(d + 2 * l, b, 2);
            for (int64_t k = 0; k < QK8_0; k++) d[x8_qs_offset(l * QK8_0 + k)] = b[Q8_0_QS_OFFSET + k];
        }
    memcpy(d, s, (size_t)(nb - ng * Q8_0_X8_BLOCKS) * sizeof(block_q8_0)); /* the tail as is */
}

void aria_q8_x8_order_act(int64_t n, int8_t *xq) {
    const int64_t ng = n / QK8_0 / Q8_0_X8_BLOCKS;
    for (int64_t g = 0; g < ng; g++) {
        int8_t *x = xq + g * Q8_0_X8_BLOCKS * QK8_0, t[Q8_0_X8_BLOCKS * QK8_0];
        memcpy(t, x, sizeof t);
        for (int64_t e = 0; e < Q8_0_X8_BLOCKS * QK8_0; e++) x[x8_qs_offset(e) - Q8_0_X8_BLOCKS * 2] = t[e];
    }
}

/* Q8_0's dot (dot_q8_0 above) on the x8 layout: block b's isum gathered from its lanes. */
float aria_dot_q8_0_x8_q8_ref(int64_t n, const void *w, const int8_t *xq, const float *xd) {
    const uint8_t *row = w;
    const int64_t nb = n / QK8_0, ng = nb / Q8_0_X8_BLOCKS;
    float acc[ARIA_LANES] = {0};
    for (int64_t i = 0; i < ng * Q8_0_X8_BLOCKS; i++) {
        const uint8_t *grp = row + i / Q8_0_X8_BLOCKS * Q8_0_X8_GROUP_BYTES;
        const int8_t *xg = xq + i / Q8_0_X8_BLOCKS * Q8_0_X8_BLOCKS * QK8_0;
        const int64_t l = i % Q8_0_X8_BLOCKS;
        int32_t isum = 0;
        for (int64_t k = 0; k < QK8_0; k++) {
            const int64_t o = x8_qs_offset(l * QK8_0 + k);
            isum += (int8_t)grp[o] * xg[o - Q8_0_X8_BLOCKS * 2];
        }
        const float d = aria_fp16_to_fp32(aria_load_u16(grp + 2 * l)) * xd[i];
        acc[i % ARIA_LANES] += (float)isum * d;
    }
    const uint8_t *b = row + ng * Q8_0_X8_GROUP_BYTES; /* the tail: plain Q8_0 blocks */
    for (int64_t i = ng * Q8_0_X8_BLOCKS; i < nb; i++, b += sizeof(block_q8_0)) {
        const int8_t *qs = (const int8_t *)(b + Q8_0_QS_OFFSET);
        int32_t isum = 0;
        for (int j = 0; j < QK8_0; j++) isum += qs[j] * xq[i * QK8_0 + j];
        const float d = aria_fp16_to_fp32(aria_load_u16(b)) * xd[i];
        acc[i % ARIA_LANES] += (float)isum * d;
    }
    return aria_reduce16(acc);
}
