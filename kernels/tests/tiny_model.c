/* Tiny BitNet GGUF generator for the tests; see tiny_model.h. */
#include "tiny_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "gguf.h"
#include "kernels.h"

uint64_t tiny_rand(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [-1, 1). */
static float uniform(uint64_t *s) { return (float)((double)(tiny_rand(s) >> 11) / 4503599627370496.0 - 1.0); }

tiny_cfg tiny_default(void) {
    tiny_cfg c = {
        .arch = "bitnet-b1.58",
        .n_embd = 256, .n_layer = 3, .n_head = 4, .n_head_kv = 2, .n_ff = 512,
        .n_vocab = 97, .n_ctx = 96, .rope_dims = 64,
        .eps = 1e-5f, .rope_base = 10000.0f,
        .embd_type = ARIA_TYPE_F16, .linear_type = ARIA_TYPE_TQ2_0,
        .seed = 0x5eed,
    };
    return c;
}

/* Float values in the given float type (or Q8_0, n % 32 == 0); returns a malloc'd buffer. */
static void *encode_float(uint32_t type, const float *x, size_t n, size_t *len) {
    if (type == ARIA_TYPE_Q8_0) {
        *len = n / QK8_0 * sizeof(block_q8_0);
        uint8_t *q = malloc(*len);
        if (q) aria_quantize_row_q8_0_ref(x, q, (int64_t)n);
        return q;
    }
    size_t es = type == ARIA_TYPE_F32 ? 4 : 2;
    uint8_t *p = malloc(n * es);
    if (!p) return NULL;
    for (size_t i = 0; i < n; i++) {
        if (type == ARIA_TYPE_F32) {
            memcpy(p + 4 * i, &x[i], 4);
        } else {
            uint16_t h = type == ARIA_TYPE_F16 ? aria_fp32_to_fp16(x[i]) : aria_fp32_to_bf16(x[i]);
            memcpy(p + 2 * i, &h, 2);
        }
    }
    *len = n * es;
    return p;
}

static bool add_float(gw_file *f, const char *name, uint32_t n_dims, uint64_t ne0, uint64_t ne1,
                      uint32_t type, const float *x) {
    size_t len;
    void *data = encode_float(type, x, (size_t)(ne0 * ne1), &len);
    uint64_t ne[2] = {ne0, ne1};
    bool ok = data && gw_add_tensor(f, name, n_dims, ne, type, data, len);
    free(data);
    return ok;
}

/* A BitLinear weight [n_out][n_in]: ternary values times one per-tensor scale d (as in the
   builtin model), stored as TQ2_0, TQ1_0, I2_S (all three hold exactly these values), Q8_0 or
   floats; with row_scales, row r's values are times 1 + (r % 3) / 4 (exact in f16; I2_S, which
   has one scale, cannot hold them). */
static bool add_bitlinear(gw_file *f, const char *name, int n_in, int n_out, uint32_t type,
                          bool row_scales, uint64_t *rng) {
    size_t n = (size_t)n_in * (size_t)n_out;
    float *w = malloc(n * sizeof *w);
    if (!w) return false;
    /* d is exactly representable in f16 so TQ2_0 and float encodings hold the same values. */
    const float d = (float)(32 + tiny_rand(rng) % 32) / 1024.0f;
    for (size_t i = 0; i < n; i++) {
        const float row_d = row_scales ? d * (1.0f + 0.25f * (float)(i / (size_t)n_in % 3)) : d;
        w[i] = (float)((int)(tiny_rand(rng) % 3) - 1) * row_d;
    }
    bool ok;
    uint64_t ne[2] = {(uint64_t)n_in, (uint64_t)n_out};
    if (type == ARIA_TYPE_TQ2_0 || type == ARIA_TYPE_TQ1_0) {
        const size_t bs = type == ARIA_TYPE_TQ2_0 ? sizeof(block_tq2_0) : sizeof(block_tq1_0);
        size_t len = n / QK_K * bs;
        uint8_t *q = malloc(len);
        ok = q != NULL;
        if (ok) {
            const size_t row_bytes = (size_t)(n_in / QK_K) * bs;
            for (int r = 0; r < n_out; r++) {
                if (type == ARIA_TYPE_TQ2_0)
                    aria_quantize_row_tq2_0_ref(w + (size_t)r * n_in, q + (size_t)r * row_bytes, n_in);
                else
                    aria_quantize_row_tq1_0_ref(w + (size_t)r * n_in, q + (size_t)r * row_bytes, n_in);
            }
            ok = gw_add_tensor(f, name, 2, ne, type, q, len) != NULL;
        }
        free(q);
    } else if (type == ARIA_TYPE_I2_S) {
        size_t len = n / 4 + I2_S_TAIL_BYTES;
        uint8_t *q = malloc(len);
        ok = q != NULL;
        if (ok) {
            aria_quantize_i2_s_ref(w, q, (int64_t)n);
            ok = gw_add_tensor(f, name, 2, ne, type, q, len) != NULL;
        }
        free(q);
    } else {
        ok = add_float(f, name, 2, ne[0], ne[1], type, w);
    }
    free(w);
    return ok;
}

static void set_array_header(gw_buf *b, uint32_t elem, uint64_t n) {
    gw_u32(b, elem);
    gw_u64(b, n);
}

/* Tokenizer and miscellaneous KVs: every GGUF value type, including nested arrays. */
static void add_metadata(gw_file *f, const tiny_cfg *c) {
    char key[128];
    gw_set_str(f, "general.architecture", c->arch);
    gw_set_str(f, "general.name", "aria-test-tiny");
#define ARCH_KEY(suffix) (snprintf(key, sizeof key, "%s.%s", c->arch, suffix), key)
    gw_set_u32(f, ARCH_KEY("vocab_size"), (uint32_t)c->n_vocab);
    gw_set_u32(f, ARCH_KEY("context_length"), (uint32_t)c->n_ctx);
    gw_set_u32(f, ARCH_KEY("embedding_length"), (uint32_t)c->n_embd);
    gw_set_u32(f, ARCH_KEY("block_count"), (uint32_t)c->n_layer);
    gw_set_u32(f, ARCH_KEY("feed_forward_length"), (uint32_t)c->n_ff);
    gw_set_u32(f, ARCH_KEY("rope.dimension_count"), (uint32_t)c->rope_dims);
    gw_set_u32(f, ARCH_KEY("attention.head_count"), (uint32_t)c->n_head);
    gw_set_u32(f, ARCH_KEY("attention.head_count_kv"), (uint32_t)c->n_head_kv);
    gw_set_f32(f, ARCH_KEY("attention.layer_norm_rms_epsilon"), c->eps);
    gw_set_f32(f, ARCH_KEY("rope.freq_base"), c->rope_base);
#undef ARCH_KEY
    gw_set_u32(f, "general.file_type", 36);
    gw_set_u32(f, "general.quantization_version", 2);
    gw_set_str(f, "tokenizer.ggml.model", "gpt2");
    gw_set_str(f, "tokenizer.ggml.pre", "llama-bpe");

    gw_buf *b = &gw_set(f, "tokenizer.ggml.tokens", GGUF_TYPE_ARRAY)->value;
    set_array_header(b, GGUF_TYPE_STRING, (uint64_t)c->n_vocab);
    for (int i = 0; i < c->n_vocab; i++) {
        char tok[16];
        snprintf(tok, sizeof tok, "<%d>", i);
        gw_str(b, tok);
    }
    b = &gw_set(f, "tokenizer.ggml.token_type", GGUF_TYPE_ARRAY)->value;
    set_array_header(b, GGUF_TYPE_INT32, (uint64_t)c->n_vocab);
    for (int i = 0; i < c->n_vocab; i++) gw_u32(b, i < 5 ? 3 : 1);
    b = &gw_set(f, "tokenizer.ggml.scores", GGUF_TYPE_ARRAY)->value;
    set_array_header(b, GGUF_TYPE_FLOAT32, (uint64_t)c->n_vocab);
    for (int i = 0; i < c->n_vocab; i++) gw_f32(b, 0.0f);
    b = &gw_set(f, "tokenizer.ggml.merges", GGUF_TYPE_ARRAY)->value;
    set_array_header(b, GGUF_TYPE_STRING, 2);
    gw_str(b, "<5> <6>");
    gw_str(b, "<7> <8>");
    gw_set_u32(f, "tokenizer.ggml.bos_token_id", 0);
    gw_set_u32(f, "tokenizer.ggml.eos_token_id", 1);
    gw_u8(&gw_set(f, "tokenizer.ggml.add_bos_token", GGUF_TYPE_BOOL)->value, 1);
    gw_set_str(f, "tokenizer.chat_template", "{% for m in messages %}{{ m.content }}{% endfor %}");

    /* One of every remaining scalar type, and an array of arrays. */
    gw_u8(&gw_set(f, "test.u8", GGUF_TYPE_UINT8)->value, 200);
    gw_u8(&gw_set(f, "test.i8", GGUF_TYPE_INT8)->value, 0x80);
    uint16_t u16 = 65535;
    gw_put(&gw_set(f, "test.u16", GGUF_TYPE_UINT16)->value, &u16, 2);
    gw_put(&gw_set(f, "test.i16", GGUF_TYPE_INT16)->value, &u16, 2);
    gw_u32(&gw_set(f, "test.i32", GGUF_TYPE_INT32)->value, 0xffffffffu);
    gw_u64(&gw_set(f, "test.u64", GGUF_TYPE_UINT64)->value, UINT64_MAX);
    gw_u64(&gw_set(f, "test.i64", GGUF_TYPE_INT64)->value, 1);
    double f64 = 0.5;
    gw_put(&gw_set(f, "test.f64", GGUF_TYPE_FLOAT64)->value, &f64, 8);
    b = &gw_set(f, "test.nested", GGUF_TYPE_ARRAY)->value;
    set_array_header(b, GGUF_TYPE_ARRAY, 3);
    for (int i = 0; i < 3; i++) {
        set_array_header(b, GGUF_TYPE_UINT16, (uint64_t)i);
        for (int j = 0; j < i; j++) gw_put(b, &u16, 2);
    }
    b = &gw_set(f, "test.empty", GGUF_TYPE_ARRAY)->value;
    set_array_header(b, GGUF_TYPE_BOOL, 0);
}

static const char *const linear_names[7] = {"attn_q", "attn_k", "attn_v", "attn_output",
                                            "ffn_gate", "ffn_up", "ffn_down"};

bool tiny_build(gw_file *f, const tiny_cfg *c) {
    gw_init(f);
    add_metadata(f, c);
    uint64_t rng = c->seed;
    const int E = c->n_embd, F = c->n_ff, KV = c->n_embd / c->n_head * c->n_head_kv;
    size_t n_big = (size_t)E * (size_t)(c->n_vocab > F ? c->n_vocab : F);
    float *x = malloc(n_big * sizeof *x);
    if (!x) return false;
    bool ok = true;

    for (size_t i = 0; i < (size_t)E * (size_t)c->n_vocab; i++) x[i] = uniform(&rng);
    ok = ok && add_float(f, "token_embd.weight", 2, (uint64_t)E, (uint64_t)c->n_vocab, c->embd_type, x);
    /* Norm weights near 1: the random model stays well conditioned through the layers. */
    for (int i = 0; i < F; i++) x[i] = 1.0f + 0.25f * uniform(&rng);
    ok = ok && add_float(f, "output_norm.weight", 1, (uint64_t)E, 1, ARIA_TYPE_F32, x);
    if (c->with_output) {
        for (size_t i = 0; i < (size_t)E * (size_t)c->n_vocab; i++) x[i] = 0.5f * uniform(&rng);
        ok = ok && add_float(f, "output.weight", 2, (uint64_t)E, (uint64_t)c->n_vocab, c->embd_type, x);
    }

    const int n_in[7] = {E, E, E, E, E, E, F};
    const int n_out[7] = {E, KV, KV, E, F, F, E};
    for (int il = 0; il < c->n_layer && ok; il++) {
        char name[96];
        static const char *const norms[4] = {"attn_norm", "attn_sub_norm", "ffn_norm", "ffn_sub_norm"};
        for (int k = 0; k < 4 && ok; k++) {
            const int n = k == 3 ? F : E;
            for (int i = 0; i < n; i++) x[i] = 1.0f + 0.25f * uniform(&rng);
            snprintf(name, sizeof name, "blk.%d.%s.weight", il, norms[k]);
            ok = add_float(f, name, 1, (uint64_t)n, 1, ARIA_TYPE_F32, x);
        }
        for (int k = 0; k < 7 && ok; k++) {
            snprintf(name, sizeof name, "blk.%d.%s.weight", il, linear_names[k]);
            ok = add_bitlinear(f, name, n_in[k], n_out[k], c->linear_type, c->row_scales, &rng);
            if (ok && c->with_scales) {
                float s = 0.5f + 0.5f * (uniform(&rng) + 1.0f);
                snprintf(name, sizeof name, "blk.%d.%s.scale", il, linear_names[k]);
                ok = add_float(f, name, 1, 1, 1, ARIA_TYPE_F32, &s);
            }
        }
    }
    free(x);
    return ok;
}
