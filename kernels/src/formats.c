/* Size rules of the ggml types GGUF files carry (formats.h). */
#include "formats.h"

#include <math.h>
#include <stddef.h>

typedef struct {
    uint32_t id;
    aria_type_traits t;
} type_row;

/* Upstream ggml ids valid in every file. Sizes from ggml-common.h block structs. */
static const type_row common_types[] = {
    {ARIA_TYPE_F32, {"F32", 1, 4, 0}},        {ARIA_TYPE_F16, {"F16", 1, 2, 0}},
    {ARIA_TYPE_Q4_0, {"Q4_0", 32, 18, 0}},    {ARIA_TYPE_Q4_1, {"Q4_1", 32, 20, 0}},
    {ARIA_TYPE_Q5_0, {"Q5_0", 32, 22, 0}},    {ARIA_TYPE_Q5_1, {"Q5_1", 32, 24, 0}},
    {ARIA_TYPE_Q8_0, {"Q8_0", 32, sizeof(block_q8_0), 0}},
    {ARIA_TYPE_Q8_1, {"Q8_1", 32, 36, 0}},    {ARIA_TYPE_Q2_K, {"Q2_K", QK_K, 84, 0}},
    {ARIA_TYPE_Q3_K, {"Q3_K", QK_K, 110, 0}}, {ARIA_TYPE_Q4_K, {"Q4_K", QK_K, 144, 0}},
    {ARIA_TYPE_Q5_K, {"Q5_K", QK_K, 176, 0}}, {ARIA_TYPE_Q6_K, {"Q6_K", QK_K, 210, 0}},
    {ARIA_TYPE_Q8_K, {"Q8_K", QK_K, 292, 0}}, {ARIA_TYPE_IQ2_XXS, {"IQ2_XXS", QK_K, 66, 0}},
    {ARIA_TYPE_IQ2_XS, {"IQ2_XS", QK_K, 74, 0}}, {ARIA_TYPE_IQ3_XXS, {"IQ3_XXS", QK_K, 98, 0}},
    {ARIA_TYPE_IQ1_S, {"IQ1_S", QK_K, 50, 0}},   {ARIA_TYPE_IQ4_NL, {"IQ4_NL", 32, 18, 0}},
    {ARIA_TYPE_IQ3_S, {"IQ3_S", QK_K, 110, 0}},  {ARIA_TYPE_IQ2_S, {"IQ2_S", QK_K, 82, 0}},
    {ARIA_TYPE_IQ4_XS, {"IQ4_XS", QK_K, 136, 0}}, {ARIA_TYPE_I8, {"I8", 1, 1, 0}},
    {ARIA_TYPE_I16, {"I16", 1, 2, 0}},        {ARIA_TYPE_I32, {"I32", 1, 4, 0}},
    {ARIA_TYPE_I64, {"I64", 1, 8, 0}},        {ARIA_TYPE_F64, {"F64", 1, 8, 0}},
    {ARIA_TYPE_IQ1_M, {"IQ1_M", QK_K, 56, 0}}, {ARIA_TYPE_BF16, {"BF16", 1, 2, 0}},
    {ARIA_TYPE_TQ1_0, {"TQ1_0", QK_K, sizeof(block_tq1_0), 0}},
    {ARIA_TYPE_TQ2_0, {"TQ2_0", QK_K, sizeof(block_tq2_0), 0}},
};

/* I2_S: 2 bits per weight in 128-element blocks of 32 bytes (rows are whole blocks), then one
   32-byte tail holding the f32 tensor scale: nbytes = n/4 + 32 (docs/bitnet-format.md §3.3). */
static const type_row fork_types[] = {
    {ARIA_TYPE_I2_S, {"I2_S", QK_I2_S, I2_S_BLOCK_BYTES, I2_S_TAIL_BYTES}},
};

static const type_row upstream_types[] = {
    {ARIA_TYPE_MXFP4, {"MXFP4", 32, 17, 0}},
};

static const aria_type_traits *find(const type_row *rows, size_t n, uint32_t id) {
    for (size_t i = 0; i < n; i++)
        if (rows[i].id == id) return &rows[i].t;
    return NULL;
}

static const aria_type_traits *lookup(uint32_t type, bool fork_ids) {
#define FIND(rows) find(rows, sizeof rows / sizeof *rows, type)
    const aria_type_traits *t = FIND(common_types);
    if (t) return t;
    return fork_ids ? FIND(fork_types) : FIND(upstream_types);
#undef FIND
}

bool aria_type_traits_get(uint32_t type, bool fork_ids, aria_type_traits *out) {
    const aria_type_traits *t = lookup(type, fork_ids);
    if (!t) return false;
    *out = *t;
    return true;
}

const char *aria_type_name(uint32_t type, bool fork_ids) {
    const aria_type_traits *t = lookup(type, fork_ids);
    if (t) return t->name;
    if (fork_ids) {
        switch (type) {
        case ARIA_TYPE_I8_S: return "I8_S";
        case ARIA_TYPE_TL1: return "TL1";
        case ARIA_TYPE_TL2: return "TL2";
        default: break;
        }
    }
    return NULL;
}

bool aria_blocks_share_d(const uint8_t *data, int64_t n_blocks, int64_t block_bytes,
                         int64_t d_offset, float *d) {
    if (n_blocks <= 0) return false;
    const uint16_t d0 = aria_load_u16(data + d_offset);
    for (int64_t b = 1; b < n_blocks; b++)
        if (aria_load_u16(data + b * block_bytes + d_offset) != d0) return false;
    const float f = aria_fp16_to_fp32(d0);
    if (!isfinite(f)) return false;
    *d = f;
    return true;
}
