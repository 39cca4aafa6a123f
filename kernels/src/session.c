/* Session lifetime: KV cache and scratch allocation, truncation. */
#include <stdlib.h>

#include "error.h"
#include "session.h"

/* n elements of elem bytes as a size_t; false if that does not fit (32-bit hosts). */
static bool bytes_of(uint64_t n, uint64_t elem, size_t *out) {
    if (n > SIZE_MAX / elem) return false;
    *out = (size_t)(n * elem);
    return true;
}

int aria_session_create(const aria_model *model, int32_t layer_begin, int32_t layer_end,
                        int32_t n_ctx, aria_session **out, char *err, size_t err_len) {
    if (out) *out = NULL;
    if (!model || !out)
        return aria_fail(err, err_len, ARIA_E_INVALID_ARG, "model and out must not be NULL");
    const aria_hparams *hp = &model->hp;
    if (layer_begin < 0 || layer_begin >= layer_end || layer_end > hp->n_layer)
        return aria_fail(err, err_len, ARIA_E_INVALID_ARG,
                         "layer range [%d, %d) is not a non-empty part of [0, %d)", layer_begin,
                         layer_end, hp->n_layer);
    if (n_ctx < 1)
        return aria_fail(err, err_len, ARIA_E_INVALID_ARG, "n_ctx %d must be positive", n_ctx);
    if (n_ctx > hp->n_ctx_train)
        return aria_fail(err, err_len, ARIA_E_RANGE,
                         "n_ctx %d exceeds the model's context length %d", n_ctx, hp->n_ctx_train);

    aria_session *s = calloc(1, sizeof *s);
    if (!s) return aria_fail(err, err_len, ARIA_E_NOMEM, "out of memory");
    s->model = model;
    s->layer_begin = layer_begin;
    s->layer_end = layer_end;
    s->n_ctx = n_ctx;
    s->n_batch = n_ctx < ARIA_BATCH ? n_ctx : ARIA_BATCH;
    s->bytes = sizeof *s;

    /* Hyperparameter bounds (model.h) keep every count below 2^51: no uint64 overflow. */
    const uint64_t kv_dim = (uint64_t)hp->n_head_kv * (uint64_t)hp->head_dim;
    const uint64_t B = (uint64_t)s->n_batch, E = (uint64_t)hp->n_embd, F = (uint64_t)hp->n_ff;
    const uint64_t n_in_max = E > F ? E : F;
    size_t cache, sz_e, sz_f, sz_q, sz_s, sz_att;
    const uint64_t n_cache = (uint64_t)(layer_end - layer_begin) * (uint64_t)n_ctx * kv_dim;
    bool ok = bytes_of(n_cache, sizeof(float), &cache) &&
              bytes_of(4 * B * E, sizeof(float), &sz_e) &&  /* x, xb, xb2, q */
              bytes_of(2 * B * F, sizeof(float), &sz_f) &&  /* hb, hb2 */
              bytes_of(B * n_in_max, 1, &sz_q) && bytes_of(B, sizeof(float), &sz_s) &&
              bytes_of((uint64_t)n_ctx, sizeof(float), &sz_att);
    if (ok) {
        s->bytes += 2 * (uint64_t)cache + sz_e + sz_f + sz_q + sz_s + sz_att;
        /* calloc: cache pages are only committed once positions are written. */
        s->key_cache = calloc(1, cache);
        s->value_cache = calloc(1, cache);
        s->x = malloc(sz_e);
        s->hb = malloc(sz_f);
        s->xq = malloc(sz_q);
        s->xs = malloc(sz_s);
        s->att = malloc(sz_att);
    }
    if (!ok || !s->key_cache || !s->value_cache || !s->x || !s->hb || !s->xq || !s->xs || !s->att) {
        aria_session_free(s);
        return aria_fail(err, err_len, ARIA_E_NOMEM,
                         "out of memory for a session of %d layers x %d positions",
                         layer_end - layer_begin, n_ctx);
    }
    /* x, xb, xb2, q share one allocation; hb, hb2 another. */
    s->xb = s->x + B * E;
    s->xb2 = s->xb + B * E;
    s->q = s->xb2 + B * E;
    s->hb2 = s->hb + B * F;
    aria_err_clear(err, err_len);
    *out = s;
    return ARIA_OK;
}

void aria_session_free(aria_session *s) {
    if (!s) return;
    free(s->key_cache);
    free(s->value_cache);
    free(s->x);
    free(s->hb);
    free(s->xq);
    free(s->xs);
    free(s->att);
    free(s);
}

int aria_session_truncate(aria_session *s, int32_t n_past) {
    if (!s || n_past < 0) return ARIA_E_INVALID_ARG;
    if (n_past > s->n_past) return ARIA_E_RANGE;
    s->n_past = n_past; /* stale positions are never read: attention stops at the row's own */
    return ARIA_OK;
}

int32_t aria_session_n_past(const aria_session *s) { return s ? s->n_past : ARIA_E_INVALID_ARG; }

uint64_t aria_session_memory(const aria_session *s) { return s ? s->bytes : 0; }
