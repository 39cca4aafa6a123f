/*
 * gguf.h - GGUF v2/v3 reader over a memory-mapped file (docs/bitnet-format.md §2.1).
 *
 * gguf_parse validates the whole container before anything uses it: every read is bounds-checked
 * with overflow-safe arithmetic, every KV value (nested arrays included) is walked, and every
 * tensor's dims, type, alignment and byte range are checked (inside the file, no overlaps).
 * Strings and tensor data point into the map; the tables are heap-allocated.
 */
#ifndef ARIA_GGUF_H
#define ARIA_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GGUF_MAGIC 0x46554747u /* "GGUF" read as little-endian u32 */
#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MAX_DIMS 4
#define GGUF_MAX_NAME 63       /* ggml's GGML_MAX_NAME (64) minus the NUL */
#define GGUF_MAX_ARRAY_DEPTH 8 /* arrays of arrays nest at most this deep */

enum gguf_value_type {
    GGUF_TYPE_UINT8 = 0,
    GGUF_TYPE_INT8 = 1,
    GGUF_TYPE_UINT16 = 2,
    GGUF_TYPE_INT16 = 3,
    GGUF_TYPE_UINT32 = 4,
    GGUF_TYPE_INT32 = 5,
    GGUF_TYPE_FLOAT32 = 6,
    GGUF_TYPE_BOOL = 7,
    GGUF_TYPE_STRING = 8,
    GGUF_TYPE_ARRAY = 9,
    GGUF_TYPE_UINT64 = 10,
    GGUF_TYPE_INT64 = 11,
    GGUF_TYPE_FLOAT64 = 12,
    GGUF_TYPE_COUNT
};

/* A length-delimited string inside the map (not NUL-terminated). */
typedef struct {
    const char *ptr;
    uint64_t len;
} gguf_str;

typedef struct {
    gguf_str key;
    uint32_t type;       /* gguf_value_type */
    const uint8_t *data; /* scalar: the value bytes; string: the u64 length; array: 1st element */
    uint32_t arr_type;   /* arrays only: element type */
    uint64_t arr_n;      /* arrays only: element count */
} gguf_kv;

typedef struct {
    gguf_str name;
    uint32_t n_dims;
    int64_t ne[GGUF_MAX_DIMS]; /* ne[0] innermost; unused dims are 1 */
    uint32_t type;             /* ggml type id */
    uint64_t offset;           /* relative to the data section */
    uint64_t nbytes;
    const uint8_t *data; /* base + data_offset + offset */
} gguf_tensor;

typedef struct {
    uint32_t version;
    uint32_t alignment;
    bool fork_type_ids; /* general.architecture is a bitnet.cpp-fork arch (formats.h) */
    uint64_t data_offset;
    uint64_t n_kv;
    gguf_kv *kv;
    uint64_t n_tensors;
    gguf_tensor *tensors;
    const gguf_kv **kv_sorted;         /* by key, for lookup */
    const gguf_tensor **tensor_sorted; /* by name, for lookup */
} gguf_file;

/* Parses and validates base[0, size). On failure g is released and err says what and where. */
int gguf_parse(gguf_file *g, const uint8_t *base, uint64_t size, char *err, size_t err_len);
void gguf_release(gguf_file *g);

const gguf_kv *gguf_find_kv(const gguf_file *g, const char *key);
const gguf_tensor *gguf_find_tensor(const gguf_file *g, const char *name);

/* Byte size of a fixed-size value type; 0 for strings, arrays and unknown types. */
size_t gguf_value_size(uint32_t type);
const char *gguf_value_type_name(uint32_t type);
/* The string value of a GGUF_TYPE_STRING kv. */
gguf_str gguf_kv_str(const gguf_kv *kv);

#endif
