/* aria_embed: token ids -> f32 embedding rows. */
#include "model.h"

int aria_embed(const aria_model *m, const int32_t *tokens, int32_t n, float *out) {
    if (!m || n < 0 || (n > 0 && (!tokens || !out))) return ARIA_E_INVALID_ARG;
    if (!m->has_embd) return ARIA_E_NOT_LOADED;
    for (int32_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= m->hp.n_vocab) return ARIA_E_RANGE;
    const aria_matrix *w = &m->token_embd;
    for (int32_t i = 0; i < n; i++) {
        aria_row_to_f32(w->type, w->data + (uint64_t)tokens[i] * w->row_bytes,
                        out + (int64_t)i * w->n_in, w->n_in);
        aria_canonical_nans(out + (int64_t)i * w->n_in, w->n_in); /* a file's NaN payloads */
    }
    return ARIA_OK;
}
