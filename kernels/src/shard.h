/* A shard: layers [layer_begin, layer_end) of a model and the KV caches of up to n_seq_max
   sequences, plus the scratch of one forward pass (grown on demand). */
#ifndef ARIA_SHARD_H
#define ARIA_SHARD_H

#include <stdint.h>

#include "model.h"
#include "pool.h"

/* Rows pushed through all layers together. Each weight matrix is streamed once per chunk;
   results never depend on it (every row sees the same ops in the same order). */
#define ARIA_CHUNK 64

/* Hard cap on n_seq_max (ids stay small; the per-call bookkeeping stays cheap). */
#define ARIA_MAX_SEQ 4096

typedef struct {
    bool open;
    int32_t n_ctx;      /* positions the cache holds */
    int32_t n_past;     /* positions [0, n_past) are valid */
    /* (n_layers, n_ctx, kv_dim) binary16 (vec op to_f16): keys after RoPE, and values */
    uint16_t *k;
    uint16_t *v;
    uint64_t bytes;     /* heap bytes of k and v */
} aria_seq_slot;

struct aria_shard {
    const aria_model *model;
    int32_t layer_begin, layer_end; /* model layers; cache layer = il - layer_begin */
    int32_t n_seq_max;
    aria_seq_slot *seqs; /* [n_seq_max] */
    int32_t *next_pos;   /* [n_seq_max] per-call validation: next expected position, -1 */

    /* Scratch for up to cap rows (one chunk), allocated on first use and grown on demand. */
    int32_t cap;
    float *x;     /* (cap, n_embd) residual stream */
    float *xb;    /* (cap, n_embd) attention output */
    float *xb2;   /* (cap, n_embd) raw BitLinear dots before the residual add */
    float *q;     /* (cap, n_embd) queries */
    float *kb;    /* (cap, kv_dim) new keys before they go to their sequence's cache */
    float *vb;    /* (cap, kv_dim) new values */
    float *hb;    /* (cap, n_ff) gate, then act(gate) * up */
    float *hb2;   /* (cap, n_ff) up */
    int8_t *xq;   /* (cap, max(n_embd, n_ff)) int8 activations, rows packed at n_in */
    int32_t *xsum;/* (cap, max(n_embd, n_ff) / 128) group sums of xq */
    float *xs;    /* (cap) activation scales */
    float *rope;  /* (cap, rope_dims) cos | sin of each row's position */
    int32_t att_threads, att_len;
    float *att;   /* (att_threads, att_len) attention scores, one row per thread */
    uint64_t scratch_bytes;
};

/* Grows the scratch to hold rows rows (one chunk) and nth attention rows of att_len scores.
   ARIA_E_NOMEM leaves the shard usable (scratch is regrown on the next call). */
int aria_shard_reserve(aria_shard *sh, int32_t rows, int32_t nth, int32_t att_len);

/* Forward of n rows of one sequence at pos0 .. pos0 + n - 1 (the session API), with the
   checks of aria_shard_forward. */
int aria_shard_forward_seq(aria_shard *shard, aria_pool *pool, int32_t seq, int32_t n,
                           int32_t pos0, const float *in, float *out);

#endif
