/* aria_session_forward: the BitNet b1.58 block (SPEC-bitnet.md §1.2), llama2.c style.
   Rows of a chunk go through each layer together so every weight row is read once per chunk;
   each row still sees exactly the ops it would see alone, so results do not depend on chunking. */
#include <math.h>
#include <string.h>

#include "session.h"

/* y[r] = rmsnorm(x[r]; w) for nr rows of n values; y may alias x. */
static void rmsnorm_rows(int32_t nr, int64_t n, const float *x, const float *w, float eps,
                         float *y) {
    for (int32_t r = 0; r < nr; r++) aria_rmsnorm(n, x + r * n, w, eps, y + r * n);
}

/* Quantize nr rows of n activations: x (nr, n) -> xq (nr, n), xs (nr). */
static void quantize_rows(int32_t nr, int64_t n, const float *x, int8_t *xq, float *xs) {
    for (int32_t r = 0; r < nr; r++) xs[r] = aria_quantize_row_i8(n, x + r * n, xq + r * n);
}

static void add_rows(int64_t n, float *x, const float *y) {
    for (int64_t i = 0; i < n; i++) x[i] += y[i];
}

/* Causal GQA attention of one query row at position pos over cache positions [0, pos].
   q: (n_embd), kc, vc: (n_ctx, kv_dim) of this layer, out: (n_embd). */
static void attention_row(const aria_session *s, const float *q, const float *kc, const float *vc,
                          int32_t pos, float *out) {
    const aria_hparams *hp = &s->model->hp;
    const int32_t hd = hp->head_dim, kv_mul = hp->n_head / hp->n_head_kv;
    const int64_t kv_dim = (int64_t)hp->n_head_kv * hd;
    const float scale = 1.0f / sqrtf((float)hd);
    float *att = s->att; /* (pos + 1) */
    for (int32_t h = 0; h < hp->n_head; h++) {
        const float *qh = q + (int64_t)h * hd;
        const int64_t kv_off = (int64_t)(h / kv_mul) * hd; /* HF repeat_kv: heads grouped */
        for (int32_t t = 0; t <= pos; t++) {
            const float *k = kc + t * kv_dim + kv_off;
            float dot = 0.0f;
            for (int32_t i = 0; i < hd; i++) dot += qh[i] * k[i];
            att[t] = dot * scale;
        }
        aria_softmax(att, (int64_t)pos + 1);
        float *oh = out + (int64_t)h * hd;
        memset(oh, 0, (size_t)hd * sizeof(float));
        for (int32_t t = 0; t <= pos; t++) {
            const float *v = vc + t * kv_dim + kv_off;
            const float a = att[t];
            for (int32_t i = 0; i < hd; i++) oh[i] += a * v[i];
        }
    }
}

static float ffn_act(int32_t act, float g, float u) {
    if (act == ARIA_ACT_RELU2) {
        const float r = g > 0.0f ? g : 0.0f;
        return r * r * u;
    }
    return g / (1.0f + expf(-g)) * u; /* SiLU */
}

/* One layer (model index il) on the session's nr rows at positions pos .. pos+nr-1.
   Reads and writes s->x (nr, n_embd). */
static void layer_forward(aria_session *s, int32_t il, int32_t pos, int32_t nr) {
    const aria_model *m = s->model;
    const aria_hparams *hp = &m->hp;
    const aria_layer *L = &m->layers[il];
    const int64_t E = hp->n_embd, F = hp->n_ff, kv_dim = (int64_t)hp->n_head_kv * hp->head_dim;
    const int64_t lc = il - s->layer_begin;
    float *kc = s->key_cache + lc * s->n_ctx * kv_dim;   /* (n_ctx, kv_dim) */
    float *vc = s->value_cache + lc * s->n_ctx * kv_dim; /* (n_ctx, kv_dim) */
    float *k_new = kc + (int64_t)pos * kv_dim;           /* (nr, kv_dim) rows being written */
    float *v_new = vc + (int64_t)pos * kv_dim;

    /* Attention: x += o_proj(sub_norm(attn(rope(q), rope(k), v))), q/k/v from attn_norm(x). */
    rmsnorm_rows(nr, E, s->x, L->attn_norm, hp->eps, s->xb);
    quantize_rows(nr, E, s->xb, s->xq, s->xs);
    aria_matmul_i8(&L->wq, nr, s->xq, s->xs, s->q);
    aria_matmul_i8(&L->wk, nr, s->xq, s->xs, k_new);
    aria_matmul_i8(&L->wv, nr, s->xq, s->xs, v_new);
    for (int32_t r = 0; r < nr; r++) {
        aria_rope_neox(s->q + r * E, hp->n_head, hp->head_dim, hp->rope_dims, m->rope_inv_freq,
                       pos + r);
        aria_rope_neox(k_new + r * kv_dim, hp->n_head_kv, hp->head_dim, hp->rope_dims,
                       m->rope_inv_freq, pos + r);
    }
    /* All nr keys are cached before any row attends; row r reads positions <= pos + r only. */
    for (int32_t r = 0; r < nr; r++) attention_row(s, s->q + r * E, kc, vc, pos + r, s->xb + r * E);
    rmsnorm_rows(nr, E, s->xb, L->attn_sub_norm, hp->eps, s->xb);
    quantize_rows(nr, E, s->xb, s->xq, s->xs);
    aria_matmul_i8(&L->wo, nr, s->xq, s->xs, s->xb2);
    add_rows(nr * E, s->x, s->xb2);

    /* FFN: x += down(sub_norm(act(gate(f)) * up(f))), f = ffn_norm(x). */
    rmsnorm_rows(nr, E, s->x, L->ffn_norm, hp->eps, s->xb);
    quantize_rows(nr, E, s->xb, s->xq, s->xs);
    aria_matmul_i8(&L->gate, nr, s->xq, s->xs, s->hb);
    aria_matmul_i8(&L->up, nr, s->xq, s->xs, s->hb2);
    for (int64_t i = 0; i < nr * F; i++) s->hb[i] = ffn_act(hp->act, s->hb[i], s->hb2[i]);
    rmsnorm_rows(nr, F, s->hb, L->ffn_sub_norm, hp->eps, s->hb);
    quantize_rows(nr, F, s->hb, s->xq, s->xs);
    aria_matmul_i8(&L->down, nr, s->xq, s->xs, s->xb2);
    add_rows(nr * E, s->x, s->xb2);
}

int aria_session_forward(aria_session *s, const float *in, int32_t n, int32_t pos0, float *out) {
    if (!s || n < 0 || (n > 0 && (!in || !out))) return ARIA_E_INVALID_ARG;
    if (pos0 < 0 || pos0 > s->n_past || (int64_t)pos0 + n > s->n_ctx) return ARIA_E_RANGE;
    const int64_t E = s->model->hp.n_embd;
    for (int32_t r0 = 0; r0 < n; r0 += s->n_batch) {
        const int32_t nr = n - r0 < s->n_batch ? n - r0 : s->n_batch;
        /* A chunk's rows are copied in before any are written out, so in == out is safe. */
        memcpy(s->x, in + r0 * E, (size_t)(nr * E) * sizeof(float));
        for (int32_t il = s->layer_begin; il < s->layer_end; il++)
            layer_forward(s, il, pos0 + r0, nr);
        memcpy(out + r0 * E, s->x, (size_t)(nr * E) * sizeof(float));
    }
    s->n_past = pos0 + n;
    return ARIA_OK;
}
