/*
 * A dishonest libaria for the Proof of Useful Work test (tests/e2e/verification.test.ts): it
 * exports what the real library exports (it links to it, so every other symbol resolves there)
 * but replaces aria_shard_forward with one that runs the real forward pass and then changes one
 * value of every output row by one unit in the last place — wrong activations on every step,
 * too small to notice in the text. Never part of the product; the test builds it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>

#include "aria.h"

typedef int (*forward_fn)(aria_shard *, aria_pool *, int32_t, const int32_t *, const int32_t *, const float *, float *);
typedef int (*shard_create_fn)(const aria_model *, int32_t, int32_t, int32_t, aria_shard **, char *, size_t);

/* The model's width, learned when a shard is made (an agent loads one model). */
static int32_t n_embd;

int aria_shard_create(const aria_model *model, int32_t layer_begin, int32_t layer_end, int32_t n_seq_max, aria_shard **out,
                      char *err, size_t err_len) {
    shard_create_fn real = (shard_create_fn)dlsym(RTLD_NEXT, "aria_shard_create");
    if (!real) return ARIA_E_INVALID_ARG;
    int32_t info[ARIA_INFO_COUNT];
    int rc = aria_model_info(model, info, ARIA_INFO_COUNT);
    if (rc != ARIA_OK) return rc;
    n_embd = info[ARIA_INFO_N_EMBD];
    return real(model, layer_begin, layer_end, n_seq_max, out, err, err_len);
}

int aria_shard_forward(aria_shard *shard, aria_pool *pool, int32_t n, const int32_t *seq, const int32_t *pos, const float *in,
                       float *out) {
    forward_fn real = (forward_fn)dlsym(RTLD_NEXT, "aria_shard_forward");
    if (!real) return ARIA_E_INVALID_ARG;
    int rc = real(shard, pool, n, seq, pos, in, out);
    if (rc != ARIA_OK || !out) return rc;
    for (int32_t r = 0; r < n; r++) out[(int64_t)r * n_embd] = nextafterf(out[(int64_t)r * n_embd], INFINITY);
    return rc;
}
