/* A small BitNet model written by the tests: the builtin-model tensor set (docs/builtin-model.md)
   at a tiny size, random ternary weights from a fixed seed. */
#ifndef ARIA_TEST_TINY_MODEL_H
#define ARIA_TEST_TINY_MODEL_H

#include "gguf_writer.h"

typedef struct {
    const char *arch; /* general.architecture */
    int n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab, n_ctx, rope_dims;
    float eps, rope_base;
    uint32_t embd_type;   /* F16 (default), F32, BF16, Q8_0 (token_embd and output.weight) */
    uint32_t linear_type; /* TQ2_0 (default), TQ1_0, I2_S, Q8_0, F16, F32, BF16 */
    bool with_output;     /* write output.weight (else tied) */
    bool with_scales;     /* write blk.N.<w>.scale tensors (arch "bitnet") */
    /* BitLinear rows scaled by 1, 1.25, 1.5 in turn (TQ2_0 / TQ1_0 then carry per-block d:
       the per-block arithmetic); default one scale per tensor (the row-sum arithmetic) */
    bool row_scales;
    uint64_t seed;
} tiny_cfg;

/* The default: bitnet-b1.58, 256 embd, 3 layers, 4/2 heads, 512 ff, 97 tokens, ctx 96. */
tiny_cfg tiny_default(void);

/* Fills f (gw_init'ed by this call). Returns false on allocation failure. */
bool tiny_build(gw_file *f, const tiny_cfg *cfg);

/* splitmix64, the tests' only randomness. */
uint64_t tiny_rand(uint64_t *state);

#endif
