/*
 * formats.h - tensor formats, documented once (docs/bitnet-format.md §2.2, §3).
 *
 * ggml type ids as stored in GGUF tensor infos, block layouts with their sizes asserted, and the
 * scalar half-precision conversions every tier uses. All multi-byte values are little-endian;
 * the library only builds for little-endian hosts.
 */
#ifndef ARIA_FORMATS_H
#define ARIA_FORMATS_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "libaria reads GGUF tensor data in place and needs a little-endian host"
#endif

/* ggml type ids. 36..39 mean different things in the bitnet.cpp fork and in upstream ggml
   (docs/bitnet-format.md §2.2): the fork's ids apply when general.architecture is bitnet-b1.58
   or bitnet-25. */
enum {
    ARIA_TYPE_F32 = 0,
    ARIA_TYPE_F16 = 1,
    ARIA_TYPE_Q4_0 = 2,
    ARIA_TYPE_Q4_1 = 3,
    ARIA_TYPE_Q5_0 = 6,
    ARIA_TYPE_Q5_1 = 7,
    ARIA_TYPE_Q8_0 = 8,
    ARIA_TYPE_Q8_1 = 9,
    ARIA_TYPE_Q2_K = 10,
    ARIA_TYPE_Q3_K = 11,
    ARIA_TYPE_Q4_K = 12,
    ARIA_TYPE_Q5_K = 13,
    ARIA_TYPE_Q6_K = 14,
    ARIA_TYPE_Q8_K = 15,
    ARIA_TYPE_IQ2_XXS = 16,
    ARIA_TYPE_IQ2_XS = 17,
    ARIA_TYPE_IQ3_XXS = 18,
    ARIA_TYPE_IQ1_S = 19,
    ARIA_TYPE_IQ4_NL = 20,
    ARIA_TYPE_IQ3_S = 21,
    ARIA_TYPE_IQ2_S = 22,
    ARIA_TYPE_IQ4_XS = 23,
    ARIA_TYPE_I8 = 24,
    ARIA_TYPE_I16 = 25,
    ARIA_TYPE_I32 = 26,
    ARIA_TYPE_I64 = 27,
    ARIA_TYPE_F64 = 28,
    ARIA_TYPE_IQ1_M = 29,
    ARIA_TYPE_BF16 = 30,
    ARIA_TYPE_TQ1_0 = 34,
    ARIA_TYPE_TQ2_0 = 35,
    ARIA_TYPE_I2_S = 36,  /* fork only (upstream: retired) */
    ARIA_TYPE_I8_S = 37,  /* fork only */
    ARIA_TYPE_TL1 = 38,   /* fork only; layout depends on the model's kernel tiling */
    ARIA_TYPE_TL2 = 39,   /* fork only; likewise */
    ARIA_TYPE_MXFP4 = 39  /* upstream only */
};

/* Kernel dispatch keys that are not GGUF ids: a TQ2_0 / TQ1_0 tensor whose blocks all carry
   the same d runs the row-sum arithmetic (kernels.h) under these keys (tier.c). */
enum {
    ARIA_KERNELS_TQ1_0_ROW_SUM = 0x10000 + ARIA_TYPE_TQ1_0,
    ARIA_KERNELS_TQ2_0_ROW_SUM = 0x10000 + ARIA_TYPE_TQ2_0,
    /* Q8_0 rows in the x8 layout (kernels.h): the output head's heap copy */
    ARIA_KERNELS_Q8_0_X8 = 0x20000 + ARIA_TYPE_Q8_0
};
#define Q8_0_X8_BLOCKS 8                                  /* blocks per x8 group */
#define Q8_0_X8_GROUP_BYTES (Q8_0_X8_BLOCKS * (int64_t)sizeof(block_q8_0)) /* 16 B of d + 256 of q */

/* Size rule of one type: a row of ne0 elements (ne0 % blck_size == 0) takes
   ne0 / blck_size * type_size bytes; a tensor additionally carries tail_bytes once at its end
   (I2_S keeps its float scale there). */
typedef struct {
    const char *name;
    uint32_t blck_size;
    uint32_t type_size;
    uint32_t tail_bytes;
} aria_type_traits;

/* True when all n_blocks blocks at data (block_bytes apart, fp16 d at d_offset in each) carry
   bitwise the same finite d; *d then receives it as f32. Decides the row-sum arithmetic. */
bool aria_blocks_share_d(const uint8_t *data, int64_t n_blocks, int64_t block_bytes,
                         int64_t d_offset, float *d);

/* Looks up a type id; fork_ids selects bitnet.cpp's meaning of 36..39. Returns false for ids
   whose size cannot be computed (unknown ids, TL1/TL2, I8_S). */
bool aria_type_traits_get(uint32_t type, bool fork_ids, aria_type_traits *out);

/* Display name of a type id, "type<N>" style ids are printed by the caller when NULL. */
const char *aria_type_name(uint32_t type, bool fork_ids);

/* QK_K: elements per super-block of the K-quant family, and of TQ1_0/TQ2_0. */
#define QK_K 256

/* TQ2_0, 2.0625 bits per weight: 256 ternary weights as 2-bit codes q = t + 1 in {0,1,2}
   (3 decodes as +2, as in ggml) and one fp16 scale d stored last.
   Element c*128 + n*32 + m (chunk c < 2, lane n < 4, byte m < 32) is bits 2n..2n+1 of
   qs[c*32 + m]; its value is (q - 1) * d. */
typedef struct {
    uint8_t qs[QK_K / 4];
    uint16_t d; /* fp16 bits */
} block_tq2_0;
static_assert(sizeof(block_tq2_0) == 66, "TQ2_0 block is 66 bytes");
/* Tensor data may sit at any multiple of general.alignment (possibly 1): kernels read blocks as
   bytes and load d with memcpy rather than dereferencing a block_tq2_0 pointer. */
#define TQ2_0_D_OFFSET 64
static_assert(TQ2_0_D_OFFSET == sizeof(((block_tq2_0 *)0)->qs), "d follows qs");

/* TQ1_0, 1.6875 bits per weight: 256 ternary weights as trits q = t + 1 in {0,1,2}, five per
   byte (3^5 = 243 <= 256), and one fp16 scale d stored last. A byte holding trits q0..q4
   (q0 most significant) stores v = sum q_i * 3^(4-i) in [0, 243) as ceil(v * 256 / 243); trit n
   of byte b decodes as ((uint8_t)(b * 3^n) * 3) >> 8 -- which is in {0,1,2} for ANY byte, so a
   corrupt block cannot produce an out-of-range trit. Element order (docs/bitnet-format.md §3.2):
     qs[m],      m < 32: trit n is element n*32 + m           (elements   0..159)
     qs[32 + m], m < 16: trit n is element 160 + n*16 + m     (elements 160..239)
     qh[j],      j < 4:  trit n is element 240 + n*4 + j, n < 4 (the 5th trit is 0: v is
                         pre-multiplied by 3)                  (elements 240..255)
   Value (q - 1) * d. */
typedef struct {
    uint8_t qs[(QK_K - 4 * QK_K / 64) / 5];
    uint8_t qh[QK_K / 64];
    uint16_t d;
} block_tq1_0;
static_assert(sizeof(block_tq1_0) == 54, "TQ1_0 block is 54 bytes");
#define TQ1_0_QH_OFFSET 48
#define TQ1_0_D_OFFSET 52
static_assert(TQ1_0_QH_OFFSET == sizeof(((block_tq1_0 *)0)->qs), "qh follows qs");
static_assert(TQ1_0_D_OFFSET == TQ1_0_QH_OFFSET + sizeof(((block_tq1_0 *)0)->qh), "d follows qh");

/* Q8_0, 8.5 bits per weight: fp16 scale d first, then 32 int8 q; value q * d. Used for the output
   head / embedding (and accepted for BitLinear weights). Any int8 is valid, -128 included. */
#define QK8_0 32
typedef struct {
    uint16_t d;
    int8_t qs[QK8_0];
} block_q8_0;
static_assert(sizeof(block_q8_0) == 34, "Q8_0 block is 34 bytes");
#define Q8_0_QS_OFFSET 2
static_assert(Q8_0_QS_OFFSET == sizeof(((block_q8_0 *)0)->d), "qs follows d");

/* I2_S (bitnet.cpp, ggml id 36 under the fork archs only), 2 bits per weight + one tensor tail
   (docs/bitnet-format.md §3.3). The whole tensor (rows of K = ne0 elements, K % 128 == 0) is a
   flat stream of 128-element blocks of 32 bytes, so row r starts at byte r * K / 4. In block b,
   element j is
   the 2-bit code at shift 6 - 2 * (j / 32) of byte b * 32 + j % 32 (the first 32 elements sit in
   the top bits). Codes 0, 1, 2 mean -1, 0, +1; 3 is never written and decodes as +2 in every
   tier (what bitnet.cpp's MAD kernel, sum code*x - sum x, computes for it). After the n/4 bytes
   of codes comes a 32-byte tail whose first 4 bytes are the f32 tensor scale s (must be finite
   and > 0); the value of a weight is (code - 1) * s. Tensor byte size n/4 + 32. */
#define QK_I2_S 128
#define I2_S_BLOCK_BYTES 32
#define I2_S_TAIL_BYTES 32
static_assert(QK_I2_S / 4 == I2_S_BLOCK_BYTES, "I2_S packs four 2-bit codes per byte");

/* Unaligned little-endian loads from mapped tensor data. */
static inline uint16_t aria_load_u16(const void *p) {
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline float aria_load_f32(const void *p) {
    float v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* IEEE half -> float, exact for every input (subnormals, inf, NaN payload kept). */
static inline float aria_fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13);
    } else if (exp != 0) {
        bits = sign | ((exp + (127 - 15)) << 23) | (man << 13);
    } else if (man == 0) {
        bits = sign;
    } else { /* subnormal: man * 2^-24; renormalise */
        exp = 127 - 15 + 1;
        while (!(man & 0x400u)) {
            man <<= 1;
            exp--;
        }
        bits = sign | (exp << 23) | ((man & 0x3ffu) << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* float -> IEEE half, round to nearest even; overflow gives inf, NaN stays NaN. */
static inline uint16_t aria_fp32_to_fp16(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return (uint16_t)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0u));
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520 rounds to inf */
    if (ax < 0x38800000u) {                                   /* below 2^-14: subnormal half */
        uint32_t e = ax >> 23;
        if (e < 102) return sign; /* < 2^-25: rounds to zero */
        uint32_t m = (ax & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126 - e; /* result = m * 2^(e-126), shift in [14, 24] */
        uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1u))) q++;
        return (uint16_t)(sign | q);
    }
    uint32_t r = ax - ((uint32_t)(127 - 15) << 23);
    r += 0xfffu + ((r >> 13) & 1u);
    return (uint16_t)(sign | (r >> 13));
}

/* bfloat16 is the top half of a float. */
static inline float aria_bf16_to_fp32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* float -> bfloat16, round to nearest even; NaN stays NaN. */
static inline uint16_t aria_fp32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
    return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

#endif
