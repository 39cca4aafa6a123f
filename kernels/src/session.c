/* The single-sequence session API on top of a one-slot shard, run on the calling thread. */
#include <stdlib.h>

#include "error.h"
#include "session.h"

int aria_session_create(const aria_model *model, int32_t layer_begin, int32_t layer_end,
                        int32_t n_ctx, aria_session **out, char *err, size_t err_len) {
    if (out) *out = NULL;
    if (!model || !out)
        return aria_fail(err, err_len, ARIA_E_INVALID_ARG, "model and out must not be NULL");
    if (n_ctx < 1)
        return aria_fail(err, err_len, ARIA_E_INVALID_ARG, "n_ctx %d must be positive", n_ctx);
    aria_session *s = calloc(1, sizeof *s);
    if (!s) return aria_fail(err, err_len, ARIA_E_NOMEM, "out of memory");
    int st = aria_shard_create(model, layer_begin, layer_end, 1, &s->shard, err, err_len);
    if (st) {
        free(s);
        return st;
    }
    st = aria_seq_open(s->shard, n_ctx, &s->seq);
    if (st) {
        aria_session_free(s);
        if (st == ARIA_E_RANGE)
            return aria_fail(err, err_len, st, "n_ctx %d exceeds the model's context length %d",
                             n_ctx, model->hp.n_ctx_train);
        return aria_fail(err, err_len, st,
                         "out of memory for a session of %d layers x %d positions",
                         layer_end - layer_begin, n_ctx);
    }
    s->n_ctx = n_ctx;
    aria_err_clear(err, err_len);
    *out = s;
    return ARIA_OK;
}

void aria_session_free(aria_session *s) {
    if (!s) return;
    aria_shard_free(s->shard);
    free(s);
}

int aria_session_truncate(aria_session *s, int32_t n_past) {
    if (!s) return ARIA_E_INVALID_ARG;
    return aria_seq_truncate(s->shard, s->seq, n_past);
}

int32_t aria_session_n_past(const aria_session *s) {
    return s ? aria_seq_n_past(s->shard, s->seq) : ARIA_E_INVALID_ARG;
}

uint64_t aria_session_memory(const aria_session *s) {
    return s ? sizeof *s + aria_shard_memory(s->shard) : 0;
}

int aria_session_forward(aria_session *s, const float *in, int32_t n, int32_t pos0, float *out) {
    if (!s || n < 0 || (n > 0 && (!in || !out))) return ARIA_E_INVALID_ARG;
    const int32_t n_past = aria_seq_n_past(s->shard, s->seq);
    if (pos0 < 0 || pos0 > n_past || (int64_t)pos0 + n > s->n_ctx) return ARIA_E_RANGE;
    if (n == 0) return aria_seq_truncate(s->shard, s->seq, pos0); /* n_past = pos0 */
    return aria_shard_forward_seq(s->shard, NULL, s->seq, n, pos0, in, out);
}
