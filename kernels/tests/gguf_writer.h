/* Test-side GGUF writer: an editable in-memory description (KVs, tensors) serialized into a
   byte buffer, plus the offsets of every header field so tests can corrupt them. */
#ifndef ARIA_TEST_GGUF_WRITER_H
#define ARIA_TEST_GGUF_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *p;
    size_t len, cap;
    bool oom;
} gw_buf;

void gw_put(gw_buf *b, const void *src, size_t n);
void gw_u8(gw_buf *b, uint8_t v);
void gw_u32(gw_buf *b, uint32_t v);
void gw_u64(gw_buf *b, uint64_t v);
void gw_f32(gw_buf *b, float v);
void gw_str(gw_buf *b, const char *s);

typedef struct {
    char key[128];
    uint32_t type; /* gguf value type */
    gw_buf value;  /* serialized value (for arrays: elem type, count, elements) */
} gw_kv;

typedef struct {
    char name[128];
    uint32_t n_dims;
    uint64_t ne[4];
    uint32_t type;
    uint8_t *data; /* owned; zero-padded / cut to the type's byte size when written */
    size_t data_len;
} gw_tensor;

#define GW_MAX_KV 64
#define GW_MAX_TENSORS 160

typedef struct {
    uint32_t version;
    gw_kv kv[GW_MAX_KV];
    size_t n_kv;
    gw_tensor t[GW_MAX_TENSORS];
    size_t n_t;
    uint32_t alignment; /* used for layout; write general.alignment yourself to change it */
} gw_file;

/* Offsets in the serialized bytes. */
typedef struct {
    size_t version, tensor_count, kv_count;
    size_t kv_key[GW_MAX_KV];   /* the key's u64 length */
    size_t kv_type[GW_MAX_KV];  /* the value type u32 */
    size_t kv_value[GW_MAX_KV]; /* the value */
    size_t t_name[GW_MAX_TENSORS], t_ndims[GW_MAX_TENSORS], t_dims[GW_MAX_TENSORS];
    size_t t_type[GW_MAX_TENSORS], t_offset[GW_MAX_TENSORS];
    uint64_t t_rel_offset[GW_MAX_TENSORS]; /* value written into the offset field */
    size_t data_start, data_end;
} gw_layout;

void gw_init(gw_file *f);
void gw_free(gw_file *f);
/* Deep copy (tensor data duplicated). Returns false on allocation failure. */
bool gw_clone(gw_file *dst, const gw_file *src);

/* KVs: set replaces an existing key in place, else appends. */
gw_kv *gw_set(gw_file *f, const char *key, uint32_t type);
void gw_set_u32(gw_file *f, const char *key, uint32_t v);
void gw_set_f32(gw_file *f, const char *key, float v);
void gw_set_str(gw_file *f, const char *key, const char *v);
bool gw_del_kv(gw_file *f, const char *key);
int gw_find_kv(const gw_file *f, const char *key);

/* Tensors: data is copied. */
gw_tensor *gw_add_tensor(gw_file *f, const char *name, uint32_t n_dims, const uint64_t *ne,
                         uint32_t type, const void *data, size_t data_len);
gw_tensor *gw_find_tensor(gw_file *f, const char *name);
bool gw_del_tensor(gw_file *f, const char *name);
/* Byte size of a tensor as the writer lays it out. */
uint64_t gw_tensor_nbytes(const gw_tensor *t);

/* Serializes with sequential, aligned offsets (no padding after the last tensor).
   Returns a malloc'd buffer (NULL on allocation failure). */
uint8_t *gw_serialize(const gw_file *f, size_t *len, gw_layout *layout);

#endif
