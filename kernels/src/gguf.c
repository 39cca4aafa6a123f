/* GGUF v2/v3 container reader; see gguf.h for the guarantees. */
#include "gguf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aria.h"
#include "error.h"
#include "formats.h"

typedef unsigned long long ull;

/* A cursor over base[0, size); invariant: pos <= size. */
typedef struct {
    const uint8_t *base;
    uint64_t size;
    uint64_t pos;
    char *err;
    size_t err_len;
} reader;

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

static uint64_t remaining(const reader *r) { return r->size - r->pos; }

/* Advances past n bytes and returns their start, or NULL (cursor unchanged) if fewer remain. */
static const uint8_t *take(reader *r, uint64_t n) {
    if (n > remaining(r)) return NULL;
    const uint8_t *p = r->base + r->pos;
    r->pos += n;
    return p;
}

static int truncated(reader *r, const char *what, const char *name, uint64_t len, uint64_t need) {
    char pn[ARIA_NAME_BUF];
    return aria_fail(r->err, r->err_len, ARIA_E_TRUNCATED,
                     "%s%s%s%s at offset %llu needs %llu bytes but the file ends at %llu", what,
                     name ? " '" : "", name ? aria_printable(pn, name, len) : "", name ? "'" : "",
                     (ull)r->pos, (ull)need, (ull)r->size);
}

static int read_u32(reader *r, uint32_t *v, const char *what, const gguf_str *ctx) {
    *v = 0;
    const uint8_t *p = take(r, 4);
    if (!p) return truncated(r, what, ctx ? ctx->ptr : NULL, ctx ? ctx->len : 0, 4);
    *v = le32(p);
    return ARIA_OK;
}

static int read_u64(reader *r, uint64_t *v, const char *what, const gguf_str *ctx) {
    *v = 0;
    const uint8_t *p = take(r, 8);
    if (!p) return truncated(r, what, ctx ? ctx->ptr : NULL, ctx ? ctx->len : 0, 8);
    *v = le64(p);
    return ARIA_OK;
}

static int read_str(reader *r, gguf_str *s, const char *what, const gguf_str *ctx) {
    uint64_t len;
    int st = read_u64(r, &len, what, ctx);
    if (st) return st;
    const uint8_t *p = take(r, len);
    if (!p) return truncated(r, what, ctx ? ctx->ptr : NULL, ctx ? ctx->len : 0, len);
    s->ptr = (const char *)p;
    s->len = len;
    return ARIA_OK;
}

size_t gguf_value_size(uint32_t type) {
    switch (type) {
    case GGUF_TYPE_UINT8:
    case GGUF_TYPE_INT8:
    case GGUF_TYPE_BOOL: return 1;
    case GGUF_TYPE_UINT16:
    case GGUF_TYPE_INT16: return 2;
    case GGUF_TYPE_UINT32:
    case GGUF_TYPE_INT32:
    case GGUF_TYPE_FLOAT32: return 4;
    case GGUF_TYPE_UINT64:
    case GGUF_TYPE_INT64:
    case GGUF_TYPE_FLOAT64: return 8;
    default: return 0;
    }
}

const char *gguf_value_type_name(uint32_t type) {
    static const char *const names[GGUF_TYPE_COUNT] = {
        "u8",   "i8",     "u16",   "i16", "u32", "i32", "f32",
        "bool", "string", "array", "u64", "i64", "f64",
    };
    return type < GGUF_TYPE_COUNT ? names[type] : "unknown";
}

gguf_str gguf_kv_str(const gguf_kv *kv) {
    gguf_str s = {(const char *)kv->data + 8, le64(kv->data)};
    return s;
}

static int bad_kv(reader *r, const gguf_str *key, const char *fmt_what, uint64_t v) {
    char pk[ARIA_NAME_BUF];
    return aria_fail(r->err, r->err_len, ARIA_E_BAD_METADATA, "KV '%s': %s %llu",
                     aria_printable(pk, key->ptr, key->len), fmt_what, (ull)v);
}

static int walk_array(reader *r, uint32_t elem, uint64_t n, int depth, const gguf_str *key);

/* Walks one value of the given type (depth = number of enclosing arrays). */
static int walk_value(reader *r, uint32_t type, int depth, const gguf_str *key) {
    size_t sz = gguf_value_size(type);
    if (sz) {
        const uint8_t *p = take(r, sz);
        if (!p) return truncated(r, "value of KV", key->ptr, key->len, sz);
        if (type == GGUF_TYPE_BOOL && *p > 1) return bad_kv(r, key, "bool value is", *p);
        return ARIA_OK;
    }
    if (type == GGUF_TYPE_STRING) {
        gguf_str s;
        return read_str(r, &s, "string value of KV", key);
    }
    if (type == GGUF_TYPE_ARRAY) {
        if (depth >= GGUF_MAX_ARRAY_DEPTH)
            return bad_kv(r, key, "arrays nested deeper than", (uint64_t)depth);
        uint32_t elem;
        uint64_t n;
        int st = read_u32(r, &elem, "array type of KV", key);
        if (!st) st = read_u64(r, &n, "array length of KV", key);
        if (!st) st = walk_array(r, elem, n, depth + 1, key);
        return st;
    }
    return bad_kv(r, key, "unknown value type", type);
}

static int walk_array(reader *r, uint32_t elem, uint64_t n, int depth, const gguf_str *key) {
    size_t sz = gguf_value_size(elem);
    /* Every element takes at least min_sz bytes, so n is bounded by the file before looping. */
    size_t min_sz = sz ? sz : elem == GGUF_TYPE_STRING ? 8 : elem == GGUF_TYPE_ARRAY ? 12 : 0;
    if (min_sz == 0) return bad_kv(r, key, "unknown array element type", elem);
    if (n > remaining(r) / min_sz) {
        char pk[ARIA_NAME_BUF];
        return aria_fail(r->err, r->err_len, ARIA_E_TRUNCATED,
                         "KV '%s': array of %llu %s elements at offset %llu passes the end of the "
                         "file (%llu bytes)",
                         aria_printable(pk, key->ptr, key->len), (ull)n, gguf_value_type_name(elem),
                         (ull)r->pos, (ull)r->size);
    }
    if (sz && elem != GGUF_TYPE_BOOL) {
        take(r, n * sz);
        return ARIA_OK;
    }
    for (uint64_t i = 0; i < n; i++) {
        int st = walk_value(r, elem, depth, key);
        if (st) return st;
    }
    return ARIA_OK;
}

static int str_cmp(gguf_str a, const char *b, uint64_t blen) {
    uint64_t n = a.len < blen ? a.len : blen;
    int c = n ? memcmp(a.ptr, b, (size_t)n) : 0;
    if (c) return c;
    return (a.len > blen) - (a.len < blen);
}

static int kv_ptr_cmp(const void *a, const void *b) {
    const gguf_kv *x = *(const gguf_kv *const *)a, *y = *(const gguf_kv *const *)b;
    return str_cmp(x->key, y->key.ptr, y->key.len);
}

static int tensor_name_cmp(const void *a, const void *b) {
    const gguf_tensor *x = *(const gguf_tensor *const *)a, *y = *(const gguf_tensor *const *)b;
    return str_cmp(x->name, y->name.ptr, y->name.len);
}

static int tensor_offset_cmp(const void *a, const void *b) {
    const gguf_tensor *x = *(const gguf_tensor *const *)a, *y = *(const gguf_tensor *const *)b;
    return (x->offset > y->offset) - (x->offset < y->offset);
}

static bool str_is(gguf_str s, const char *lit) { return str_cmp(s, lit, strlen(lit)) == 0; }

static int parse_kvs(gguf_file *g, reader *r) {
    for (uint64_t i = 0; i < g->n_kv; i++) {
        gguf_kv *kv = &g->kv[i];
        int st = read_str(r, &kv->key, "KV key", NULL);
        if (!st) st = read_u32(r, &kv->type, "value type of KV", &kv->key);
        if (st) return st;
        if (kv->key.len == 0)
            return aria_fail(r->err, r->err_len, ARIA_E_BAD_METADATA, "KV #%llu has an empty key",
                             (ull)i);
        if (kv->type == GGUF_TYPE_ARRAY) {
            st = read_u32(r, &kv->arr_type, "array type of KV", &kv->key);
            if (!st) st = read_u64(r, &kv->arr_n, "array length of KV", &kv->key);
            kv->data = r->base + r->pos;
            if (!st) st = walk_array(r, kv->arr_type, kv->arr_n, 1, &kv->key);
        } else {
            kv->data = r->base + r->pos;
            st = walk_value(r, kv->type, 0, &kv->key);
        }
        if (st) return st;
    }

    for (uint64_t i = 0; i < g->n_kv; i++) g->kv_sorted[i] = &g->kv[i];
    qsort(g->kv_sorted, (size_t)g->n_kv, sizeof *g->kv_sorted, kv_ptr_cmp);
    for (uint64_t i = 1; i < g->n_kv; i++) {
        if (kv_ptr_cmp(&g->kv_sorted[i - 1], &g->kv_sorted[i]) == 0) {
            char pk[ARIA_NAME_BUF];
            const gguf_str *k = &g->kv_sorted[i]->key;
            return aria_fail(r->err, r->err_len, ARIA_E_BAD_METADATA, "duplicate KV key '%s'",
                             aria_printable(pk, k->ptr, k->len));
        }
    }

    g->alignment = GGUF_DEFAULT_ALIGNMENT;
    const gguf_kv *al = gguf_find_kv(g, "general.alignment");
    if (al) {
        if (al->type != GGUF_TYPE_UINT32)
            return aria_fail(r->err, r->err_len, ARIA_E_BAD_METADATA,
                             "KV 'general.alignment' has type %s, expected u32",
                             gguf_value_type_name(al->type));
        uint32_t a = le32(al->data);
        if (a == 0 || (a & (a - 1)) != 0)
            return aria_fail(r->err, r->err_len, ARIA_E_BAD_METADATA,
                             "KV 'general.alignment' = %u is not a power of two", a);
        g->alignment = a;
    }
    const gguf_kv *arch = gguf_find_kv(g, "general.architecture");
    if (arch && arch->type == GGUF_TYPE_STRING) {
        gguf_str s = gguf_kv_str(arch);
        /* bitnet.cpp writes I2_S (36) under every architecture it converts (its bitnet_b1_58
           and Llama3/Falcon3 files too); upstream retired 36-38, and 39 (fork TL2, upstream
           MXFP4) is refused either way. */
        g->fork_type_ids = str_is(s, "bitnet-b1.58") || str_is(s, "bitnet-25") || str_is(s, "bitnet") ||
                           str_is(s, "llama");
    }
    return ARIA_OK;
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 4, 5)))
#endif
static int bad_tensor(reader *r, int status, const gguf_tensor *t, const char *fmt, ...) {
    char pn[ARIA_NAME_BUF];
    char what[192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return aria_fail(r->err, r->err_len, status, "tensor '%s': %s",
                     aria_printable(pn, t->name.ptr, t->name.len), what);
}

static int parse_tensor_info(gguf_file *g, reader *r, gguf_tensor *t) {
    int st = read_str(r, &t->name, "tensor name", NULL);
    if (!st) st = read_u32(r, &t->n_dims, "n_dims of tensor", &t->name);
    if (st) return st;
    if (t->name.len == 0 || t->name.len > GGUF_MAX_NAME)
        return bad_tensor(r, ARIA_E_BAD_TENSOR, t, "name is %llu bytes (allowed 1..%d)",
                          (ull)t->name.len, GGUF_MAX_NAME);
    if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS)
        return bad_tensor(r, ARIA_E_BAD_TENSOR, t, "n_dims %u (allowed 1..%d)", t->n_dims,
                          GGUF_MAX_DIMS);
    uint64_t dims[GGUF_MAX_DIMS] = {1, 1, 1, 1};
    for (uint32_t d = 0; d < t->n_dims; d++) {
        st = read_u64(r, &dims[d], "dims of tensor", &t->name);
        if (st) return st;
    }
    st = read_u32(r, &t->type, "type of tensor", &t->name);
    if (!st) st = read_u64(r, &t->offset, "offset of tensor", &t->name);
    if (st) return st;

    uint64_t nel = 1;
    for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) {
        if (dims[d] == 0) return bad_tensor(r, ARIA_E_BAD_TENSOR, t, "dim %u is zero", d);
        if (dims[d] > (uint64_t)INT64_MAX / nel)
            return bad_tensor(r, ARIA_E_BAD_TENSOR, t,
                              "dims overflow: element count exceeds 2^63 at dim %u (%llu)", d,
                              (ull)dims[d]);
        nel *= dims[d];
        t->ne[d] = (int64_t)dims[d];
    }

    aria_type_traits tt;
    if (!aria_type_traits_get(t->type, g->fork_type_ids, &tt)) {
        const char *name = aria_type_name(t->type, g->fork_type_ids);
        char pn[ARIA_NAME_BUF];
        if (name)
            return aria_fail(r->err, r->err_len, ARIA_E_UNSUPPORTED,
                             "tensor '%s': type %s (%u) has no portable size and is not supported",
                             aria_printable(pn, t->name.ptr, t->name.len), name, t->type);
        const char *fork_name = aria_type_name(t->type, true);
        if (!g->fork_type_ids && fork_name) /* e.g. an I2_S file with the wrong architecture */
            return aria_fail(r->err, r->err_len, ARIA_E_UNSUPPORTED,
                             "tensor '%s': type id %u means %s only in bitnet.cpp files "
                             "(general.architecture bitnet-b1.58, bitnet-25, bitnet or llama)",
                             aria_printable(pn, t->name.ptr, t->name.len), t->type, fork_name);
        return aria_fail(r->err, r->err_len, ARIA_E_UNSUPPORTED,
                         "tensor '%s': unknown ggml type id %u",
                         aria_printable(pn, t->name.ptr, t->name.len), t->type);
    }
    if (dims[0] % tt.blck_size != 0)
        return bad_tensor(r, ARIA_E_BAD_TENSOR, t,
                          "ne0 = %llu is not a multiple of the %s block size %u", (ull)dims[0],
                          tt.name, tt.blck_size);
    uint64_t blocks = nel / tt.blck_size;
    if (blocks > (UINT64_MAX - tt.tail_bytes) / tt.type_size)
        return bad_tensor(r, ARIA_E_BAD_TENSOR, t, "byte size overflows (%llu blocks of %u bytes)",
                          (ull)blocks, tt.type_size);
    t->nbytes = blocks * tt.type_size + tt.tail_bytes;
    if (t->offset % g->alignment != 0)
        return bad_tensor(r, ARIA_E_BAD_TENSOR, t,
                          "offset %llu is not a multiple of the alignment %u", (ull)t->offset,
                          g->alignment);
    return ARIA_OK;
}

static int parse_tensors(gguf_file *g, reader *r) {
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        int st = parse_tensor_info(g, r, &g->tensors[i]);
        if (st) return st;
    }

    uint64_t pad = (g->alignment - r->pos % g->alignment) % g->alignment;
    g->data_offset = r->pos + pad; /* pos <= size and pad < 2^32: cannot wrap */
    if (g->n_tensors > 0 && g->data_offset > r->size)
        return aria_fail(r->err, r->err_len, ARIA_E_TRUNCATED,
                         "data section starts at offset %llu but the file ends at %llu",
                         (ull)g->data_offset, (ull)r->size);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        gguf_tensor *t = &g->tensors[i];
        uint64_t room = r->size - g->data_offset;
        if (t->offset > room || t->nbytes > room - t->offset) {
            char pn[ARIA_NAME_BUF];
            return aria_fail(r->err, r->err_len, ARIA_E_TRUNCATED,
                             "tensor '%s': data at offset %llu + %llu bytes passes the end of the "
                             "file (%llu bytes of data)",
                             aria_printable(pn, t->name.ptr, t->name.len), (ull)t->offset,
                             (ull)t->nbytes, (ull)room);
        }
        t->data = r->base + g->data_offset + t->offset;
        g->tensor_sorted[i] = t;
    }

    qsort(g->tensor_sorted, (size_t)g->n_tensors, sizeof *g->tensor_sorted, tensor_name_cmp);
    for (uint64_t i = 1; i < g->n_tensors; i++) {
        const gguf_tensor *t = g->tensor_sorted[i];
        if (tensor_name_cmp(&g->tensor_sorted[i - 1], &g->tensor_sorted[i]) == 0)
            return bad_tensor(r, ARIA_E_BAD_TENSOR, t, "duplicate tensor name");
    }

    /* Overlap check on a copy sorted by offset; zero-size tensors cannot exist (dims >= 1). */
    if (g->n_tensors > 1) {
        const gguf_tensor **by_off = malloc((size_t)g->n_tensors * sizeof *by_off);
        if (!by_off)
            return aria_fail(r->err, r->err_len, ARIA_E_NOMEM, "out of memory sorting %llu tensors",
                             (ull)g->n_tensors);
        memcpy(by_off, g->tensor_sorted, (size_t)g->n_tensors * sizeof *by_off);
        qsort(by_off, (size_t)g->n_tensors, sizeof *by_off, tensor_offset_cmp);
        for (uint64_t i = 1; i < g->n_tensors; i++) {
            const gguf_tensor *a = by_off[i - 1], *b = by_off[i];
            if (a->offset + a->nbytes > b->offset) { /* both ranges are inside the file */
                char pa[ARIA_NAME_BUF], pb[ARIA_NAME_BUF];
                int st = aria_fail(r->err, r->err_len, ARIA_E_BAD_TENSOR,
                                   "tensors '%s' [%llu, %llu) and '%s' [%llu, %llu) overlap",
                                   aria_printable(pa, a->name.ptr, a->name.len), (ull)a->offset,
                                   (ull)(a->offset + a->nbytes),
                                   aria_printable(pb, b->name.ptr, b->name.len), (ull)b->offset,
                                   (ull)(b->offset + b->nbytes));
                free(by_off);
                return st;
            }
        }
        free(by_off);
    }
    return ARIA_OK;
}

/* Smallest encodings: a KV is key length (8) + type (4) + a 1-byte value; a tensor info is name
   length (8) + n_dims (4) + one dim (8) + type (4) + offset (8). Counts are checked against the
   bytes left before anything is allocated for them. */
#define MIN_KV_BYTES 13
#define MIN_TENSOR_INFO_BYTES 32

static int parse_header(gguf_file *g, reader *r) {
    uint32_t magic;
    int st = read_u32(r, &magic, "GGUF magic", NULL);
    if (st) return st;
    if (magic != GGUF_MAGIC)
        return aria_fail(r->err, r->err_len, ARIA_E_BAD_MAGIC,
                         "not a GGUF file: magic 0x%08x, expected 0x%08x ('GGUF')", magic,
                         GGUF_MAGIC);
    st = read_u32(r, &g->version, "GGUF version", NULL);
    if (st) return st;
    if (g->version != 2 && g->version != 3) {
        uint32_t v = g->version;
        uint32_t swapped = (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
        return aria_fail(r->err, r->err_len, ARIA_E_BAD_VERSION,
                         "GGUF version %u is not supported (2 or 3)%s", v,
                         (swapped == 2 || swapped == 3) ? "; the file is big-endian" : "");
    }
    st = read_u64(r, &g->n_tensors, "tensor_count", NULL);
    if (!st) st = read_u64(r, &g->n_kv, "kv_count", NULL);
    if (st) return st;
    uint64_t rem = remaining(r);
    if (g->n_kv > rem / MIN_KV_BYTES || g->n_tensors > rem / MIN_TENSOR_INFO_BYTES ||
        g->n_kv * MIN_KV_BYTES > rem - g->n_tensors * MIN_TENSOR_INFO_BYTES)
        return aria_fail(r->err, r->err_len, ARIA_E_TRUNCATED,
                         "kv_count %llu and tensor_count %llu cannot fit in the %llu bytes after "
                         "the header",
                         (ull)g->n_kv, (ull)g->n_tensors, (ull)rem);
    return ARIA_OK;
}

int gguf_parse(gguf_file *g, const uint8_t *base, uint64_t size, char *err, size_t err_len) {
    memset(g, 0, sizeof *g);
    reader r = {base, size, 0, err, err_len};
    int st = parse_header(g, &r);
    if (st) return st;

    /* calloc(n, size) checks n * size for overflow; +1 keeps zero counts valid allocations. */
    g->kv = calloc((size_t)g->n_kv + 1, sizeof *g->kv);
    g->kv_sorted = calloc((size_t)g->n_kv + 1, sizeof *g->kv_sorted);
    g->tensors = calloc((size_t)g->n_tensors + 1, sizeof *g->tensors);
    g->tensor_sorted = calloc((size_t)g->n_tensors + 1, sizeof *g->tensor_sorted);
    if (!g->kv || !g->kv_sorted || !g->tensors || !g->tensor_sorted) {
        gguf_release(g);
        return aria_fail(err, err_len, ARIA_E_NOMEM, "out of memory for %llu KVs and %llu tensors",
                         (ull)g->n_kv, (ull)g->n_tensors);
    }
    st = parse_kvs(g, &r);
    if (!st) st = parse_tensors(g, &r);
    if (st) gguf_release(g);
    return st;
}

void gguf_release(gguf_file *g) {
    free(g->kv);
    free(g->kv_sorted);
    free(g->tensors);
    free(g->tensor_sorted);
    memset(g, 0, sizeof *g);
}

const gguf_kv *gguf_find_kv(const gguf_file *g, const char *key) {
    uint64_t lo = 0, hi = g->n_kv, klen = strlen(key);
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        int c = str_cmp(g->kv_sorted[mid]->key, key, klen);
        if (c == 0) return g->kv_sorted[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

const gguf_tensor *gguf_find_tensor(const gguf_file *g, const char *name) {
    uint64_t lo = 0, hi = g->n_tensors, nlen = strlen(name);
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        int c = str_cmp(g->tensor_sorted[mid]->name, name, nlen);
        if (c == 0) return g->tensor_sorted[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}
