/* TQ1_0 ternary kernels, reference tier (layout in formats.h, docs/bitnet-format.md §3.2). */
#include <math.h>

#include "kernels.h"

static const uint8_t pow3[5] = {1, 3, 9, 27, 81};

/* Trit n (0 = most significant) of a packed byte: the byte is ceil(v * 256 / 243), so multiplying
   by 3^n (mod 256) shifts trit n to the top and * 3 >> 8 reads it. Always 0, 1 or 2. */
static inline int trit(uint8_t b, int n) {
    return (int)(((uint16_t)(uint8_t)(b * pow3[n]) * 3) >> 8);
}

int32_t aria_tq1_0_block_isum_ref(const uint8_t *block, const int8_t *x) {
    /* |(q - 1) * x| <= 128 and 256 terms: the int32 sum is exact. */
    const uint8_t *qs = block, *qh = block + TQ1_0_QH_OFFSET;
    int32_t sum = 0;
    for (int n = 0; n < 5; n++)
        for (int m = 0; m < 32; m++) sum += (trit(qs[m], n) - 1) * x[n * 32 + m];
    for (int n = 0; n < 5; n++)
        for (int m = 0; m < 16; m++) sum += (trit(qs[32 + m], n) - 1) * x[160 + n * 16 + m];
    for (int n = 0; n < 4; n++)
        for (int j = 0; j < 4; j++) sum += (trit(qh[j], n) - 1) * x[240 + n * 4 + j];
    return sum;
}

float aria_dot_tq1_0_i8_ref(int64_t n, const void *w, const int8_t *x, float d_tensor) {
    (void)d_tensor; /* per-block scales */
    const uint8_t *b = w;
    float acc = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++, b += sizeof(block_tq1_0)) {
        float d = aria_fp16_to_fp32(aria_load_u16(b + TQ1_0_D_OFFSET));
        acc += (float)aria_tq1_0_block_isum_ref(b, x + i * QK_K) * d;
    }
    return acc;
}

/* One scale for the tensor (kernels.h): the row's exact int32 sum, times d once. */
float aria_dot_tq1_0_row_sum_i8_ref(int64_t n, const void *w, const int8_t *x, float d) {
    const uint8_t *b = w;
    int32_t isum = 0;
    for (int64_t i = 0; i < n / QK_K; i++, b += sizeof(block_tq1_0))
        isum += aria_tq1_0_block_isum_ref(b, x + i * QK_K);
    return (float)isum * d;
}

/* Packs k trits (q in {0,1,2}, first most significant), padded to 5 trits, into one byte. */
static uint8_t pack_trits(const int *q, int k) {
    unsigned v = 0;
    for (int i = 0; i < 5; i++) v = v * 3 + (unsigned)(i < k ? q[i] : 0);
    return (uint8_t)((v * 256 + 242) / 243); /* ceil(v * 256 / 243) */
}

void aria_quantize_row_tq1_0_ref(const float *x, void *y, int64_t n) {
    uint8_t *b = y;
    for (int64_t i = 0; i < n / QK_K; i++, b += sizeof(block_tq1_0), x += QK_K) {
        float amax = 0.0f;
        for (int j = 0; j < QK_K; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float id = amax ? 1.0f / amax : 0.0f;
        int q[QK_K];
        for (int j = 0; j < QK_K; j++) {
            const float r = roundf(x[j] * id); /* lroundf in ggml; |x * id| <= 1; NaN: 0 */
            q[j] = r > 0.0f ? 2 : r < 0.0f ? 0 : 1;
        }
        int t[5];
        for (int m = 0; m < 32; m++) {
            for (int k = 0; k < 5; k++) t[k] = q[k * 32 + m];
            b[m] = pack_trits(t, 5);
        }
        for (int m = 0; m < 16; m++) {
            for (int k = 0; k < 5; k++) t[k] = q[160 + k * 16 + m];
            b[32 + m] = pack_trits(t, 5);
        }
        for (int j = 0; j < 4; j++) {
            for (int k = 0; k < 4; k++) t[k] = q[240 + k * 4 + j];
            b[TQ1_0_QH_OFFSET + j] = pack_trits(t, 4);
        }
        uint16_t d = aria_fp32_to_fp16(amax);
        memcpy(b + TQ1_0_D_OFFSET, &d, sizeof d);
    }
}

void aria_dequantize_row_tq1_0_ref(const void *w, float *y, int64_t n) {
    const uint8_t *b = w;
    for (int64_t i = 0; i < n / QK_K; i++, b += sizeof(block_tq1_0), y += QK_K) {
        const float d = aria_fp16_to_fp32(aria_load_u16(b + TQ1_0_D_OFFSET));
        for (int k = 0; k < 5; k++)
            for (int m = 0; m < 32; m++) y[k * 32 + m] = (float)(trit(b[m], k) - 1) * d;
        for (int k = 0; k < 5; k++)
            for (int m = 0; m < 16; m++) y[160 + k * 16 + m] = (float)(trit(b[32 + m], k) - 1) * d;
        for (int k = 0; k < 4; k++)
            for (int j = 0; j < 4; j++)
                y[240 + k * 4 + j] = (float)(trit(b[TQ1_0_QH_OFFSET + j], k) - 1) * d;
    }
}
