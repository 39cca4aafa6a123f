/* aria_shard_forward: the BitNet b1.58 block (docs/bitnet-format.md §1.2) on a batch of rows from
   several sequences, threaded by output feature.

   Each layer is a fixed series of pool dispatches; between two of them every thread has
   finished (fork-join), which is the only synchronisation needed:
     1. attn_norm + int8 quantization            (per row)
     2. q, k, v BitLinear + RoPE + cache write    (per head: head_dim output rows, all rows)
     3. attention                                 (per (row, KV head): its query heads together)
     4. attn_sub_norm + quantization              (per row)
     5. attn_output BitLinear + residual add      (per run of output features)
     6. ffn_norm + quantization                   (per row)
     7. gate, up BitLinear + act(gate) * up       (per run of output features)
     8. ffn_sub_norm + quantization               (per row)
     9. ffn_down BitLinear + residual add         (per run of output features)
   Every output element is produced by exactly one thread with the same kernels whatever the
   thread count, and a row's arithmetic never involves another row, so results are
   bit-identical for any n_threads, chunking and batch composition. */
#include <math.h>
#include <string.h>

#include "detmath.h"
#include "shard.h"

/* Output features per work item of the plain BitLinear ops: about four items per thread.
   Long runs of consecutive rows keep each thread's weight stream sequential (prefetchers,
   fewer cold starts: 2-thread decode 26.8 -> 32.5 tok/s going from 32 to 256 rows); four per
   thread leave slack for a thread the OS delays. Multiple of 16, at least 64. */
static int64_t feat_chunk(int64_t n_out, int32_t nth) {
    int64_t c = n_out / (4 * (int64_t)nth);
    c = (c + 15) / 16 * 16;
    return c < 64 ? 64 : c;
}

typedef struct {
    aria_shard *sh;
    const aria_model *m;
    const aria_layer *L;
    int64_t lc;                 /* cache layer */
    int32_t nr;                 /* rows in this chunk */
    const int32_t *seq, *pos;   /* [nr] */
    aria_counter counter;
    /* norm + quantize */
    const float *src;
    float *dst;
    const float *norm_w;
    int64_t n;
    /* residual BitLinear */
    const aria_matrix *w;
} fwd_ctx;

/* Per row: dst = rmsnorm(src; norm_w), then xq/xsum/xs = quantize(dst). */
static void task_norm_quant(void *p, int32_t ith, int32_t nth) {
    (void)ith, (void)nth;
    fwd_ctx *c = p;
    aria_shard *sh = c->sh;
    const aria_vec_ops *v = c->m->vec;
    const int64_t n = c->n, ns = n / 128;
    int64_t r0, r1;
    while (aria_counter_take(&c->counter, c->nr, 1, &r0, &r1)) {
        for (int64_t r = r0; r < r1; r++) {
            float *d = c->dst + r * n;
            /* No norm weights: a llama file's BitLinear input is quantized as it is. */
            if (c->norm_w) aria_rmsnorm_v(v, n, c->src + r * n, c->norm_w, c->m->hp.eps, d);
            else if (d != c->src + r * n) memcpy(d, c->src + r * n, (size_t)n * sizeof(float));
            sh->xs[r] = aria_quantize_row_i8_v(v, n, d, sh->xq + r * n, sh->xsum + r * ns);
        }
    }
}

/* y[r][j] = raw[r][j] / xs[r] * scale over columns [j0, j1) of rows of width ld. */
static void scale_rows(const aria_shard *sh, int32_t nr, float *y, int64_t ld, int64_t j0,
                       int64_t j1, float scale) {
    for (int32_t r = 0; r < nr; r++) {
        float *yr = y + r * ld;
        const float xs = sh->xs[r];
        for (int64_t j = j0; j < j1; j++) yr[j] = yr[j] / xs * scale;
    }
}

/* Items: query heads, then key heads, then value heads; each is head_dim output rows of one
   matrix for all rows of the chunk. Keys and values go to each row's sequence cache. */
static void task_qkv(void *p, int32_t ith, int32_t nth) {
    (void)ith, (void)nth;
    fwd_ctx *c = p;
    aria_shard *sh = c->sh;
    const aria_hparams *hp = &c->m->hp;
    const int64_t E = hp->n_embd, hd = hp->head_dim, KV = (int64_t)hp->n_head_kv * hd;
    const int64_t n_items = hp->n_head + 2 * (int64_t)hp->n_head_kv;
    void (*const rope)(float *, int32_t, int32_t, int32_t, const float *) =
        hp->rope_interleaved ? aria_rope_interleaved_cs : aria_rope_neox_cs;
    int64_t i0, i1;
    while (aria_counter_take(&c->counter, n_items, 1, &i0, &i1)) {
        const int64_t item = i0;
        const aria_matrix *w;
        float *y;
        int64_t ld, h;
        if (item < hp->n_head) {
            w = &c->L->wq, y = sh->q, ld = E, h = item;
        } else if (item < hp->n_head + hp->n_head_kv) {
            w = &c->L->wk, y = sh->kb, ld = KV, h = item - hp->n_head;
        } else {
            w = &c->L->wv, y = sh->vb, ld = KV, h = item - hp->n_head - hp->n_head_kv;
        }
        const int64_t j0 = h * hd, j1 = j0 + hd;
        aria_matmul_i8_rows(w, j0, j1, c->nr, sh->xq, sh->xsum, y, ld);
        scale_rows(sh, c->nr, y, ld, j0, j1, w->scale);
        if (y == sh->q) {
            for (int32_t r = 0; r < c->nr; r++)
                rope(y + r * ld + j0, 1, (int32_t)hd, hp->rope_dims,
                     sh->rope + (int64_t)r * hp->rope_dims);
            continue;
        }
        for (int32_t r = 0; r < c->nr; r++) {
            float *src = y + r * ld + j0;
            if (y == sh->kb)
                rope(src, 1, (int32_t)hd, hp->rope_dims, sh->rope + (int64_t)r * hp->rope_dims);
            const aria_seq_slot *s = &sh->seqs[c->seq[r]];
            uint16_t *cache = (y == sh->kb ? s->k : s->v) +
                              (c->lc * s->n_ctx + c->pos[r]) * KV + j0;
            c->m->vec->to_f16(hd, src, cache);
        }
    }
}

/* Items: (row, KV head). Causal GQA attention over the row's own sequence, positions [0, pos];
   all keys/values of the chunk are already cached (task_qkv). The kv_mul query heads that share
   a KV head are done together so each cached key and value row is read once for all of them:
   decode is memory-bound, and at 1024 positions the binary16 cache is 79 MB a token for 2B-4T
   (read 4 times over before). Splitting a group across threads for balance would read it again, which
   costs more than the imbalance of a decode step's few items. Every head still performs exactly
   its own dots, softmax and axpys in position order (the vec ops attn_scores / attn_mix, one
   call for all positions), so results do not change. */
static void task_attn(void *p, int32_t ith, int32_t nth) {
    (void)nth;
    fwd_ctx *c = p;
    aria_shard *sh = c->sh;
    const aria_hparams *hp = &c->m->hp;
    const aria_vec_ops *v = c->m->vec;
    const int32_t hd = hp->head_dim, kv_mul = hp->n_head / hp->n_head_kv;
    const int64_t E = hp->n_embd, KV = (int64_t)hp->n_head_kv * hd;
    const float scale = 1.0f / sqrtf((float)hd);
    /* this thread's att_len floats: kv_mul rows of `stride` scores (forward() reserves them) */
    const int64_t stride = sh->att_len / kv_mul;
    float *att = sh->att + (int64_t)ith * sh->att_len;
    int64_t i0, i1;
    while (aria_counter_take(&c->counter, (int64_t)c->nr * hp->n_head_kv, 1, &i0, &i1)) {
        const int32_t r = (int32_t)(i0 / hp->n_head_kv), g = (int32_t)(i0 % hp->n_head_kv);
        const int32_t h0 = g * kv_mul; /* the group's first query head */
        const aria_seq_slot *s = &sh->seqs[c->seq[r]];
        const int32_t pos = c->pos[r];
        const uint16_t *kc = s->k + c->lc * s->n_ctx * KV + (int64_t)g * hd;
        const uint16_t *vc = s->v + c->lc * s->n_ctx * KV + (int64_t)g * hd;
        const float *q0 = sh->q + r * E + (int64_t)h0 * hd;
        float *o0 = sh->xb + r * E + (int64_t)h0 * hd;
        v->attn_scores(hd, kv_mul, q0, kc, KV, pos + 1, scale, att, stride);
        for (int32_t h = 0; h < kv_mul; h++) aria_softmax_v(v, att + h * stride, (int64_t)pos + 1);
        memset(o0, 0, (size_t)kv_mul * hd * sizeof(float));
        v->attn_mix(hd, kv_mul, att, stride, vc, KV, pos + 1, o0);
    }
}

/* Items: feat_chunk() output features of c->w; x += W(xq) / xs * scale. */
static void task_residual(void *p, int32_t ith, int32_t nth) {
    (void)ith;
    fwd_ctx *c = p;
    aria_shard *sh = c->sh;
    const aria_matrix *w = c->w;
    const int64_t E = c->m->hp.n_embd;
    int64_t j0, j1;
    const int64_t chunk = feat_chunk(w->n_out, nth);
    while (aria_counter_take(&c->counter, w->n_out, chunk, &j0, &j1)) {
        aria_matmul_i8_rows(w, j0, j1, c->nr, sh->xq, sh->xsum, sh->xb2, E);
        for (int32_t r = 0; r < c->nr; r++) {
            float *x = sh->x + r * E;
            const float *y = sh->xb2 + r * E;
            const float xs = sh->xs[r];
            for (int64_t j = j0; j < j1; j++) x[j] += y[j] / xs * w->scale;
        }
    }
}


/* Items: feat_chunk() features of gate and up; hb = act(gate) * up. */
static void task_ffn_up(void *p, int32_t ith, int32_t nth) {
    (void)ith;
    fwd_ctx *c = p;
    aria_shard *sh = c->sh;
    const aria_layer *L = c->L;
    const int64_t F = c->m->hp.n_ff;
    const int32_t act = c->m->hp.act;
    int64_t j0, j1;
    const int64_t chunk = feat_chunk(F, nth);
    while (aria_counter_take(&c->counter, F, chunk, &j0, &j1)) {
        aria_matmul_i8_rows(&L->gate, j0, j1, c->nr, sh->xq, sh->xsum, sh->hb, F);
        aria_matmul_i8_rows(&L->up, j0, j1, c->nr, sh->xq, sh->xsum, sh->hb2, F);
        const float sg = L->gate.scale, su = L->up.scale;
        for (int32_t r = 0; r < c->nr; r++) {
            float *g = sh->hb + r * F;
            const float *u = sh->hb2 + r * F;
            const float xs = sh->xs[r];
            if (act == ARIA_ACT_RELU2) {
                /* relu(g)^2 * u. relu as a bit mask, not a branch (the sign of g is random):
                   exactly gj > 0 ? gj : +0, NaN -> +0. */
                for (int64_t j = j0; j < j1; j++) {
                    const float gj = g[j] / xs * sg, uj = u[j] / xs * su;
                    uint32_t bits;
                    memcpy(&bits, &gj, sizeof bits);
                    bits &= 0u - (uint32_t)(gj > 0.0f);
                    float rj;
                    memcpy(&rj, &bits, sizeof rj);
                    g[j] = rj * rj * uj;
                }
            } else { /* SiLU: g * sigmoid(g) * u */
                for (int64_t j = j0; j < j1; j++) {
                    const float gj = g[j] / xs * sg, uj = u[j] / xs * su;
                    g[j] = gj / (1.0f + aria_expf(-gj)) * uj; /* detmath.h */
                }
            }
        }
    }
}

static void run(aria_pool *pool, aria_task_fn fn, fwd_ctx *c) {
    aria_counter_init(&c->counter);
    aria_pool_run(pool, fn, c);
}

static void norm_quant(aria_pool *pool, fwd_ctx *c, const float *src, float *dst,
                       const float *w, int64_t n) {
    c->src = src, c->dst = dst, c->norm_w = w, c->n = n;
    run(pool, task_norm_quant, c);
}

static void layer_forward(aria_shard *sh, aria_pool *pool, fwd_ctx *c, int32_t il) {
    const aria_hparams *hp = &sh->model->hp;
    const aria_layer *L = &sh->model->layers[il];
    const int64_t E = hp->n_embd, F = hp->n_ff;
    c->L = L;
    c->lc = il - sh->layer_begin;
    norm_quant(pool, c, sh->x, sh->xb, L->attn_norm, E);
    run(pool, task_qkv, c);
    run(pool, task_attn, c);
    norm_quant(pool, c, sh->xb, sh->xb, L->attn_sub_norm, E);
    c->w = &L->wo;
    run(pool, task_residual, c);
    norm_quant(pool, c, sh->x, sh->xb, L->ffn_norm, E);
    run(pool, task_ffn_up, c);
    norm_quant(pool, c, sh->hb, sh->hb, L->ffn_sub_norm, F);
    c->w = &L->down;
    run(pool, task_residual, c);
}

/* Checks rows, reserves scratch and runs the chunks. Rows are (seq[r], pos[r]) when seq is
   non-NULL, else (seq0, pos0 + r). */
static int forward(aria_shard *sh, aria_pool *pool, int32_t n, const int32_t *seq,
                   const int32_t *pos, int32_t seq0, int32_t pos0, const float *in, float *out) {
    if (!sh || n < 0 || (n > 0 && (!in || !out))) return ARIA_E_INVALID_ARG;
    if (n == 0) return ARIA_OK;
    /* Validate every row before touching anything; next_pos is restored to -1 on return. */
    int st = ARIA_OK;
    int32_t att_len = 0, r = 0;
    for (; r < n; r++) {
        const int32_t s = seq ? seq[r] : seq0, p = seq ? pos[r] : pos0 + r;
        if (s < 0 || s >= sh->n_seq_max || !sh->seqs[s].open) {
            st = ARIA_E_INVALID_ARG;
            break;
        }
        const aria_seq_slot *slot = &sh->seqs[s];
        if (sh->next_pos[s] < 0) {
            if (p < 0 || p > slot->n_past) {
                st = ARIA_E_RANGE;
                break;
            }
        } else if (p != sh->next_pos[s]) {
            st = ARIA_E_INVALID_ARG;
            break;
        }
        if (p >= slot->n_ctx) {
            st = ARIA_E_RANGE;
            break;
        }
        sh->next_pos[s] = p + 1;
        if (p + 1 > att_len) att_len = p + 1;
    }
    const int32_t n_checked = r < n ? r + 1 : n;
    /* task_attn keeps the scores of a KV head's kv_mul query heads at once; a context and head
       count whose product does not fit the scratch's int32 length cannot be served. */
    const int64_t att_need = (int64_t)att_len * (sh->model->hp.n_head / sh->model->hp.n_head_kv);
    if (!st && att_need > INT32_MAX) st = ARIA_E_NOMEM;
    if (!st)
        st = aria_shard_reserve(sh, n < ARIA_CHUNK ? n : ARIA_CHUNK, aria_pool_nth(pool), (int32_t)att_need);
    if (st) {
        for (int32_t k = 0; k < n_checked; k++) {
            const int32_t s = seq ? seq[k] : seq0;
            if (s >= 0 && s < sh->n_seq_max) sh->next_pos[s] = -1;
        }
        return st;
    }

    const aria_model *m = sh->model;
    const aria_hparams *hp = &m->hp;
    const int64_t E = hp->n_embd;
    int32_t cseq[ARIA_CHUNK], cpos[ARIA_CHUNK];
    fwd_ctx c;
    memset(&c, 0, sizeof c);
    c.sh = sh, c.m = m, c.seq = cseq, c.pos = cpos;
    for (int32_t r0 = 0; r0 < n; r0 += ARIA_CHUNK) {
        const int32_t nr = n - r0 < ARIA_CHUNK ? n - r0 : ARIA_CHUNK;
        c.nr = nr;
        for (int32_t k = 0; k < nr; k++) {
            cseq[k] = seq ? seq[r0 + k] : seq0;
            cpos[k] = seq ? pos[r0 + k] : pos0 + r0 + k;
            aria_rope_cs(hp->rope_dims, m->rope_inv_freq, cpos[k],
                         sh->rope + (int64_t)k * hp->rope_dims);
        }
        /* The chunk's rows are copied in before any are written out, so in == out is safe. */
        memcpy(sh->x, in + r0 * E, (size_t)nr * (size_t)E * sizeof(float));
        for (int32_t il = sh->layer_begin; il < sh->layer_end; il++) layer_forward(sh, pool, &c, il);
        aria_canonical_nans(sh->x, (int64_t)nr * E); /* NaN bits differ by ISA (ops.h) */
        memcpy(out + r0 * E, sh->x, (size_t)nr * (size_t)E * sizeof(float));
    }
    for (int32_t k = 0; k < n; k++) {
        const int32_t s = seq ? seq[k] : seq0;
        if (sh->next_pos[s] >= 0) {
            sh->seqs[s].n_past = sh->next_pos[s];
            sh->next_pos[s] = -1;
        }
    }
    return ARIA_OK;
}

int aria_shard_forward(aria_shard *sh, aria_pool *pool, int32_t n, const int32_t *seq,
                       const int32_t *pos, const float *in, float *out) {
    if (n > 0 && (!seq || !pos)) return ARIA_E_INVALID_ARG;
    return forward(sh, pool, n, seq, pos, 0, 0, in, out);
}

int aria_shard_forward_seq(aria_shard *sh, aria_pool *pool, int32_t seq, int32_t n, int32_t pos0,
                           const float *in, float *out) {
    return forward(sh, pool, n, NULL, NULL, seq, pos0, in, out);
}
