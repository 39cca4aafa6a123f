/* aria_model_load: GGUF container -> validated hyperparameters -> tensors bound by role. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "detmath.h"
#include "error.h"
#include "gguf.h"
#include "model.h"

typedef long long ll;

/* Loader state for one aria_model_load call. */
typedef struct {
    aria_model *m;
    const gguf_file *g;
    const char *arch; /* general.architecture */
    bool *used;       /* [g->n_tensors]: bound to a role */
    char *err;
    size_t err_len;
} loader;

/* ---- metadata ---------------------------------------------------------------------------- */

static bool kv_as_int(const gguf_kv *kv, int64_t *v) {
    const uint8_t *p = kv->data;
    switch (kv->type) {
    case GGUF_TYPE_UINT8: *v = p[0]; return true;
    case GGUF_TYPE_INT8: *v = (int8_t)p[0]; return true;
    case GGUF_TYPE_UINT16: { uint16_t x; memcpy(&x, p, 2); *v = x; return true; }
    case GGUF_TYPE_INT16: { int16_t x; memcpy(&x, p, 2); *v = x; return true; }
    case GGUF_TYPE_UINT32: { uint32_t x; memcpy(&x, p, 4); *v = x; return true; }
    case GGUF_TYPE_INT32: { int32_t x; memcpy(&x, p, 4); *v = x; return true; }
    case GGUF_TYPE_UINT64: {
        uint64_t x;
        memcpy(&x, p, 8);
        *v = x > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)x; /* clamped: fails any range */
        return true;
    }
    case GGUF_TYPE_INT64: { int64_t x; memcpy(&x, p, 8); *v = x; return true; }
    default: return false;
    }
}

/* Integer hyperparameter <arch>.<suffix> in [lo, hi]; any integer value type is accepted
   (docs/bitnet-format.md §2.3: converters write u32 or u64). def < 0 means required. */
static int hp_int(loader *L, const char *suffix, int64_t def, int64_t lo, int64_t hi,
                  int32_t *out) {
    char key[160];
    snprintf(key, sizeof key, "%s.%s", L->arch, suffix);
    const gguf_kv *kv = gguf_find_kv(L->g, key);
    int64_t v = def;
    if (!kv) {
        if (def < 0)
            return aria_fail(L->err, L->err_len, ARIA_E_BAD_METADATA, "missing required KV '%s'",
                             key);
    } else if (!kv_as_int(kv, &v)) {
        return aria_fail(L->err, L->err_len, ARIA_E_BAD_METADATA,
                         "KV '%s' has type %s, expected an integer", key,
                         gguf_value_type_name(kv->type));
    }
    if (v < lo || v > hi)
        return aria_fail(L->err, L->err_len, ARIA_E_BAD_METADATA,
                         "KV '%s' = %lld is out of range [%lld, %lld]", key, (ll)v, (ll)lo, (ll)hi);
    *out = (int32_t)v;
    return ARIA_OK;
}

/* Float hyperparameter (f32 or f64), finite and in (0, hi]. required when def is NAN. */
static int hp_float(loader *L, const char *suffix, float def, float hi, float *out) {
    char key[160];
    snprintf(key, sizeof key, "%s.%s", L->arch, suffix);
    const gguf_kv *kv = gguf_find_kv(L->g, key);
    float v = def;
    if (!kv) {
        if (isnan(def))
            return aria_fail(L->err, L->err_len, ARIA_E_BAD_METADATA, "missing required KV '%s'",
                             key);
    } else if (kv->type == GGUF_TYPE_FLOAT32) {
        memcpy(&v, kv->data, 4);
    } else if (kv->type == GGUF_TYPE_FLOAT64) {
        double d;
        memcpy(&d, kv->data, 8);
        v = (float)d;
    } else {
        return aria_fail(L->err, L->err_len, ARIA_E_BAD_METADATA,
                         "KV '%s' has type %s, expected f32", key, gguf_value_type_name(kv->type));
    }
    if (!isfinite(v) || !(v > 0.0f) || v > hi)
        return aria_fail(L->err, L->err_len, ARIA_E_BAD_METADATA,
                         "KV '%s' = %g must be finite and in (0, %g]", key, (double)v, (double)hi);
    *out = v;
    return ARIA_OK;
}

static bool str_eq(gguf_str s, const char *lit) {
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.ptr, lit, n) == 0;
}

/* RoPE scaling: only none, or linear with factor 1 (what the 'bitnet' converter writes). */
static int check_rope_scaling(loader *L) {
    char key[160];
    snprintf(key, sizeof key, "%s.rope.scaling.type", L->arch);
    const gguf_kv *kv = gguf_find_kv(L->g, key);
    if (!kv) return ARIA_OK;
    if (kv->type != GGUF_TYPE_STRING)
        return aria_fail(L->err, L->err_len, ARIA_E_BAD_METADATA,
                         "KV '%s' has type %s, expected string", key,
                         gguf_value_type_name(kv->type));
    gguf_str s = gguf_kv_str(kv);
    if (str_eq(s, "none")) return ARIA_OK;
    char ps[ARIA_NAME_BUF];
    if (!str_eq(s, "linear"))
        return aria_fail(L->err, L->err_len, ARIA_E_UNSUPPORTED,
                         "RoPE scaling '%s' is not supported", aria_printable(ps, s.ptr, s.len));
    float factor = 1.0f;
    int st = hp_float(L, "rope.scaling.factor", 1.0f, 1e6f, &factor);
    if (st || factor == 1.0f) return st;
    return aria_fail(L->err, L->err_len, ARIA_E_UNSUPPORTED,
                     "linear RoPE scaling with factor %g is not supported (only 1)",
                     (double)factor);
}

static int load_hparams(loader *L) {
    aria_hparams *hp = &L->m->hp;
    const gguf_kv *kv = gguf_find_kv(L->g, "general.architecture");
    if (!kv)
        return aria_fail(L->err, L->err_len, ARIA_E_BAD_METADATA,
                         "missing required KV 'general.architecture'");
    if (kv->type != GGUF_TYPE_STRING)
        return aria_fail(L->err, L->err_len, ARIA_E_BAD_METADATA,
                         "KV 'general.architecture' has type %s, expected string",
                         gguf_value_type_name(kv->type));
    gguf_str a = gguf_kv_str(kv);
    /* relu^2 for the 2B-4T archs regardless of what a fork's graph did
       (docs/bitnet-format.md §1.4). */
    static const struct {
        const char *name;
        int32_t arch, act;
    } archs[] = {
        {"bitnet-b1.58", ARIA_ARCH_BITNET_B158, ARIA_ACT_RELU2},
        {"bitnet-25", ARIA_ARCH_BITNET_25, ARIA_ACT_RELU2},
        {"bitnet", ARIA_ARCH_BITNET, ARIA_ACT_SILU},
        {"llama", ARIA_ARCH_LLAMA, ARIA_ACT_SILU},
    };
    for (size_t i = 0; i < sizeof archs / sizeof *archs; i++) {
        if (!str_eq(a, archs[i].name)) continue;
        L->arch = archs[i].name;
        hp->arch = archs[i].arch;
        hp->act = archs[i].act;
        /* llama.cpp's converters permute q/k into Meta's interleaved order for llama only. */
        hp->rope_interleaved = archs[i].arch == ARIA_ARCH_LLAMA;
    }
    if (hp->arch == 0) {
        char pa[ARIA_NAME_BUF];
        return aria_fail(L->err, L->err_len, ARIA_E_UNSUPPORTED,
                         "architecture '%s' is not supported (bitnet-b1.58, bitnet-25, bitnet, "
                         "llama with ternary weights)",
                         aria_printable(pa, a.ptr, a.len));
    }

    int st;
    if ((st = hp_int(L, "embedding_length", -1, 1, ARIA_MAX_EMBD, &hp->n_embd)) ||
        (st = hp_int(L, "block_count", -1, 1, ARIA_MAX_LAYER, &hp->n_layer)) ||
        (st = hp_int(L, "attention.head_count", -1, 1, ARIA_MAX_HEAD, &hp->n_head)) ||
        (st = hp_int(L, "attention.head_count_kv", hp->n_head, 1, hp->n_head, &hp->n_head_kv)) ||
        (st = hp_int(L, "feed_forward_length", -1, 1, ARIA_MAX_FF, &hp->n_ff)) ||
        (st = hp_int(L, "context_length", -1, 1, ARIA_MAX_CTX, &hp->n_ctx_train)) ||
        (st = hp_float(L, "attention.layer_norm_rms_epsilon", NAN, 1.0f, &hp->eps)) ||
        (st = hp_float(L, "rope.freq_base", 10000.0f, 1e12f, &hp->rope_base)))
        return st;

    if (hp->n_embd % hp->n_head != 0)
        return aria_fail(L->err, L->err_len, ARIA_E_BAD_METADATA,
                         "%s.embedding_length %d is not divisible by attention.head_count %d",
                         L->arch, hp->n_embd, hp->n_head);
    hp->head_dim = hp->n_embd / hp->n_head;
    if (hp->head_dim % 2 != 0)
        return aria_fail(L->err, L->err_len, ARIA_E_BAD_METADATA,
                         "head dimension %d (embedding_length / head_count) must be even for RoPE",
                         hp->head_dim);
    if (hp->n_head % hp->n_head_kv != 0)
        return aria_fail(L->err, L->err_len, ARIA_E_BAD_METADATA,
                         "%s.attention.head_count %d is not a multiple of head_count_kv %d",
                         L->arch, hp->n_head, hp->n_head_kv);
    int32_t key_len = 0, value_len = 0;
    if ((st = hp_int(L, "attention.key_length", hp->head_dim, 1, ARIA_MAX_EMBD, &key_len)) ||
        (st = hp_int(L, "attention.value_length", hp->head_dim, 1, ARIA_MAX_EMBD, &value_len)))
        return st;
    if (key_len != hp->head_dim || value_len != hp->head_dim)
        return aria_fail(L->err, L->err_len, ARIA_E_UNSUPPORTED,
                         "attention key/value length %d/%d differs from embedding_length / "
                         "head_count = %d",
                         key_len, value_len, hp->head_dim);
    if ((st = hp_int(L, "rope.dimension_count", hp->head_dim, 2, hp->head_dim, &hp->rope_dims)))
        return st;
    if (hp->rope_dims % 2 != 0)
        return aria_fail(L->err, L->err_len, ARIA_E_BAD_METADATA,
                         "%s.rope.dimension_count %d must be even", L->arch, hp->rope_dims);
    return check_rope_scaling(L);
}

/* ---- tensors ----------------------------------------------------------------------------- */

static const char *type_str(const loader *L, uint32_t type, char buf[32]) {
    const char *name = aria_type_name(type, L->g->fork_type_ids);
    snprintf(buf, 32, "%s (%u)", name ? name : "unknown", type);
    return buf;
}

/* Looks a tensor up and marks it used; *out = NULL if absent and optional. */
static int find(loader *L, const char *name, bool required, const gguf_tensor **out) {
    const gguf_tensor *t = gguf_find_tensor(L->g, name);
    *out = t;
    if (!t) {
        if (!required) return ARIA_OK;
        return aria_fail(L->err, L->err_len, ARIA_E_MISSING_TENSOR,
                         "missing tensor '%s' (required by architecture %s)", name, L->arch);
    }
    L->used[t - L->g->tensors] = true;
    return ARIA_OK;
}

/* Shape {ne0, ne1} (ne1 = 1 for vectors); trailing dims must be 1. */
static int check_shape(loader *L, const gguf_tensor *t, const char *name, int64_t ne0, int64_t ne1,
                       const char *role) {
    if (t->ne[0] == ne0 && t->ne[1] == ne1 && t->ne[2] == 1 && t->ne[3] == 1) return ARIA_OK;
    char shape[96];
    int n = snprintf(shape, sizeof shape, "{%lld", (ll)t->ne[0]);
    for (uint32_t d = 1; d < t->n_dims && n > 0 && (size_t)n < sizeof shape; d++)
        n += snprintf(shape + n, sizeof shape - (size_t)n, ", %lld", (ll)t->ne[d]);
    if (n > 0 && (size_t)n < sizeof shape) snprintf(shape + n, sizeof shape - (size_t)n, "}");
    char want[64];
    if (ne1 == 1) snprintf(want, sizeof want, "{%lld}", (ll)ne0);
    else snprintf(want, sizeof want, "{%lld, %lld}", (ll)ne0, (ll)ne1);
    return aria_fail(L->err, L->err_len, ARIA_E_BAD_TENSOR,
                     "tensor '%s' has shape %s, expected %s for %s", name, shape, want, role);
}

static bool is_float_type(uint32_t type) {
    return type == ARIA_TYPE_F32 || type == ARIA_TYPE_F16 || type == ARIA_TYPE_BF16;
}

/* Bytes of one row of t (ne0 elements). Not nbytes / rows: I2_S's tail belongs to no row. */
static uint64_t row_bytes_of(const loader *L, const gguf_tensor *t) {
    aria_type_traits tt;
    if (!aria_type_traits_get(t->type, L->g->fork_type_ids, &tt)) return 0; /* parse checked */
    return (uint64_t)t->ne[0] / tt.blck_size * tt.type_size;
}

/* A norm weight [n] (F32/F16/BF16), converted into the model's f32 copy dst[n]. */
static int bind_norm(loader *L, const char *name, int64_t n, float *dst) {
    const gguf_tensor *t;
    int st = find(L, name, true, &t);
    if (!st) st = check_shape(L, t, name, n, 1, "a norm weight");
    if (st) return st;
    if (!is_float_type(t->type)) {
        char tb[32];
        return aria_fail(L->err, L->err_len, ARIA_E_BAD_TENSOR,
                         "tensor '%s' has type %s; a norm weight must be F32, F16 or BF16", name,
                         type_str(L, t->type, tb));
    }
    aria_row_to_f32(t->type, t->data, dst, n);
    return ARIA_OK;
}

/* The embedding or output head [n_out][n_in]: F32/F16/BF16 (f32 activations) or Q8_0 (head:
   activations quantized per 32-block; embedding: rows dequantized). */
static int bind_float_matrix(loader *L, const gguf_tensor *t, const char *name, int64_t n_in,
                             int64_t n_out, aria_matrix *w) {
    int st = check_shape(L, t, name, n_in, n_out, "the embedding / output head");
    if (st) return st;
    aria_type_kernels k;
    if (!(is_float_type(t->type) || t->type == ARIA_TYPE_Q8_0) ||
        !aria_kernels_for(t->type, ARIA_TIER_REF, &k)) {
        char tb[32];
        return aria_fail(L->err, L->err_len, ARIA_E_UNSUPPORTED,
                         "tensor '%s' has type %s; supported here: F32, F16, BF16, Q8_0", name,
                         type_str(L, t->type, tb));
    }
    w->dot_f32 = k.dot_f32;
    w->dot_q8 = k.dot_q8;
    w->data = t->data;
    w->type = t->type;
    w->n_in = n_in;
    w->n_out = n_out;
    w->row_bytes = row_bytes_of(L, t);
    w->scale = 1.0f;
    w->d = 1.0f;
    return ARIA_OK;
}

/* BitLinear weight blk.<il>.<base>.weight [n_out][n_in], plus the optional 'bitnet'-arch
   per-tensor output scale blk.<il>.<base>.scale {1}. */
static int bind_bitlinear(loader *L, int il, const char *base, int64_t n_in, int64_t n_out,
                          aria_matrix *w) {
    char name[96];
    snprintf(name, sizeof name, "blk.%d.%s.weight", il, base);
    const gguf_tensor *t;
    int st = find(L, name, true, &t);
    if (!st) st = check_shape(L, t, name, n_in, n_out, "this BitLinear weight");
    if (st) return st;
    aria_type_kernels k;
    if (!aria_kernels_for(t->type, ARIA_TIER_REF, &k) || !k.dot_i8) {
        char tb[32];
        return aria_fail(L->err, L->err_len, ARIA_E_UNSUPPORTED,
                         "tensor '%s' has type %s, not supported for BitLinear weights (TQ2_0, "
                         "TQ1_0, I2_S, Q8_0, F32, F16, BF16)",
                         name, type_str(L, t->type, tb));
    }
    /* A llama file is a BitNet only when its BitLinear weights are ternary; a float or Q8_0
       llama is an ordinary model, which this engine would compute wrongly (int8 activations). */
    if (L->m->hp.arch == ARIA_ARCH_LLAMA && t->type != ARIA_TYPE_I2_S && t->type != ARIA_TYPE_TQ1_0 &&
        t->type != ARIA_TYPE_TQ2_0) {
        char tb[32];
        return aria_fail(L->err, L->err_len, ARIA_E_UNSUPPORTED,
                         "tensor '%s' has type %s: a llama-architecture file is served only with "
                         "ternary BitLinear weights (TQ2_0, TQ1_0, I2_S)",
                         name, type_str(L, t->type, tb));
    }
    w->dot_i8 = k.dot_i8;
    w->data = t->data;
    w->type = t->type;
    w->n_in = n_in;
    w->n_out = n_out;
    w->row_bytes = row_bytes_of(L, t);
    w->scale = 1.0f;
    w->d = 1.0f;
    /* One d in every block (a converted BitNet's per-tensor scale): the row-sum arithmetic
       (kernels.h), bound by aria_model_bind_kernels. Reads each block's d once. */
    if (t->type == ARIA_TYPE_TQ2_0)
        w->row_sum = aria_blocks_share_d(t->data, n_in * n_out / QK_K, sizeof(block_tq2_0),
                                         TQ2_0_D_OFFSET, &w->d);
    else if (t->type == ARIA_TYPE_TQ1_0)
        w->row_sum = aria_blocks_share_d(t->data, n_in * n_out / QK_K, sizeof(block_tq1_0),
                                         TQ1_0_D_OFFSET, &w->d);
    if (t->type == ARIA_TYPE_I2_S) { /* the scale in the tensor's tail (formats.h) */
        w->d = aria_i2_s_scale(t->data, n_in * n_out);
        if (!isfinite(w->d) || !(w->d > 0.0f))
            return aria_fail(L->err, L->err_len, ARIA_E_BAD_TENSOR,
                             "tensor '%s': I2_S scale %g must be finite and > 0", name,
                             (double)w->d);
    }

    if (L->m->hp.arch != ARIA_ARCH_BITNET) return ARIA_OK;
    snprintf(name, sizeof name, "blk.%d.%s.scale", il, base);
    if ((st = find(L, name, false, &t)) || !t) return st;
    if ((st = check_shape(L, t, name, 1, 1, "a per-tensor scale"))) return st;
    if (!is_float_type(t->type)) {
        char tb[32];
        return aria_fail(L->err, L->err_len, ARIA_E_BAD_TENSOR,
                         "tensor '%s' has type %s; a scale must be F32, F16 or BF16", name,
                         type_str(L, t->type, tb));
    }
    aria_row_to_f32(t->type, t->data, &w->scale, 1);
    if (!isfinite(w->scale))
        return aria_fail(L->err, L->err_len, ARIA_E_BAD_TENSOR, "tensor '%s' holds %g", name,
                         (double)w->scale);
    return ARIA_OK;
}

static int bind_layer_norm(loader *L, int il, const char *base, int64_t n, float *dst) {
    char name[96];
    snprintf(name, sizeof name, "blk.%d.%s.weight", il, base);
    return bind_norm(L, name, n, dst);
}

/* Layer il's tensors, in the order they are used; norms go to norms[3 * n_embd + n_ff]. */
static int bind_layer(loader *L, int il, float *norms) {
    const aria_hparams *hp = &L->m->hp;
    aria_layer *ly = &L->m->layers[il];
    const int64_t E = hp->n_embd, F = hp->n_ff, KV = (int64_t)hp->n_head_kv * hp->head_dim;
    const bool sub_norms = hp->arch != ARIA_ARCH_LLAMA;
    ly->attn_norm = norms;
    ly->attn_sub_norm = sub_norms ? norms + E : NULL;
    ly->ffn_norm = norms + 2 * E;
    ly->ffn_sub_norm = sub_norms ? norms + 3 * E : NULL;
    int st;
    if ((st = bind_layer_norm(L, il, "attn_norm", E, ly->attn_norm)) ||
        (st = bind_bitlinear(L, il, "attn_q", E, E, &ly->wq)) ||
        (st = bind_bitlinear(L, il, "attn_k", E, KV, &ly->wk)) ||
        (st = bind_bitlinear(L, il, "attn_v", E, KV, &ly->wv)) ||
        (sub_norms && (st = bind_layer_norm(L, il, "attn_sub_norm", E, ly->attn_sub_norm))) ||
        (st = bind_bitlinear(L, il, "attn_output", E, E, &ly->wo)) ||
        (st = bind_layer_norm(L, il, "ffn_norm", E, ly->ffn_norm)) ||
        (st = bind_bitlinear(L, il, "ffn_gate", E, F, &ly->gate)) ||
        (st = bind_bitlinear(L, il, "ffn_up", E, F, &ly->up)) ||
        (sub_norms && (st = bind_layer_norm(L, il, "ffn_sub_norm", F, ly->ffn_sub_norm))) ||
        (st = bind_bitlinear(L, il, "ffn_down", F, E, &ly->down)))
        return st;
    return ARIA_OK;
}

static int64_t layer_of(const gguf_str *name);

/* Lets go of the file pages under layer il's tensors once bound: binding reads its norms and
   scales through the mapping, and a page-cache fault may map a whole large folio (up to 2 MB)
   around each few-byte read. What the range keeps was copied before. */
static void release_layer_pages(const loader *L, int il) {
    const gguf_file *g = L->g;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        if (layer_of(&t->name) == il)
            aria_map_release(&L->m->map, L->m->map.data + g->data_offset + t->offset, t->nbytes);
    }
}

static int bind_tensors(loader *L) {
    aria_model *m = L->m;
    aria_hparams *hp = &m->hp;
    const gguf_tensor *t;
    int st = find(L, "token_embd.weight", true, &t);
    if (st) return st;
    /* n_vocab comes from the tensor, as in llama.cpp (<arch>.vocab_size is advisory). */
    if (t->ne[1] > ARIA_MAX_VOCAB)
        return aria_fail(L->err, L->err_len, ARIA_E_BAD_TENSOR,
                         "tensor 'token_embd.weight' has %lld rows; at most %d tokens are allowed",
                         (ll)t->ne[1], ARIA_MAX_VOCAB);
    hp->n_vocab = (int32_t)t->ne[1];
    st = bind_float_matrix(L, t, "token_embd.weight", hp->n_embd, hp->n_vocab, &m->token_embd);
    if (st) return st;
    if ((st = find(L, "output.weight", false, &t))) return st;
    if (t) st = bind_float_matrix(L, t, "output.weight", hp->n_embd, hp->n_vocab, &m->output);
    else m->output = m->token_embd; /* tied head */
    if (st) return st;

    /* Norms are kept (as f32) for the loaded layers only; the others are still read once, into
       a scratch row, so every layer of the file is checked whatever the range. */
    const size_t per_layer = 3 * (size_t)hp->n_embd + (size_t)hp->n_ff;
    const int32_t held = m->layer_end - m->layer_begin;
    const size_t n_norm = (size_t)hp->n_embd + (size_t)held * per_layer;
    m->norms = malloc(n_norm * sizeof(float));
    m->layers = calloc((size_t)hp->n_layer, sizeof *m->layers);
    float *scratch = malloc(per_layer * sizeof(float));
    if (!m->norms || !m->layers || !scratch) {
        free(scratch);
        return aria_fail(L->err, L->err_len, ARIA_E_NOMEM, "out of memory for %d layers",
                         hp->n_layer);
    }
    m->heap_bytes += n_norm * sizeof(float) + (size_t)hp->n_layer * sizeof *m->layers;
    m->output_norm = m->norms;
    if ((st = bind_norm(L, "output_norm.weight", hp->n_embd, m->output_norm))) {
        free(scratch);
        return st;
    }
    for (int il = 0; il < hp->n_layer && !st; il++) {
        const bool loaded = il >= m->layer_begin && il < m->layer_end;
        st = bind_layer(L, il, loaded ? m->norms + hp->n_embd + (size_t)(il - m->layer_begin) * per_layer : scratch);
        if (!st) release_layer_pages(L, il);
    }
    free(scratch);
    if (st) return st;

    /* A tensor no role claimed means a model variant we would silently run wrong. */
    for (uint64_t i = 0; i < L->g->n_tensors; i++) {
        if (L->used[i]) continue;
        char pn[ARIA_NAME_BUF];
        const gguf_str *s = &L->g->tensors[i].name;
        return aria_fail(L->err, L->err_len, ARIA_E_UNSUPPORTED,
                         "tensor '%s' is not used by architecture %s (unsupported variant)",
                         aria_printable(pn, s->ptr, s->len), L->arch);
    }
    return ARIA_OK;
}

static int init_rope(aria_model *m, char *err, size_t err_len) {
    const int32_t half = m->hp.rope_dims / 2;
    m->rope_inv_freq = malloc((size_t)half * sizeof(float));
    if (!m->rope_inv_freq) return aria_fail(err, err_len, ARIA_E_NOMEM, "out of memory");
    m->heap_bytes += (size_t)half * sizeof(float);
    /* Computed in double and rounded once, with detmath.h's pow (not libm's: the same bits on
       every machine; rope_base is finite and > 0, checked when read). */
    for (int32_t i = 0; i < half; i++)
        m->rope_inv_freq[i] =
            (float)aria_pow_d((double)m->hp.rope_base, -2.0 * i / m->hp.rope_dims);
    return ARIA_OK;
}

/* ARIA_HEAD_Q8_0: a heap Q8_0 copy of a float output head (tied or not), quantized row by row
   by aria_quantize_row_q8_0_ref's rule (every tier writes the same bytes, so the copy is
   identical on every machine) and stored in the x8 layout (kernels.h), whose kernels need no
   reduction per block. A head that is already Q8_0, or whose rows are not whole 32-blocks, is
   kept as it is. The embedding keeps reading the file's rows. */
static int requantize_head(aria_model *m, char *err, size_t err_len) {
    aria_matrix *w = &m->output;
    aria_type_kernels k;
    if (!is_float_type(w->type) || w->n_in % QK8_0 != 0) return ARIA_OK;
    if (!aria_kernels_for(ARIA_KERNELS_Q8_0_X8, ARIA_TIER_REF, &k))
        return aria_fail(err, err_len, ARIA_E_UNSUPPORTED, "no Q8_0 head kernels");
    const uint64_t row_bytes = (uint64_t)(w->n_in / QK8_0) * sizeof(block_q8_0);
    /* n_in <= ARIA_MAX_EMBD and n_out <= ARIA_MAX_VOCAB: the product fits easily. */
    const uint64_t bytes = row_bytes * (uint64_t)w->n_out;
    /* huge pages: the head is streamed once per token (mapfile.h); free() releases it */
    uint8_t *q = bytes <= SIZE_MAX ? aria_malloc_huge((size_t)bytes) : NULL;
    float *row = malloc((size_t)w->n_in * sizeof *row); /* one head row as f32 */
    uint8_t *plain = malloc((size_t)row_bytes);        /* one row in the plain layout */
    if (!q || !row || !plain) {
        free(q);
        free(row);
        free(plain);
        return aria_fail(err, err_len, ARIA_E_NOMEM,
                         "out of memory for the Q8_0 output head (%llu bytes)",
                         (unsigned long long)bytes);
    }
    const aria_requant_f16_q8_0_fn f16_row = aria_requant_f16_q8_0_for(ARIA_TIER_BEST);
    /* Rows read from the file mapping (a last stage's tied head) are let go as they are done. */
    const int64_t release_every = 64;
    for (int64_t j = 0; j < w->n_out; j++) {
        const uint8_t *src = w->data + (uint64_t)j * w->row_bytes;
        if (j > 0 && j % release_every == 0) /* rows [j - release_every, j) are done */
            aria_map_release(&m->map, src - (uint64_t)release_every * w->row_bytes,
                             (uint64_t)release_every * w->row_bytes);
        if (w->type == ARIA_TYPE_F16) { /* the common case (2B-4T), with a SIMD tier */
            f16_row(src, plain, w->n_in);
        } else {
            aria_row_to_f32(w->type, src, row, w->n_in);
            aria_quantize_row_q8_0_ref(row, plain, w->n_in);
        }
        aria_q8_0_to_x8(plain, q + (uint64_t)j * row_bytes, w->n_in);
    }
    if (w->n_out > 0) {
        const int64_t j0 = (w->n_out - 1) / release_every * release_every;
        aria_map_release(&m->map, w->data + (uint64_t)j0 * w->row_bytes, (uint64_t)(w->n_out - j0) * w->row_bytes);
    }
    free(row);
    free(plain);
    m->head_q8 = q;
    m->heap_bytes += bytes;
    w->data = q;
    w->type = ARIA_TYPE_Q8_0;
    w->row_bytes = row_bytes;
    w->dot_f32 = NULL;
    w->dot_q8 = k.dot_q8;
    w->x8 = true;
    return ARIA_OK;
}

/* ---- public API -------------------------------------------------------------------------- */

int aria_model_load(const char *path, aria_model **out, char *err, size_t err_len) {
    return aria_model_load_ex(path, ARIA_HEAD_AS_IS, out, err, err_len);
}

/* The layer a tensor belongs to ("blk.<il>.…"), or -1. */
static int64_t layer_of(const gguf_str *name) {
    if (name->len < 5 || memcmp(name->ptr, "blk.", 4) != 0) return -1;
    int64_t il = 0;
    size_t i = 4;
    for (; i < name->len && name->ptr[i] >= '0' && name->ptr[i] <= '9' && il < ARIA_MAX_LAYER; i++)
        il = il * 10 + (name->ptr[i] - '0');
    return i > 4 && i < name->len && name->ptr[i] == '.' ? il : -1;
}

static bool named(const gguf_str *name, const char *s) {
    return name->len == strlen(s) && memcmp(name->ptr, s, name->len) == 0;
}

/* Whether the loaded range needs a tensor's bytes: its layers', the embedding on the first stage
   (and for a tied head kept as it is on the last: a head requantized to Q8_0 is read from the
   file once and needs no copy), the head on the last. Norms are never copied: binding converts
   them into the model's f32 norm array while the file is still mapped. */
static bool tensor_needed(const aria_model *m, const gguf_tensor *t, bool tied, int32_t head_type) {
    static const char norm_suffix[] = "norm.weight";
    const size_t ns = sizeof norm_suffix - 1;
    if (t->name.len >= ns && memcmp(t->name.ptr + t->name.len - ns, norm_suffix, ns) == 0) return false;
    const int64_t il = layer_of(&t->name);
    if (il >= 0) return il >= m->layer_begin && il < m->layer_end;
    /* requantize_head's condition: then the head becomes its own Q8_0 copy, read once from the
       file, and the float original is not kept (1 GB of F16 for an 8B model's untied head). */
    const bool requantized = head_type == ARIA_HEAD_Q8_0 && is_float_type(t->type) && t->ne[0] % QK8_0 == 0;
    if (named(&t->name, "token_embd.weight")) return m->has_embd || (tied && m->has_head && !requantized);
    if (named(&t->name, "output.weight")) return m->has_head && !requantized;
    return true;
}

/* Copy the tensors the range needs into one huge-page buffer and point them there, so the file
   mapping can go: memory then holds only the range's weights. false when the buffer cannot be
   had (the tensors stay in the mapping). */
static bool copy_needed_tensors(aria_model *m, gguf_file *g, int32_t head_type) {
    const bool tied = gguf_find_tensor(g, "output.weight") == NULL;
    uint64_t total = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (tensor_needed(m, &g->tensors[i], tied, head_type)) total += (g->tensors[i].nbytes + 63) / 64 * 64;
    if (total == 0 || total > SIZE_MAX) return total == 0;
    uint8_t *buf = aria_malloc_huge((size_t)total);
    if (!buf) return false;
    uint64_t at = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        gguf_tensor *t = &g->tensors[i];
        if (!tensor_needed(m, t, tied, head_type)) continue;
        /* Read from the file, not through the mapping: a 656 MB embedding must not be resident
           twice at the peak (and the page cache may map large folios around every touch). */
        aria_map_read(&m->map, t->data, t->nbytes, buf + at);
        t->data = buf + at;
        at += (t->nbytes + 63) / 64 * 64;
    }
    m->weights = buf;
    m->heap_bytes += total;
    return true;
}

/* After binding: forget what the range does not hold (its pointers would dangle once unmapped). */
static void drop_unloaded(aria_model *m) {
    for (int32_t il = 0; il < m->hp.n_layer; il++)
        if (il < m->layer_begin || il >= m->layer_end) memset(&m->layers[il], 0, sizeof m->layers[il]);
    const bool tied = m->output.data == m->token_embd.data;
    if (!m->has_head) memset(&m->output, 0, sizeof m->output);
    if (!m->has_embd) memset(&m->token_embd, 0, sizeof m->token_embd);
    (void)tied;
}

/* The one loading road: the whole model, or layers [layer_begin, layer_end) (layer_end -1: to the
   last layer) with the embedding only when layer_begin is 0 and the final norm and head only when
   the range ends at the last layer. */
static int load(const char *path, int32_t head_type, int32_t layer_begin, int32_t layer_end, aria_model **out,
                char *err, size_t err_len) {
    if (out) *out = NULL;
    if (!path || !out)
        return aria_fail(err, err_len, ARIA_E_INVALID_ARG, "path and out must not be NULL");
    if (head_type != ARIA_HEAD_AS_IS && head_type != ARIA_HEAD_Q8_0)
        return aria_fail(err, err_len, ARIA_E_INVALID_ARG,
                         "head_type %d is not ARIA_HEAD_AS_IS (0) or ARIA_HEAD_Q8_0 (1)",
                         (int)head_type);
    aria_model *m = calloc(1, sizeof *m);
    if (!m) return aria_fail(err, err_len, ARIA_E_NOMEM, "out of memory");
    m->heap_bytes = sizeof *m;

    gguf_file g;
    memset(&g, 0, sizeof g);
    loader L = {m, &g, "", NULL, err, err_len};
    int st = aria_map_open_lazy(path, &m->map, err, err_len);
    if (!st) st = gguf_parse(&g, m->map.data, m->map.size, err, err_len);
    if (!st) st = load_hparams(&L);
    if (!st) {
        const int32_t n = m->hp.n_layer;
        if (layer_end == -1) layer_end = n;
        if (layer_begin < 0 || layer_begin >= layer_end || layer_end > n)
            st = aria_fail(err, err_len, ARIA_E_INVALID_ARG, "layer range [%d, %d) is not a non-empty part of [0, %d)",
                           layer_begin, layer_end, n);
        m->layer_begin = layer_begin;
        m->layer_end = layer_end;
        m->has_embd = layer_begin == 0;
        m->has_head = layer_end == n;
    }
    bool copied = false;
    if (!st) {
        /* The metadata has been read (a 128k-token vocabulary is megabytes of pages); what is
           still needed of the header (tensor names) is faulted in again when read. */
        aria_map_release(&m->map, m->map.data, g.data_offset);
        copied = copy_needed_tensors(m, &g, head_type);
        /* Without a buffer a whole-model load reads from the mapping; a part must not hold more. */
        if (!copied && !(m->has_embd && m->has_head))
            st = aria_fail(err, err_len, ARIA_E_NOMEM, "out of memory for layers %d-%d", layer_begin, layer_end - 1);
    }
    if (!st) {
        L.used = calloc((size_t)g.n_tensors + 1, sizeof *L.used);
        if (!L.used) st = aria_fail(err, err_len, ARIA_E_NOMEM, "out of memory");
    }
    if (!st) st = bind_tensors(&L);
    if (!st && head_type == ARIA_HEAD_Q8_0 && m->has_head) st = requantize_head(m, err, err_len);
    if (!st) st = init_rope(m, err, err_len);
    if (!st) drop_unloaded(m);
    if (!st && !aria_model_bind_kernels(m, 1)) /* 1 = ARIA_TIER_BEST (cpu.h) */
        st = aria_fail(err, err_len, ARIA_E_UNSUPPORTED, "no kernels for a tensor type");
    free(L.used);
    gguf_release(&g);
    /* Every pointer still needed is into the copies (or the heap): the file can go. */
    if (!st && copied) aria_map_close(&m->map);
    if (st) {
        aria_model_free(m);
        return st;
    }
    aria_err_clear(err, err_len);
    *out = m;
    return ARIA_OK;
}

int aria_model_load_ex(const char *path, int32_t head_type, aria_model **out, char *err,
                       size_t err_len) {
    return load(path, head_type, 0, -1, out, err, err_len);
}

int aria_model_load_range(const char *path, int32_t head_type, int32_t layer_begin, int32_t layer_end,
                          aria_model **out, char *err, size_t err_len) {
    return load(path, head_type, layer_begin, layer_end, out, err, err_len);
}

void aria_model_free(aria_model *model) {
    if (!model) return;
    aria_map_close(&model->map);
    free(model->weights);
    free(model->norms);
    free(model->layers);
    free(model->rope_inv_freq);
    free(model->head_q8);
    free(model);
}

int aria_model_info(const aria_model *model, int32_t *out, int32_t n) {
    if (!model || n < 0 || (n > 0 && !out)) return ARIA_E_INVALID_ARG;
    const aria_hparams *hp = &model->hp;
    const int32_t v[ARIA_INFO_COUNT] = {
        [ARIA_INFO_N_VOCAB] = hp->n_vocab,         [ARIA_INFO_N_EMBD] = hp->n_embd,
        [ARIA_INFO_N_LAYER] = hp->n_layer,         [ARIA_INFO_N_HEAD] = hp->n_head,
        [ARIA_INFO_N_HEAD_KV] = hp->n_head_kv,     [ARIA_INFO_HEAD_DIM] = hp->head_dim,
        [ARIA_INFO_N_FF] = hp->n_ff,               [ARIA_INFO_N_CTX_TRAIN] = hp->n_ctx_train,
        [ARIA_INFO_ARCH] = hp->arch,               [ARIA_INFO_FFN_ACT] = hp->act,
    };
    for (int32_t i = 0; i < n && i < ARIA_INFO_COUNT; i++) out[i] = v[i];
    return ARIA_OK;
}

int aria_model_memory(const aria_model *model, uint64_t *mapped, uint64_t *allocated) {
    if (!model) return ARIA_E_INVALID_ARG;
    if (mapped) *mapped = model->map.size;
    if (allocated) *allocated = model->heap_bytes;
    return ARIA_OK;
}
