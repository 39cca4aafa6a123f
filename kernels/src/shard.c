/* Shard lifetime: sequence slots and their KV caches, scratch growth, memory accounting. */
#include <stdlib.h>

#include "error.h"
#include "shard.h"

int aria_shard_create(const aria_model *model, int32_t layer_begin, int32_t layer_end,
                      int32_t n_seq_max, aria_shard **out, char *err, size_t err_len) {
    if (out) *out = NULL;
    if (!model || !out)
        return aria_fail(err, err_len, ARIA_E_INVALID_ARG, "model and out must not be NULL");
    const aria_hparams *hp = &model->hp;
    if (layer_begin < 0 || layer_begin >= layer_end || layer_end > hp->n_layer)
        return aria_fail(err, err_len, ARIA_E_INVALID_ARG,
                         "layer range [%d, %d) is not a non-empty part of [0, %d)", layer_begin,
                         layer_end, hp->n_layer);
    if (layer_begin < model->layer_begin || layer_end > model->layer_end)
        return aria_fail(err, err_len, ARIA_E_NOT_LOADED, "layers [%d, %d) are not all loaded (the model holds [%d, %d))",
                         layer_begin, layer_end, model->layer_begin, model->layer_end);
    if (n_seq_max < 1 || n_seq_max > ARIA_MAX_SEQ)
        return aria_fail(err, err_len, ARIA_E_INVALID_ARG, "n_seq_max %d is not in [1, %d]",
                         n_seq_max, ARIA_MAX_SEQ);
    aria_shard *sh = calloc(1, sizeof *sh);
    if (sh) {
        sh->seqs = calloc((size_t)n_seq_max, sizeof *sh->seqs);
        sh->next_pos = malloc((size_t)n_seq_max * sizeof *sh->next_pos);
    }
    if (!sh || !sh->seqs || !sh->next_pos) {
        aria_shard_free(sh);
        return aria_fail(err, err_len, ARIA_E_NOMEM, "out of memory for a shard");
    }
    sh->model = model;
    sh->layer_begin = layer_begin;
    sh->layer_end = layer_end;
    sh->n_seq_max = n_seq_max;
    for (int32_t s = 0; s < n_seq_max; s++) sh->next_pos[s] = -1;
    aria_err_clear(err, err_len);
    *out = sh;
    return ARIA_OK;
}

static void free_scratch(aria_shard *sh) {
    free(sh->x);
    free(sh->hb);
    free(sh->kb);
    free(sh->xq);
    free(sh->xsum);
    free(sh->xs);
    free(sh->rope);
    free(sh->att);
    sh->x = sh->xb = sh->xb2 = sh->q = sh->hb = sh->hb2 = sh->kb = sh->vb = NULL;
    sh->xq = NULL;
    sh->xsum = NULL;
    sh->xs = sh->rope = sh->att = NULL;
    sh->cap = sh->att_threads = sh->att_len = 0;
    sh->scratch_bytes = 0;
}

void aria_shard_free(aria_shard *sh) {
    if (!sh) return;
    for (int32_t s = 0; s < sh->n_seq_max && sh->seqs; s++) {
        free(sh->seqs[s].k);
        free(sh->seqs[s].v);
    }
    free_scratch(sh);
    free(sh->seqs);
    free(sh->next_pos);
    free(sh);
}

/* Rows of the chunk buffers; everything else derives from the model. */
int aria_shard_reserve(aria_shard *sh, int32_t rows, int32_t nth, int32_t att_len) {
    const aria_hparams *hp = &sh->model->hp;
    if (rows > sh->cap) {
        const int32_t cap = rows;
        const uint64_t E = (uint64_t)hp->n_embd, F = (uint64_t)hp->n_ff, C = (uint64_t)cap;
        const uint64_t KV = (uint64_t)hp->n_head_kv * (uint64_t)hp->head_dim;
        const uint64_t n_in = E > F ? E : F;
        const int32_t att_threads = sh->att_threads, att_len0 = sh->att_len;
        free_scratch(sh);
        /* Model bounds (model.h) keep these products far below SIZE_MAX on 64-bit hosts. */
        sh->x = malloc(4 * C * E * sizeof(float));
        sh->hb = malloc(2 * C * F * sizeof(float));
        sh->kb = malloc(2 * C * KV * sizeof(float));
        sh->xq = malloc(C * n_in);
        sh->xsum = malloc((C * (n_in / 128) + 1) * sizeof(int32_t));
        sh->xs = malloc(C * sizeof(float));
        sh->rope = malloc(C * (uint64_t)hp->rope_dims * sizeof(float));
        if (!sh->x || !sh->hb || !sh->kb || !sh->xq || !sh->xsum || !sh->xs || !sh->rope) {
            free_scratch(sh);
            return ARIA_E_NOMEM;
        }
        sh->xb = sh->x + C * E;
        sh->xb2 = sh->xb + C * E;
        sh->q = sh->xb2 + C * E;
        sh->hb2 = sh->hb + C * F;
        sh->vb = sh->kb + C * KV;
        sh->cap = cap;
        sh->scratch_bytes = (4 * C * E + 2 * C * F + 2 * C * KV + C) * sizeof(float) + C * n_in +
                            (C * (n_in / 128) + 1) * sizeof(int32_t) +
                            C * (uint64_t)hp->rope_dims * sizeof(float);
        nth = nth > att_threads ? nth : att_threads;
        att_len = att_len > att_len0 ? att_len : att_len0;
    }
    if (nth > sh->att_threads || att_len > sh->att_len) {
        const int32_t t = nth > sh->att_threads ? nth : sh->att_threads;
        const int32_t l = att_len > sh->att_len ? att_len : sh->att_len;
        float *att = malloc((size_t)t * (size_t)l * sizeof(float));
        if (!att) return ARIA_E_NOMEM;
        free(sh->att);
        sh->scratch_bytes += ((uint64_t)t * l - (uint64_t)sh->att_threads * sh->att_len) * sizeof(float);
        sh->att = att;
        sh->att_threads = t;
        sh->att_len = l;
    }
    return ARIA_OK;
}

int aria_seq_open(aria_shard *sh, int32_t n_ctx, int32_t *seq_out) {
    if (seq_out) *seq_out = -1;
    if (!sh || !seq_out || n_ctx < 1) return ARIA_E_INVALID_ARG;
    const aria_hparams *hp = &sh->model->hp;
    if (n_ctx > hp->n_ctx_train) return ARIA_E_RANGE;
    int32_t s = 0;
    while (s < sh->n_seq_max && sh->seqs[s].open) s++;
    if (s == sh->n_seq_max) return ARIA_E_RANGE;
    const uint64_t n = (uint64_t)(sh->layer_end - sh->layer_begin) * (uint64_t)n_ctx *
                       (uint64_t)hp->n_head_kv * (uint64_t)hp->head_dim;
    if (n > SIZE_MAX / sizeof(uint16_t)) return ARIA_E_NOMEM;
    aria_seq_slot *slot = &sh->seqs[s];
    /* calloc: pages are only committed as positions are written. */
    slot->k = calloc((size_t)n, sizeof(uint16_t));
    slot->v = calloc((size_t)n, sizeof(uint16_t));
    if (!slot->k || !slot->v) {
        free(slot->k);
        free(slot->v);
        slot->k = slot->v = NULL;
        return ARIA_E_NOMEM;
    }
    slot->open = true;
    slot->n_ctx = n_ctx;
    slot->n_past = 0;
    slot->bytes = 2 * n * sizeof(uint16_t);
    *seq_out = s;
    return ARIA_OK;
}

static aria_seq_slot *slot_of(const aria_shard *sh, int32_t seq) {
    if (!sh || seq < 0 || seq >= sh->n_seq_max || !sh->seqs[seq].open) return NULL;
    return &sh->seqs[seq];
}

int aria_seq_close(aria_shard *sh, int32_t seq) {
    aria_seq_slot *slot = slot_of(sh, seq);
    if (!slot) return ARIA_E_INVALID_ARG;
    free(slot->k);
    free(slot->v);
    *slot = (aria_seq_slot){0};
    return ARIA_OK;
}

int aria_seq_truncate(aria_shard *sh, int32_t seq, int32_t n_past) {
    aria_seq_slot *slot = slot_of(sh, seq);
    if (!slot || n_past < 0) return ARIA_E_INVALID_ARG;
    if (n_past > slot->n_past) return ARIA_E_RANGE;
    slot->n_past = n_past; /* stale positions are never read: a row attends up to its own */
    return ARIA_OK;
}

int32_t aria_seq_n_past(const aria_shard *sh, int32_t seq) {
    const aria_seq_slot *slot = slot_of(sh, seq);
    return slot ? slot->n_past : ARIA_E_INVALID_ARG;
}

uint64_t aria_shard_memory(const aria_shard *sh) {
    if (!sh) return 0;
    uint64_t b = sizeof *sh + (uint64_t)sh->n_seq_max * (sizeof *sh->seqs + sizeof(int32_t)) +
                 sh->scratch_bytes;
    for (int32_t s = 0; s < sh->n_seq_max; s++) b += sh->seqs[s].bytes;
    return b;
}
