/* aria_logits / aria_logits_mt: output_norm then the output head (tied to token_embd unless
   output.weight), the vocabulary split across threads in runs of rows (vocab_chunk). Each
   logit is computed by one thread with the same kernel, so the thread count never changes a
   bit. The head runs on f32 activations for float weights, on per-32-block int8 activations
   for a Q8_0 head (dot_q8; reordered for the x8 layout of the ARIA_HEAD_Q8_0 copy), and on
   per-row int8 activations for any other i8 type. */
#include <stdint.h>
#include <stdlib.h>

#include "model.h"
#include "pool.h"

/* Vocabulary rows per work item: about four per thread (long sequential streams, slack for a
   delayed thread; see feat_chunk in forward.c), at least 256. */
static int64_t vocab_chunk(int64_t V, int32_t nth) {
    int64_t c = V / (4 * (int64_t)nth);
    c = (c + 15) / 16 * 16;
    return c < 256 ? 256 : c;
}
#define HEAD_PF_ROWS 2

typedef struct {
    const aria_model *m;
    int32_t n;
    const float *xn;      /* (n, n_embd) normed rows (f32 path) */
    const int8_t *xq;     /* (n, n_embd) int8 rows (q8 / i8 paths) */
    const float *xd;      /* (n, n_embd / 32) block scales (q8 path) */
    const int32_t *xsum;  /* (n, n_embd / 128) group sums (i8 path) */
    const float *xs;      /* (n) row scales (i8 path) */
    float *out;           /* (n, n_vocab) */
    aria_counter counter;
} logits_ctx;

static void task_logits(void *p, int32_t ith, int32_t nth) {
    (void)ith, (void)nth;
    logits_ctx *c = p;
    const aria_matrix *w = &c->m->output;
    const int64_t E = c->m->hp.n_embd, V = c->m->hp.n_vocab;
    int64_t j0, j1;
    const int64_t chunk = vocab_chunk(V, nth);
    while (aria_counter_take(&c->counter, V, chunk, &j0, &j1)) {
        if (w->dot_f32) {
            aria_matmul_f32_rows(w, j0, j1, c->n, c->xn, c->out, V);
        } else if (w->gemm_q8) {
            w->gemm_q8(E, w->data + (uint64_t)j0 * w->row_bytes, w->row_bytes, (int32_t)(j1 - j0),
                       c->xq, c->xd, c->n, c->out + j0, V);
        } else if (w->dot_q8) {
            for (int64_t j = j0; j < j1; j++) {
                const uint8_t *row = w->data + (uint64_t)j * w->row_bytes;
                /* Prefetch a few rows ahead: the single-row dot does not, and hardware
                   prefetchers lag on some VMs (see tq2_0_x86.h). Never faults. */
                if (j + HEAD_PF_ROWS < j1) {
                    const char *next = (const char *)row + HEAD_PF_ROWS * w->row_bytes;
                    for (uint64_t o = 0; o < w->row_bytes; o += 64) __builtin_prefetch(next + o);
                }
                for (int32_t r = 0; r < c->n; r++)
                    c->out[r * V + j] = w->dot_q8(E, row, c->xq + r * E, c->xd + r * (E / 32));
            }
        } else {
            aria_matmul_i8_rows(w, j0, j1, c->n, c->xq, c->xsum, c->out, V);
            for (int32_t r = 0; r < c->n; r++)
                for (int64_t j = j0; j < j1; j++)
                    c->out[r * V + j] = c->out[r * V + j] / c->xs[r] * w->scale;
        }
        /* NaN bits differ by ISA and compiler (ops.h): one NaN for all. */
        for (int32_t r = 0; r < c->n; r++) aria_canonical_nans(c->out + r * V + j0, j1 - j0);
    }
}

int aria_logits_mt(const aria_model *m, aria_pool *pool, const float *hidden, int32_t n,
                   float *out) {
    if (!m || n < 0 || (n > 0 && (!hidden || !out))) return ARIA_E_INVALID_ARG;
    if (!m->has_head) return ARIA_E_NOT_LOADED;
    if (n == 0) return ARIA_OK;
    const int64_t E = m->hp.n_embd;
    if ((size_t)n > SIZE_MAX / 8 / sizeof(float) / (size_t)E) return ARIA_E_NOMEM;
    const size_t ne = (size_t)n * (size_t)E;
    /* One block: normed rows (n, E) f32, then int8 rows (n, E), block scales (n, E / 32),
       group sums (n, E / 128), row scales (n). */
    float *xn = malloc(ne * sizeof(float) + ne + (ne / 32 + 1) * sizeof(float) +
                       (ne / 128 + 1) * sizeof(int32_t) + (size_t)n * sizeof(float));
    if (!xn) return ARIA_E_NOMEM;
    float *xd = xn + ne;
    int32_t *xsum = (int32_t *)(xd + ne / 32 + 1);
    float *xs = (float *)(xsum + ne / 128 + 1);
    int8_t *xq = (int8_t *)(xs + n);
    logits_ctx c = {m, n, xn, xq, xd, xsum, xs, out, {0}};
    const aria_matrix *w = &m->output;
    for (int32_t r = 0; r < n; r++) {
        float *x = xn + r * E;
        aria_rmsnorm_v(m->vec, E, hidden + r * E, m->output_norm, m->hp.eps, x);
        if (w->dot_f32) continue;
        if (w->dot_q8) {
            aria_quantize_row_q8_act(E, x, xq + r * E, xd + r * (E / 32));
            if (w->x8) aria_q8_x8_order_act(E, xq + r * E);
        }
        else xs[r] = aria_quantize_row_i8_v(m->vec, E, x, xq + r * E, xsum + r * (E / 128));
    }
    aria_counter_init(&c.counter);
    aria_pool_run(pool, task_logits, &c);
    free(xn);
    return ARIA_OK;
}

int aria_logits(const aria_model *m, const float *hidden, int32_t n, float *out) {
    return aria_logits_mt(m, NULL, hidden, n, out);
}
