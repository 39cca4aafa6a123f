/* Corrupt-GGUF corpus: malformed variants of a valid tiny model, each of which must be answered
   with the expected named status and a non-empty one-line message, never a crash. Run under
   ASan/UBSan by `make test-asan`. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aria.h"
#include "formats.h"
#include "gguf.h"
#include "test.h"
#include "tiny_model.h"

#define HP "bitnet-b1.58." /* hyperparameter key prefix of the base model */

static char *g_path; /* one temp file, rewritten for every case */

/* Loads bytes; on success also runs a short embed -> forward -> logits so a file that validates
   is exercised too. err receives the message. */
static int load_bytes(const uint8_t *b, size_t len, char *err, size_t err_len) {
    if (test_rewrite(g_path, b, len) != 0) return 1;
    aria_model *m = NULL;
    err[0] = '\0';
    int st = aria_model_load(g_path, &m, err, err_len);
    if (st == ARIA_OK) {
        int32_t info[ARIA_INFO_COUNT];
        aria_session *s = NULL;
        char serr[256];
        aria_model_info(m, info, ARIA_INFO_COUNT);
        float *x = malloc(3 * (size_t)info[ARIA_INFO_N_EMBD] * sizeof(float));
        float *lg = malloc(3 * (size_t)info[ARIA_INFO_N_VOCAB] * sizeof(float));
        const int32_t tok[3] = {0, 1, info[ARIA_INFO_N_VOCAB] - 1};
        int n_ctx = info[ARIA_INFO_N_CTX_TRAIN] < 8 ? info[ARIA_INFO_N_CTX_TRAIN] : 8;
        int n = n_ctx < 3 ? n_ctx : 3;
        if (x && lg && aria_session_create(m, 0, info[ARIA_INFO_N_LAYER], n_ctx, &s, serr, sizeof serr) == ARIA_OK &&
            aria_embed(m, tok, n, x) == ARIA_OK && aria_session_forward(s, x, n, 0, x) == ARIA_OK)
            aria_logits(m, x, n, lg);
        aria_session_free(s);
        free(x), free(lg);
        aria_model_free(m);
    } else if (m != NULL) {
        st = 1; /* a failed load must leave *out NULL */
    }
    return st;
}

static bool message_ok(int st, const char *err) {
    if (st == ARIA_OK) return err[0] == '\0';
    return err[0] != '\0' && strchr(err, '\n') == NULL;
}

static void expect(const char *label, const uint8_t *b, size_t len, int want) {
    char err[512];
    int st = load_bytes(b, len, err, sizeof err);
    if (getenv("ARIA_TEST_VERBOSE")) fprintf(stderr, "%-40s %-22s %s\n", label, aria_status_name(st), err);
    CHECK(st == want && message_ok(st, err), "%s: got %s (\"%s\"), want %s", label,
          aria_status_name(st), err, aria_status_name(want));
}

static void expect_file(const char *label, const gw_file *f, int want) {
    size_t len;
    uint8_t *b = gw_serialize(f, &len, NULL);
    CHECK(b != NULL, "%s: serialize", label);
    if (b) expect(label, b, len, want);
    free(b);
}

/* A variant of the base description: clone, apply the statements, expect a status. */
#define VARIANT(label, want, ...)                      \
    do {                                               \
        gw_file f;                                     \
        if (gw_clone(&f, base)) {                      \
            __VA_ARGS__;                               \
            expect_file(label, &f, want);              \
        } else {                                       \
            CHECK(0, "%s: out of memory", label);      \
        }                                              \
        gw_free(&f);                                   \
    } while (0)

static void put_u32_at(uint8_t *b, size_t off, uint32_t v) { memcpy(b + off, &v, 4); }
static void put_u64_at(uint8_t *b, size_t off, uint64_t v) { memcpy(b + off, &v, 8); }

/* A patched copy of the base bytes. */
#define PATCH(label, want, ...)                                  \
    do {                                                         \
        uint8_t *b = malloc(len);                                \
        if (b) {                                                 \
            memcpy(b, bytes, len);                               \
            __VA_ARGS__;                                         \
            expect(label, b, len, want);                         \
        }                                                        \
        free(b);                                                 \
    } while (0)

static int tensor_index(const gw_file *f, const char *name) {
    for (size_t i = 0; i < f->n_t; i++)
        if (strcmp(f->t[i].name, name) == 0) return (int)i;
    return -1;
}

/* Every prefix of the header and metadata, and a spread of prefixes of the data section. */
static void test_truncations(const uint8_t *bytes, size_t len, const gw_layout *lay) {
    int bad = 0, n = 0;
    char err[512], first[640] = "";
    for (size_t cut = 0; cut < len; cut += cut < lay->data_start + 64 ? 1 : (len - lay->data_start) / 97 + 1) {
        int st = load_bytes(bytes, cut, err, sizeof err);
        n++;
        if (st != ARIA_E_TRUNCATED || !message_ok(st, err)) {
            if (!bad++) snprintf(first, sizeof first, "cut at %zu: %s \"%s\"", cut, aria_status_name(st), err);
        }
    }
    int st = load_bytes(bytes, len - 1, err, sizeof err);
    if (st != ARIA_E_TRUNCATED) bad++;
    CHECK(bad == 0, "%d of %d truncations did not give ARIA_E_TRUNCATED; first: %s", bad, n + 1, first);
}

static void test_byte_patches(const uint8_t *bytes, size_t len, const gw_layout *lay, const gw_file *base) {
    const int kv_name = gw_find_kv(base, "general.name");
    const int kv_tokens = gw_find_kv(base, "tokenizer.ggml.tokens");
    const int kv_bos = gw_find_kv(base, "tokenizer.ggml.add_bos_token");
    const int tq = tensor_index(base, "blk.0.attn_q.weight"); /* 2-D TQ2_0 */
    const int last = (int)base->n_t - 1;

    PATCH("bad magic", ARIA_E_BAD_MAGIC, b[0] = 'X');
    PATCH("version 1", ARIA_E_BAD_VERSION, put_u32_at(b, lay->version, 1));
    PATCH("version 4", ARIA_E_BAD_VERSION, put_u32_at(b, lay->version, 4));
    PATCH("big-endian version", ARIA_E_BAD_VERSION, put_u32_at(b, lay->version, 0x03000000u));
    PATCH("huge tensor_count", ARIA_E_TRUNCATED, put_u64_at(b, lay->tensor_count, 1ull << 62));
    PATCH("huge kv_count", ARIA_E_TRUNCATED, put_u64_at(b, lay->kv_count, 1ull << 40));
    PATCH("max kv_count", ARIA_E_TRUNCATED, put_u64_at(b, lay->kv_count, UINT64_MAX));
    PATCH("key length past EOF", ARIA_E_TRUNCATED, put_u64_at(b, lay->kv_key[0], 1ull << 50));
    PATCH("key length UINT64_MAX", ARIA_E_TRUNCATED, put_u64_at(b, lay->kv_key[0], UINT64_MAX));
    PATCH("string value length past EOF", ARIA_E_TRUNCATED, put_u64_at(b, lay->kv_value[kv_name], len));
    PATCH("array count past EOF", ARIA_E_TRUNCATED, put_u64_at(b, lay->kv_value[kv_tokens] + 4, 1ull << 40));
    PATCH("array count UINT64_MAX", ARIA_E_TRUNCATED, put_u64_at(b, lay->kv_value[kv_tokens] + 4, UINT64_MAX));
    PATCH("unknown KV value type", ARIA_E_BAD_METADATA, put_u32_at(b, lay->kv_type[kv_name], 13));
    PATCH("unknown array element type", ARIA_E_BAD_METADATA, put_u32_at(b, lay->kv_value[kv_tokens], 99));
    PATCH("bool value 2", ARIA_E_BAD_METADATA, b[lay->kv_value[kv_bos]] = 2);
    PATCH("tensor name length past EOF", ARIA_E_TRUNCATED, put_u64_at(b, lay->t_name[tq], 1ull << 45));
    PATCH("n_dims 5", ARIA_E_BAD_TENSOR, put_u32_at(b, lay->t_ndims[tq], 5));
    PATCH("n_dims 0", ARIA_E_BAD_TENSOR, put_u32_at(b, lay->t_ndims[tq], 0));
    PATCH("zero dim", ARIA_E_BAD_TENSOR, put_u64_at(b, lay->t_dims[tq] + 8, 0));
    PATCH("dims overflow", ARIA_E_BAD_TENSOR, put_u64_at(b, lay->t_dims[tq], 1ull << 40);
          put_u64_at(b, lay->t_dims[tq] + 8, 1ull << 40));
    PATCH("dim above INT64_MAX", ARIA_E_BAD_TENSOR, put_u64_at(b, lay->t_dims[tq], 1ull << 63));
    PATCH("ne0 not a multiple of the block", ARIA_E_BAD_TENSOR, put_u64_at(b, lay->t_dims[tq], 255));
    PATCH("unknown type id", ARIA_E_UNSUPPORTED, put_u32_at(b, lay->t_type[tq], 77));
    PATCH("retired type id 31", ARIA_E_UNSUPPORTED, put_u32_at(b, lay->t_type[tq], 31));
    PATCH("TL1 (fork id 38)", ARIA_E_UNSUPPORTED, put_u32_at(b, lay->t_type[tq], 38));
    PATCH("tensor offset past EOF", ARIA_E_TRUNCATED, put_u64_at(b, lay->t_offset[last], 1ull << 40));
    PATCH("tensor offset near UINT64_MAX", ARIA_E_TRUNCATED, put_u64_at(b, lay->t_offset[last], UINT64_MAX - 31));
    PATCH("misaligned tensor offset", ARIA_E_BAD_TENSOR,
          put_u64_at(b, lay->t_offset[last], lay->t_rel_offset[last] + 1));
    PATCH("overlapping tensors (same offset)", ARIA_E_BAD_TENSOR,
          put_u64_at(b, lay->t_offset[tq], lay->t_rel_offset[tq - 1]));
    PATCH("overlapping tensors (partial)", ARIA_E_BAD_TENSOR,
          put_u64_at(b, lay->t_offset[tq], lay->t_rel_offset[tq] - 32));
}

static void set_raw(gw_file *f, const char *key, uint32_t type, const void *v, size_t n) {
    gw_put(&gw_set(f, key, type)->value, v, n);
}

static void retype(gw_file *f, const char *name, uint32_t type) {
    gw_tensor *t = gw_find_tensor(f, name);
    if (t) t->type = type;
}

static void reshape(gw_file *f, const char *name, uint32_t n_dims, uint64_t ne0, uint64_t ne1, uint64_t ne2) {
    gw_tensor *t = gw_find_tensor(f, name);
    if (!t) return;
    t->n_dims = n_dims;
    t->ne[0] = ne0, t->ne[1] = ne1, t->ne[2] = ne2, t->ne[3] = 1;
}

static void add_nested(gw_file *f, const char *key, int depth) {
    gw_buf *b = &gw_set(f, key, GGUF_TYPE_ARRAY)->value;
    for (int i = 0; i < depth - 1; i++) {
        gw_u32(b, GGUF_TYPE_ARRAY);
        gw_u64(b, 1);
    }
    gw_u32(b, GGUF_TYPE_UINT8);
    gw_u64(b, 1);
    gw_u8(b, 7);
}

static void test_variants(const gw_file *base) {
    const float one = 1.0f, nan = NAN, zero = 0.0f, inf = INFINITY, neg = -1.0f;
    const uint64_t u64 = 32;
    const uint32_t u32 = 256;
    uint8_t zeros[64] = {0};
    (void)zeros;

    VARIANT("unchanged base", ARIA_OK, (void)0);
    /* Shapes and presence */
    VARIANT("attn_k wrong shape", ARIA_E_BAD_TENSOR, reshape(&f, "blk.0.attn_k.weight", 2, 256, 256, 1));
    VARIANT("ffn_down transposed", ARIA_E_BAD_TENSOR, reshape(&f, "blk.1.ffn_down.weight", 2, 256, 512, 1));
    VARIANT("norm wrong length", ARIA_E_BAD_TENSOR, reshape(&f, "blk.0.attn_norm.weight", 1, 255, 1, 1));
    VARIANT("norm as matrix", ARIA_E_BAD_TENSOR, reshape(&f, "output_norm.weight", 2, 256, 2, 1));
    VARIANT("token_embd 3-D", ARIA_E_BAD_TENSOR, reshape(&f, "token_embd.weight", 3, 256, 97, 2));
    VARIANT("token_embd wrong width", ARIA_E_BAD_TENSOR, reshape(&f, "token_embd.weight", 2, 128, 97, 1));
    VARIANT("output.weight wrong vocab", ARIA_E_BAD_TENSOR,
            gw_tensor *e = gw_find_tensor(&f, "token_embd.weight");
            uint64_t ne[2] = {256, 96};
            gw_add_tensor(&f, "output.weight", 2, ne, e->type, e->data, e->data_len));
    VARIANT("missing blk.1.ffn_sub_norm", ARIA_E_MISSING_TENSOR, gw_del_tensor(&f, "blk.1.ffn_sub_norm.weight"));
    VARIANT("missing blk.0.attn_q", ARIA_E_MISSING_TENSOR, gw_del_tensor(&f, "blk.0.attn_q.weight"));
    VARIANT("missing token_embd", ARIA_E_MISSING_TENSOR, gw_del_tensor(&f, "token_embd.weight"));
    VARIANT("missing output_norm", ARIA_E_MISSING_TENSOR, gw_del_tensor(&f, "output_norm.weight"));
    VARIANT("no tensors at all", ARIA_E_MISSING_TENSOR, while (f.n_t) gw_del_tensor(&f, f.t[0].name));

    /* Hyperparameters */
    VARIANT("0 heads", ARIA_E_BAD_METADATA, gw_set_u32(&f, HP "attention.head_count", 0));
    VARIANT("heads not dividing embd", ARIA_E_BAD_METADATA, gw_set_u32(&f, HP "attention.head_count", 3));
    VARIANT("odd head_dim", ARIA_E_BAD_METADATA, gw_set_u32(&f, HP "attention.head_count", 256);
            gw_set_u32(&f, HP "attention.head_count_kv", 256));
    VARIANT("kv heads not dividing heads", ARIA_E_BAD_METADATA, gw_set_u32(&f, HP "attention.head_count_kv", 3));
    VARIANT("more kv heads than heads", ARIA_E_BAD_METADATA, gw_set_u32(&f, HP "attention.head_count_kv", 8));
    VARIANT("0 kv heads", ARIA_E_BAD_METADATA, gw_set_u32(&f, HP "attention.head_count_kv", 0));
    VARIANT("huge block_count", ARIA_E_BAD_METADATA, gw_set_u32(&f, HP "block_count", 1u << 30));
    VARIANT("0 block_count", ARIA_E_BAD_METADATA, gw_set_u32(&f, HP "block_count", 0));
    VARIANT("block_count above the tensors", ARIA_E_MISSING_TENSOR, gw_set_u32(&f, HP "block_count", 3));
    VARIANT("block_count below the tensors", ARIA_E_UNSUPPORTED, gw_set_u32(&f, HP "block_count", 1));
    VARIANT("0 embedding_length", ARIA_E_BAD_METADATA, gw_set_u32(&f, HP "embedding_length", 0));
    VARIANT("huge embedding_length", ARIA_E_BAD_METADATA, gw_set_u32(&f, HP "embedding_length", 1u << 20));
    VARIANT("0 feed_forward_length", ARIA_E_BAD_METADATA, gw_set_u32(&f, HP "feed_forward_length", 0));
    VARIANT("0 context_length", ARIA_E_BAD_METADATA, gw_set_u32(&f, HP "context_length", 0));
    VARIANT("NaN epsilon", ARIA_E_BAD_METADATA, gw_set_f32(&f, HP "attention.layer_norm_rms_epsilon", nan));
    VARIANT("0 epsilon", ARIA_E_BAD_METADATA, gw_set_f32(&f, HP "attention.layer_norm_rms_epsilon", zero));
    VARIANT("inf epsilon", ARIA_E_BAD_METADATA, gw_set_f32(&f, HP "attention.layer_norm_rms_epsilon", inf));
    VARIANT("negative epsilon", ARIA_E_BAD_METADATA, gw_set_f32(&f, HP "attention.layer_norm_rms_epsilon", neg));
    VARIANT("NaN rope base", ARIA_E_BAD_METADATA, gw_set_f32(&f, HP "rope.freq_base", nan));
    VARIANT("odd rope dims", ARIA_E_BAD_METADATA, gw_set_u32(&f, HP "rope.dimension_count", 63));
    VARIANT("rope dims above head_dim", ARIA_E_BAD_METADATA, gw_set_u32(&f, HP "rope.dimension_count", 128));
    VARIANT("key_length != head_dim", ARIA_E_UNSUPPORTED, gw_set_u32(&f, HP "attention.key_length", 32));
    VARIANT("yarn rope scaling", ARIA_E_UNSUPPORTED, gw_set_str(&f, HP "rope.scaling.type", "yarn"));
    VARIANT("linear rope scaling x2", ARIA_E_UNSUPPORTED, gw_set_str(&f, HP "rope.scaling.type", "linear");
            gw_set_f32(&f, HP "rope.scaling.factor", 2.0f));
    VARIANT("linear rope scaling x1", ARIA_OK, gw_set_str(&f, HP "rope.scaling.type", "linear");
            gw_set_f32(&f, HP "rope.scaling.factor", one));
    VARIANT("vocab_size disagreeing (advisory)", ARIA_OK, gw_set_u32(&f, HP "vocab_size", 5));
    VARIANT("u64 hyperparameter", ARIA_OK, set_raw(&f, HP "embedding_length", GGUF_TYPE_UINT64, &(uint64_t){256}, 8));

    /* Key types and presence */
    VARIANT("embedding_length as string", ARIA_E_BAD_METADATA, gw_set_str(&f, HP "embedding_length", "256"));
    VARIANT("block_count as f32", ARIA_E_BAD_METADATA, gw_set_f32(&f, HP "block_count", 2.0f));
    VARIANT("epsilon as u32", ARIA_E_BAD_METADATA, gw_set_u32(&f, HP "attention.layer_norm_rms_epsilon", 1));
    VARIANT("head_count as array", ARIA_E_BAD_METADATA,
            gw_buf *b = &gw_set(&f, HP "attention.head_count", GGUF_TYPE_ARRAY)->value;
            gw_u32(b, GGUF_TYPE_UINT32); gw_u64(b, 1); gw_u32(b, 4));
    VARIANT("architecture as u32", ARIA_E_BAD_METADATA, gw_set_u32(&f, "general.architecture", 1));
    VARIANT("alignment as u64", ARIA_E_BAD_METADATA, set_raw(&f, "general.alignment", GGUF_TYPE_UINT64, &u64, 8));
    VARIANT("alignment 48", ARIA_E_BAD_METADATA, gw_set_u32(&f, "general.alignment", 48));
    VARIANT("alignment 0", ARIA_E_BAD_METADATA, gw_set_u32(&f, "general.alignment", 0));
    VARIANT("missing block_count", ARIA_E_BAD_METADATA, gw_del_kv(&f, HP "block_count"));
    VARIANT("missing epsilon", ARIA_E_BAD_METADATA, gw_del_kv(&f, HP "attention.layer_norm_rms_epsilon"));
    VARIANT("missing architecture", ARIA_E_BAD_METADATA, gw_del_kv(&f, "general.architecture"));
    VARIANT("unknown architecture", ARIA_E_UNSUPPORTED, gw_set_str(&f, "general.architecture", "falcon"));
    VARIANT("duplicate KV key", ARIA_E_BAD_METADATA,
            f.kv[f.n_kv] = f.kv[0]; f.kv[f.n_kv].value = (gw_buf){0};
            gw_put(&f.kv[f.n_kv].value, f.kv[0].value.p, f.kv[0].value.len); f.n_kv++);
    VARIANT("empty key", ARIA_E_BAD_METADATA, set_raw(&f, "", GGUF_TYPE_UINT32, &u32, 4));
    VARIANT("arrays nested 8 deep", ARIA_OK, add_nested(&f, "test.deep", GGUF_MAX_ARRAY_DEPTH));
    VARIANT("arrays nested 9 deep", ARIA_E_BAD_METADATA, add_nested(&f, "test.deeper", GGUF_MAX_ARRAY_DEPTH + 1));

    /* Tensor types */
    VARIANT("norm as TQ2_0", ARIA_E_BAD_TENSOR, retype(&f, "blk.0.attn_norm.weight", ARIA_TYPE_TQ2_0));
    VARIANT("norm as I32", ARIA_E_BAD_TENSOR, retype(&f, "output_norm.weight", ARIA_TYPE_I32));
    VARIANT("norm as Q8_0", ARIA_E_BAD_TENSOR, retype(&f, "blk.1.ffn_sub_norm.weight", ARIA_TYPE_Q8_0));
    VARIANT("norm as F16", ARIA_OK, retype(&f, "blk.1.ffn_norm.weight", ARIA_TYPE_F16));
    /* Retyped bytes: any TQ1_0 / Q8_0 bytes are valid weights (garbage, but no crash). */
    VARIANT("BitLinear bytes read as TQ1_0", ARIA_OK, retype(&f, "blk.0.ffn_up.weight", ARIA_TYPE_TQ1_0));
    VARIANT("BitLinear bytes read as Q8_0", ARIA_OK, retype(&f, "blk.0.ffn_up.weight", ARIA_TYPE_Q8_0));
    VARIANT("BitLinear as F16", ARIA_OK, retype(&f, "blk.1.attn_v.weight", ARIA_TYPE_F16));
    VARIANT("BitLinear as Q4_0", ARIA_E_UNSUPPORTED, retype(&f, "blk.0.ffn_up.weight", ARIA_TYPE_Q4_0));
    VARIANT("BitLinear as Q6_K", ARIA_E_UNSUPPORTED, retype(&f, "blk.0.ffn_up.weight", ARIA_TYPE_Q6_K));
    VARIANT("id 39 under the fork is TL2", ARIA_E_UNSUPPORTED, retype(&f, "blk.0.ffn_up.weight", 39));
    VARIANT("BitLinear as I8_S (fork id 37)", ARIA_E_UNSUPPORTED, retype(&f, "blk.0.ffn_up.weight", 37));
    VARIANT("type id 40", ARIA_E_UNSUPPORTED, retype(&f, "blk.0.ffn_up.weight", 40));
    VARIANT("type id 1000", ARIA_E_UNSUPPORTED, retype(&f, "blk.0.ffn_up.weight", 1000));
    VARIANT("type id UINT32_MAX", ARIA_E_UNSUPPORTED, retype(&f, "blk.0.ffn_up.weight", UINT32_MAX));
    VARIANT("token_embd bytes read as Q8_0", ARIA_OK, retype(&f, "token_embd.weight", ARIA_TYPE_Q8_0));
    VARIANT("token_embd as TQ1_0", ARIA_E_UNSUPPORTED, retype(&f, "token_embd.weight", ARIA_TYPE_TQ1_0));
    VARIANT("output.weight as TQ2_0", ARIA_E_UNSUPPORTED,
            uint64_t ne[2] = {256, 97};
            gw_add_tensor(&f, "output.weight", 2, ne, ARIA_TYPE_TQ2_0, zeros, 0));
    VARIANT("unused bias tensor", ARIA_E_UNSUPPORTED,
            uint64_t ne[1] = {256};
            gw_add_tensor(&f, "blk.0.attn_q.bias", 1, ne, ARIA_TYPE_F32, zeros, 0));
    VARIANT("scale tensor outside arch bitnet", ARIA_E_UNSUPPORTED,
            uint64_t ne[1] = {1};
            gw_add_tensor(&f, "blk.0.attn_q.scale", 1, ne, ARIA_TYPE_F32, &one, 4));
    VARIANT("duplicate tensor name", ARIA_E_BAD_TENSOR,
            uint64_t ne[1] = {256};
            gw_add_tensor(&f, "output_norm.weight", 1, ne, ARIA_TYPE_F32, zeros, 0));
    VARIANT("tensor name of 64 bytes", ARIA_E_BAD_TENSOR,
            uint64_t ne[1] = {4};
            gw_add_tensor(&f, "a123456789012345678901234567890123456789012345678901234567890123", 1, ne,
                          ARIA_TYPE_F32, zeros, 0));
}

/* arch "bitnet": optional per-tensor scales must be well-formed. */
static void test_scale_variants(void) {
    tiny_cfg c = tiny_default();
    c.arch = "bitnet";
    c.n_layer = 1;
    c.with_scales = true;
    gw_file basef;
    if (!tiny_build(&basef, &c)) {
        CHECK(0, "out of memory");
        gw_free(&basef);
        return;
    }
    const gw_file *base = &basef;
    const float nan = NAN;
    VARIANT("bitnet with scales", ARIA_OK, (void)0);
    VARIANT("bitnet without scales", ARIA_OK,
            for (int k = 0; k < 7; k++) {
                static const char *const n[7] = {"attn_q",   "attn_k", "attn_v",  "attn_output",
                                                 "ffn_gate", "ffn_up", "ffn_down"};
                char name[64];
                snprintf(name, sizeof name, "blk.0.%s.scale", n[k]);
                gw_del_tensor(&f, name);
            });
    VARIANT("scale as I32", ARIA_E_BAD_TENSOR, retype(&f, "blk.0.attn_k.scale", ARIA_TYPE_I32));
    VARIANT("scale of 2 values", ARIA_E_BAD_TENSOR, reshape(&f, "blk.0.ffn_up.scale", 1, 2, 1, 1));
    VARIANT("NaN scale", ARIA_E_BAD_TENSOR, memcpy(gw_find_tensor(&f, "blk.0.ffn_down.scale")->data, &nan, 4));
    VARIANT("F16 BitLinear under arch bitnet", ARIA_OK, retype(&f, "blk.0.attn_q.weight", ARIA_TYPE_F16));
    /* bitnet.cpp writes I2_S under `bitnet` too: id 36 is I2_S here, and a TQ2_0 tensor's
       bytes relabelled as I2_S fail its checks. */
    VARIANT("id 36 under bitnet is I2_S (TQ2_0 bytes relabelled)", ARIA_E_BAD_TENSOR,
            retype(&f, "blk.0.attn_q.weight", ARIA_TYPE_I2_S));
    VARIANT("id 39 (TL2 in bitnet.cpp, MXFP4 upstream) is refused", ARIA_E_UNSUPPORTED,
            retype(&f, "blk.0.attn_q.weight", ARIA_TYPE_MXFP4));
    gw_free(&basef);
}

static void set_i2_s_scale(gw_file *f, const char *name, float s) {
    gw_tensor *t = gw_find_tensor(f, name);
    if (t) memcpy(t->data + t->ne[0] * t->ne[1] / 4, &s, sizeof s);
}

/* A valid model of the given BitLinear type and head type, serialized with its layout. */
static uint8_t *build_base(gw_file *base, uint32_t linear_type, uint32_t embd_type, bool with_output,
                           size_t *len, gw_layout *lay) {
    tiny_cfg c = tiny_default();
    c.n_layer = 1;
    c.linear_type = linear_type;
    c.embd_type = embd_type;
    c.with_output = with_output;
    return tiny_build(base, &c) ? gw_serialize(base, len, lay) : NULL;
}

/* I2_S (bitnet.cpp files): tail, scale and block-size rules. */
static void test_i2_s_variants(void) {
    gw_file basef;
    size_t len = 0;
    gw_layout lay;
    uint8_t *bytes = build_base(&basef, ARIA_TYPE_I2_S, ARIA_TYPE_F16, false, &len, &lay);
    CHECK(bytes != NULL, "I2_S base");
    if (!bytes) {
        gw_free(&basef);
        return;
    }
    const gw_file *base = &basef;
    const int tq = tensor_index(base, "blk.0.attn_q.weight"); /* {256, 256}: n / 4 = 16384 */
    const int last = (int)base->n_t - 1;                     /* blk.0.ffn_down.weight, I2_S */
    CHECK(base->t[last].type == ARIA_TYPE_I2_S, "last tensor is I2_S");
    const float nan = NAN, inf = INFINITY;
    expect("I2_S base", bytes, len, ARIA_OK);
    VARIANT("I2_S NaN scale", ARIA_E_BAD_TENSOR, set_i2_s_scale(&f, "blk.0.attn_q.weight", nan));
    VARIANT("I2_S -1 scale", ARIA_E_BAD_TENSOR, set_i2_s_scale(&f, "blk.0.attn_k.weight", -1.0f));
    VARIANT("I2_S zero scale", ARIA_E_BAD_TENSOR, set_i2_s_scale(&f, "blk.0.ffn_up.weight", 0.0f));
    VARIANT("I2_S -0 scale", ARIA_E_BAD_TENSOR, set_i2_s_scale(&f, "blk.0.ffn_up.weight", -0.0f));
    VARIANT("I2_S inf scale", ARIA_E_BAD_TENSOR, set_i2_s_scale(&f, "blk.0.ffn_down.weight", inf));
    VARIANT("I2_S subnormal scale (valid)", ARIA_OK, set_i2_s_scale(&f, "blk.0.attn_v.weight", 1e-40f));
    VARIANT("I2_S K = 192 (not a multiple of 128)", ARIA_E_BAD_TENSOR,
            reshape(&f, "blk.0.attn_q.weight", 2, 192, 256, 1));
    VARIANT("I2_S K = 64", ARIA_E_BAD_TENSOR, reshape(&f, "blk.0.ffn_up.weight", 2, 64, 2048, 1));
    VARIANT("I2_S under arch gpt2 (id 36 unknown)", ARIA_E_UNSUPPORTED, gw_set_str(&f, "general.architecture", "gpt2"));
    VARIANT("I2_S as a norm", ARIA_E_BAD_TENSOR, retype(&f, "blk.0.ffn_norm.weight", ARIA_TYPE_I2_S));
    VARIANT("I2_S as token_embd", ARIA_E_UNSUPPORTED, retype(&f, "token_embd.weight", ARIA_TYPE_I2_S));
    VARIANT("I2_S as output.weight", ARIA_E_UNSUPPORTED,
            gw_tensor *q = gw_find_tensor(&f, "blk.0.attn_q.weight");
            uint64_t ne[2] = {256, 97};
            gw_add_tensor(&f, "output.weight", 2, ne, ARIA_TYPE_I2_S, q->data, 256 * 97 / 4 + 32));
    /* Sizes: a writer that forgot the 32-byte tail puts the next tensor at n / 4. */
    PATCH("I2_S next tensor at n/4 (no tail)", ARIA_E_BAD_TENSOR,
          put_u64_at(b, lay.t_offset[tq + 1], lay.t_rel_offset[tq] + 256 * 256 / 4));
    PATCH("I2_S next tensor 32 bytes into the tail", ARIA_E_BAD_TENSOR,
          put_u64_at(b, lay.t_offset[tq + 1], lay.t_rel_offset[tq + 1] - 32));
    {
        const uint64_t n_last = base->t[last].ne[0] * base->t[last].ne[1];
        const size_t cut = lay.data_start + lay.t_rel_offset[last] + n_last / 4;
        expect("I2_S last tensor without its tail", bytes, cut, ARIA_E_TRUNCATED);
        expect("I2_S last tensor missing 1 tail byte", bytes, len - 1, ARIA_E_TRUNCATED);
    }
    free(bytes);
    gw_free(&basef);
}

/* TQ1_0 weights and Q8_0 embedding / head: block sizes, byte sizes, shapes. */
static void test_tq1_0_q8_0_variants(void) {
    gw_file basef;
    size_t len = 0;
    gw_layout lay;
    uint8_t *bytes = build_base(&basef, ARIA_TYPE_TQ1_0, ARIA_TYPE_Q8_0, true, &len, &lay);
    CHECK(bytes != NULL, "TQ1_0 / Q8_0 base");
    if (!bytes) {
        gw_free(&basef);
        return;
    }
    const gw_file *base = &basef;
    const int tq = tensor_index(base, "blk.0.attn_q.weight");
    const int emb = tensor_index(base, "token_embd.weight");
    const int last = (int)base->n_t - 1;
    CHECK(base->t[last].type == ARIA_TYPE_TQ1_0, "last tensor is TQ1_0");
    expect("TQ1_0 + Q8_0 base", bytes, len, ARIA_OK);
    VARIANT("TQ1_0 ne0 = 384 (not a multiple of 256)", ARIA_E_BAD_TENSOR,
            reshape(&f, "blk.0.attn_q.weight", 2, 384, 256, 1));
    VARIANT("TQ1_0 as output.weight", ARIA_E_UNSUPPORTED, retype(&f, "output.weight", ARIA_TYPE_TQ1_0));
    VARIANT("TQ1_0 as a norm", ARIA_E_BAD_TENSOR, retype(&f, "output_norm.weight", ARIA_TYPE_TQ1_0));
    VARIANT("TQ1_0 wrong shape", ARIA_E_BAD_TENSOR, reshape(&f, "blk.0.attn_k.weight", 2, 256, 256, 1));
    VARIANT("Q8_0 token_embd ne0 = 240 (not a multiple of 32)", ARIA_E_BAD_TENSOR,
            reshape(&f, "token_embd.weight", 2, 240, 97, 1));
    VARIANT("Q8_0 output.weight wrong vocab", ARIA_E_BAD_TENSOR, reshape(&f, "output.weight", 2, 256, 96, 1));
    VARIANT("Q8_0 output.weight wrong width", ARIA_E_BAD_TENSOR, reshape(&f, "output.weight", 2, 224, 97, 1));
    VARIANT("Q8_0 output.weight 3-D", ARIA_E_BAD_TENSOR, reshape(&f, "output.weight", 3, 256, 97, 2));
    VARIANT("Q8_0 output.weight ne0 = 776 (not whole blocks)", ARIA_E_BAD_TENSOR,
            reshape(&f, "output.weight", 2, 97 * 8, 32, 1));
    VARIANT("Q8_0 NaN / inf block scales (garbage, no crash)", ARIA_OK,
            gw_tensor *o = gw_find_tensor(&f, "output.weight");
            const uint16_t h_nan = 0x7e00, h_inf = 0x7c00;
            memcpy(o->data, &h_nan, 2); memcpy(o->data + 34, &h_inf, 2));
    /* Sizes: tensors must not overlap and must fit in the file. */
    PATCH("TQ1_0 next tensor 32 bytes early (overlap)", ARIA_E_BAD_TENSOR,
          put_u64_at(b, lay.t_offset[tq + 1], lay.t_rel_offset[tq + 1] - 32));
    PATCH("Q8_0 next tensor 32 bytes early (overlap)", ARIA_E_BAD_TENSOR,
          put_u64_at(b, lay.t_offset[emb + 1], lay.t_rel_offset[emb + 1] - 32));
    expect("TQ1_0 last tensor one block short", bytes, len - sizeof(block_tq1_0), ARIA_E_TRUNCATED);
    free(bytes);
    gw_free(&basef);
}

/* Random corruption of the header and metadata: any status, but never a crash, and a message. */
static void test_random_mutations(const uint8_t *bytes, size_t len, const gw_layout *lay) {
    uint64_t rng = 2024;
    uint8_t *b = malloc(len);
    if (!b) return;
    int bad = 0, loaded = 0;
    const int n_cases = 600;
    char err[512];
    for (int i = 0; i < n_cases; i++) {
        memcpy(b, bytes, len);
        int n_flips = 1 + (int)(tiny_rand(&rng) % 4);
        for (int k = 0; k < n_flips; k++) {
            size_t at = (size_t)(tiny_rand(&rng) % lay->data_start);
            uint64_t r = tiny_rand(&rng);
            /* single bits, whole bytes, or a high byte of a length/count field */
            b[at] = (r & 3) == 0 ? (uint8_t)(b[at] ^ (1u << (r >> 8 & 7))) : (uint8_t)(r >> 16);
        }
        int st = load_bytes(b, len, err, sizeof err);
        loaded += st == ARIA_OK;
        if (st > 0 || st < ARIA_E_RANGE || !message_ok(st, err)) bad++;
    }
    /* Random tensor data: loads, and the forward pass must survive NaN/inf weights. */
    for (int i = 0; i < 20; i++) {
        memcpy(b, bytes, len);
        for (int k = 0; k < 64; k++)
            b[lay->data_start + tiny_rand(&rng) % (len - lay->data_start)] = (uint8_t)tiny_rand(&rng);
        if (load_bytes(b, len, err, sizeof err) != ARIA_OK) bad++;
    }
    free(b);
    CHECK(bad == 0, "%d of %d random mutations gave a bad status or message (%d loaded)", bad, n_cases + 20, loaded);
}

static void test_io(void) {
    aria_model *m = (aria_model *)1;
    char err[256];
    int st = aria_model_load("/nonexistent/aria/model.gguf", &m, err, sizeof err);
    CHECK(st == ARIA_E_IO && m == NULL && err[0], "missing file: %s", aria_status_name(st));
    st = aria_model_load("/", &m, err, sizeof err);
    CHECK(st == ARIA_E_IO && err[0], "directory: %s %s", aria_status_name(st), err);
    st = aria_model_load(NULL, &m, err, sizeof err);
    CHECK(st == ARIA_E_INVALID_ARG, "NULL path");
    st = aria_model_load(g_path, NULL, err, sizeof err);
    CHECK(st == ARIA_E_INVALID_ARG, "NULL out");
    expect("empty file", (const uint8_t *)"", 0, ARIA_E_TRUNCATED);
    st = aria_model_load("/nonexistent", &m, NULL, 0);
    CHECK(st == ARIA_E_IO, "NULL err buffer is allowed");
    st = aria_model_load("/nonexistent", &m, err, 1);
    CHECK(st == ARIA_E_IO && err[0] == '\0', "1-byte err buffer gets the NUL");
}

void test_corpus(void) {
    tiny_cfg c = tiny_default();
    c.n_layer = 2;
    gw_file base;
    size_t len = 0;
    gw_layout lay;
    uint8_t *bytes = tiny_build(&base, &c) ? gw_serialize(&base, &len, &lay) : NULL;
    g_path = bytes ? test_write_temp(bytes, len) : NULL;
    CHECK(bytes && g_path, "corpus base file");
    if (bytes && g_path) {
        expect("base file", bytes, len, ARIA_OK);
        test_io();
        test_truncations(bytes, len, &lay);
        test_byte_patches(bytes, len, &lay, &base);
        test_variants(&base);
        test_scale_variants();
        test_i2_s_variants();
        test_tq1_0_q8_0_variants();
        test_random_mutations(bytes, len, &lay);
    }
    if (g_path) unlink(g_path);
    free(g_path);
    free(bytes);
    gw_free(&base);
}
