/* Test-side GGUF writer; see gguf_writer.h. */
#include "gguf_writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "gguf.h"

void gw_put(gw_buf *b, const void *src, size_t n) {
    if (b->oom) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, src, n);
    b->len += n;
}

void gw_u8(gw_buf *b, uint8_t v) { gw_put(b, &v, 1); }
void gw_u32(gw_buf *b, uint32_t v) { gw_put(b, &v, 4); }
void gw_u64(gw_buf *b, uint64_t v) { gw_put(b, &v, 8); }
void gw_f32(gw_buf *b, float v) { gw_put(b, &v, 4); }
void gw_str(gw_buf *b, const char *s) {
    gw_u64(b, strlen(s));
    gw_put(b, s, strlen(s));
}

void gw_init(gw_file *f) {
    memset(f, 0, sizeof *f);
    f->version = 3;
    f->alignment = 32;
}

void gw_free(gw_file *f) {
    for (size_t i = 0; i < f->n_kv; i++) free(f->kv[i].value.p);
    for (size_t i = 0; i < f->n_t; i++) free(f->t[i].data);
    memset(f, 0, sizeof *f);
}

bool gw_clone(gw_file *dst, const gw_file *src) {
    *dst = *src;
    bool ok = true;
    for (size_t i = 0; i < dst->n_kv; i++) {
        gw_buf b = {0};
        gw_put(&b, src->kv[i].value.p, src->kv[i].value.len);
        ok = ok && !b.oom;
        dst->kv[i].value = b;
    }
    for (size_t i = 0; i < dst->n_t; i++) {
        dst->t[i].data = malloc(src->t[i].data_len ? src->t[i].data_len : 1);
        if (dst->t[i].data) memcpy(dst->t[i].data, src->t[i].data, src->t[i].data_len);
        else ok = false;
    }
    return ok;
}

int gw_find_kv(const gw_file *f, const char *key) {
    for (size_t i = 0; i < f->n_kv; i++)
        if (strcmp(f->kv[i].key, key) == 0) return (int)i;
    return -1;
}

gw_kv *gw_set(gw_file *f, const char *key, uint32_t type) {
    int i = gw_find_kv(f, key);
    gw_kv *kv;
    if (i >= 0) {
        kv = &f->kv[i];
        kv->value.len = 0;
    } else {
        if (f->n_kv == GW_MAX_KV) return NULL;
        kv = &f->kv[f->n_kv++];
        memset(kv, 0, sizeof *kv);
        snprintf(kv->key, sizeof kv->key, "%s", key);
    }
    kv->type = type;
    return kv;
}

void gw_set_u32(gw_file *f, const char *key, uint32_t v) { gw_u32(&gw_set(f, key, GGUF_TYPE_UINT32)->value, v); }
void gw_set_f32(gw_file *f, const char *key, float v) { gw_f32(&gw_set(f, key, GGUF_TYPE_FLOAT32)->value, v); }
void gw_set_str(gw_file *f, const char *key, const char *v) { gw_str(&gw_set(f, key, GGUF_TYPE_STRING)->value, v); }

bool gw_del_kv(gw_file *f, const char *key) {
    int i = gw_find_kv(f, key);
    if (i < 0) return false;
    free(f->kv[i].value.p);
    memmove(&f->kv[i], &f->kv[i + 1], (f->n_kv - (size_t)i - 1) * sizeof f->kv[0]);
    f->n_kv--;
    return true;
}

gw_tensor *gw_add_tensor(gw_file *f, const char *name, uint32_t n_dims, const uint64_t *ne,
                         uint32_t type, const void *data, size_t data_len) {
    if (f->n_t == GW_MAX_TENSORS) return NULL;
    gw_tensor *t = &f->t[f->n_t];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->n_dims = n_dims;
    for (int d = 0; d < 4; d++) t->ne[d] = d < (int)n_dims ? ne[d] : 1;
    t->type = type;
    t->data = malloc(data_len ? data_len : 1);
    if (!t->data) return NULL;
    if (data_len) memcpy(t->data, data, data_len);
    t->data_len = data_len;
    f->n_t++;
    return t;
}

gw_tensor *gw_find_tensor(gw_file *f, const char *name) {
    for (size_t i = 0; i < f->n_t; i++)
        if (strcmp(f->t[i].name, name) == 0) return &f->t[i];
    return NULL;
}

bool gw_del_tensor(gw_file *f, const char *name) {
    gw_tensor *t = gw_find_tensor(f, name);
    if (!t) return false;
    size_t i = (size_t)(t - f->t);
    free(t->data);
    memmove(&f->t[i], &f->t[i + 1], (f->n_t - i - 1) * sizeof f->t[0]);
    f->n_t--;
    return true;
}

uint64_t gw_tensor_nbytes(const gw_tensor *t) {
    aria_type_traits tt;
    uint64_t nel = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
    /* Fork ids so I2_S (36) can be written; other unknown ids fall back to one byte each. */
    if (!aria_type_traits_get(t->type, true, &tt)) return nel;
    return nel / tt.blck_size * tt.type_size + tt.tail_bytes;
}

static size_t pad_to(gw_buf *b, uint32_t alignment) {
    static const uint8_t zeros[64];
    while (b->len % alignment) {
        size_t n = alignment - b->len % alignment;
        gw_put(b, zeros, n < sizeof zeros ? n : sizeof zeros);
        if (b->oom) break;
    }
    return b->len;
}

uint8_t *gw_serialize(const gw_file *f, size_t *len, gw_layout *lay) {
    gw_layout local;
    if (!lay) lay = &local;
    memset(lay, 0, sizeof *lay);
    gw_buf b = {0};
    gw_u32(&b, GGUF_MAGIC);
    lay->version = b.len;
    gw_u32(&b, f->version);
    lay->tensor_count = b.len;
    gw_u64(&b, f->n_t);
    lay->kv_count = b.len;
    gw_u64(&b, f->n_kv);
    for (size_t i = 0; i < f->n_kv; i++) {
        lay->kv_key[i] = b.len;
        gw_str(&b, f->kv[i].key);
        lay->kv_type[i] = b.len;
        gw_u32(&b, f->kv[i].type);
        lay->kv_value[i] = b.len;
        gw_put(&b, f->kv[i].value.p, f->kv[i].value.len);
    }
    uint64_t off = 0;
    for (size_t i = 0; i < f->n_t; i++) {
        const gw_tensor *t = &f->t[i];
        lay->t_name[i] = b.len;
        gw_str(&b, t->name);
        lay->t_ndims[i] = b.len;
        gw_u32(&b, t->n_dims);
        lay->t_dims[i] = b.len;
        for (uint32_t d = 0; d < t->n_dims && d < 4; d++) gw_u64(&b, t->ne[d]);
        lay->t_type[i] = b.len;
        gw_u32(&b, t->type);
        lay->t_offset[i] = b.len;
        lay->t_rel_offset[i] = off;
        gw_u64(&b, off);
        off += gw_tensor_nbytes(t);
        off = (off + f->alignment - 1) / f->alignment * f->alignment;
    }
    lay->data_start = pad_to(&b, f->alignment);
    for (size_t i = 0; i < f->n_t; i++) {
        const gw_tensor *t = &f->t[i];
        if (i > 0) pad_to(&b, f->alignment);
        uint64_t nb = gw_tensor_nbytes(t);
        size_t have = t->data_len < nb ? t->data_len : (size_t)nb;
        gw_put(&b, t->data, have);
        for (uint64_t k = have; k < nb && !b.oom; k++) gw_u8(&b, 0);
    }
    lay->data_end = b.len;
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}
