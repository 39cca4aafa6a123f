/* aria_logits: output_norm then the float output head (tied to token_embd unless output.weight). */
#include <stdint.h>
#include <stdlib.h>

#include "model.h"

int aria_logits(const aria_model *m, const float *hidden, int32_t n, float *out) {
    if (!m || n < 0 || (n > 0 && (!hidden || !out))) return ARIA_E_INVALID_ARG;
    if (n == 0) return ARIA_OK;
    const int64_t E = m->hp.n_embd;
    if ((size_t)n > SIZE_MAX / sizeof(float) / (size_t)E) return ARIA_E_NOMEM;
    float *xn = malloc((size_t)n * (size_t)E * sizeof(float)); /* (n, n_embd) normed rows */
    if (!xn) return ARIA_E_NOMEM;
    for (int32_t r = 0; r < n; r++)
        aria_rmsnorm(E, hidden + r * E, m->output_norm, m->hp.eps, xn + r * E);
    aria_matmul_f32(&m->output, n, xn, out); /* (n, n_vocab) */
    free(xn);
    return ARIA_OK;
}
