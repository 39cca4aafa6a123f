/* One sequence's state for a contiguous range of layers. */
#ifndef ARIA_SESSION_H
#define ARIA_SESSION_H

#include <stdint.h>

#include "model.h"

/* Rows pushed through a layer together: each weight row is read once per chunk of this many
   tokens. Results do not depend on it (every row is computed by the same ops in the same order). */
#define ARIA_BATCH 32

struct aria_session {
    const aria_model *model;
    int32_t layer_begin, layer_end; /* model layers [begin, end); cache layer = il - layer_begin */
    int32_t n_ctx;                  /* positions the cache holds */
    int32_t n_past;                 /* positions [0, n_past) are valid */
    int32_t n_batch;                /* rows per chunk, min(ARIA_BATCH, n_ctx) */
    float *key_cache;   /* (n_layers, n_ctx, kv_dim) keys after RoPE */
    float *value_cache; /* (n_layers, n_ctx, kv_dim) */
    float *x;           /* (n_batch, n_embd) residual stream */
    float *xb;          /* (n_batch, n_embd) normed input, then attention output */
    float *xb2;         /* (n_batch, n_embd) BitLinear output before the residual add */
    float *q;           /* (n_batch, n_embd) queries; n_head * head_dim == n_embd */
    float *hb;          /* (n_batch, n_ff) gate, then act(gate) * up */
    float *hb2;         /* (n_batch, n_ff) up */
    int8_t *xq;         /* (n_batch, max(n_embd, n_ff)) int8 activations, rows packed at n_in */
    float *xs;          /* (n_batch) activation scales */
    float *att;         /* (n_ctx) attention scores of one head */
    uint64_t bytes;     /* heap bytes owned */
};

#endif
