/* The loaded model: hyperparameters, tensors bound in the map, f32 copies of the norms. */
#ifndef ARIA_MODEL_H
#define ARIA_MODEL_H

#include <stdint.h>

#include "aria.h"
#include "mapfile.h"
#include "ops.h"

/* Sane upper bounds for hyperparameters: far above any BitNet model, low enough that every size
   derived from them fits comfortably in int64 and int32 indices. */
#define ARIA_MAX_EMBD 65536
#define ARIA_MAX_LAYER 1024
#define ARIA_MAX_HEAD 1024
#define ARIA_MAX_FF 262144
#define ARIA_MAX_CTX (1 << 24)
#define ARIA_MAX_VOCAB (1 << 22)

typedef struct {
    int32_t arch; /* aria_arch */
    int32_t act;  /* aria_act */
    /* RoPE pairs: dims (i, i + rope_dims/2) (NeoX, the BitNet archs) or (2i, 2i + 1) (llama). */
    bool rope_interleaved;
    int32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_ctx_train;
    int32_t rope_dims; /* leading dims of each head that RoPE rotates (even, <= head_dim) */
    float rope_base;
    float eps;
} aria_hparams;

typedef struct {
    float *attn_norm;     /* [n_embd] */
    float *attn_sub_norm; /* [n_embd], before attn_output; NULL for llama (no sub-norms) */
    float *ffn_norm;      /* [n_embd] */
    float *ffn_sub_norm;  /* [n_ff], before ffn_down; NULL for llama */
    /* BitLinear weights, [n_out][n_in] */
    aria_matrix wq;   /* [n_embd][n_embd] */
    aria_matrix wk;   /* [kv_dim][n_embd] */
    aria_matrix wv;   /* [kv_dim][n_embd] */
    aria_matrix wo;   /* [n_embd][n_embd] */
    aria_matrix gate; /* [n_ff][n_embd] */
    aria_matrix up;   /* [n_ff][n_embd] */
    aria_matrix down; /* [n_embd][n_ff] */
} aria_layer;

struct aria_model {
    aria_map map;
    aria_hparams hp;
    aria_matrix token_embd; /* [n_vocab][n_embd] F32/F16/BF16/Q8_0 */
    aria_matrix output;     /* [n_vocab][n_embd], output.weight or token_embd (tied); or the
                               head_q8 copy (ARIA_HEAD_Q8_0) */
    float *output_norm;     /* [n_embd] */
    aria_layer *layers;     /* [n_layer] */
    float *rope_inv_freq;   /* [rope_dims/2]: base^(-2i/rope_dims) */
    float *norms;           /* one allocation behind every norm pointer above */
    uint8_t *head_q8;       /* [n_vocab] rows of n_embd / 32 Q8_0 blocks in the x8 layout
                               (kernels.h): the ARIA_HEAD_Q8_0 copy, or NULL */
    /* The layers loaded ([0, n_layer) unless range-loaded), and whether the embedding (first
       stage) and the final norm and head (last stage) are. Matrices not loaded have data NULL. */
    int32_t layer_begin, layer_end;
    bool has_embd, has_head;
    /* The loaded tensors' bytes, copied out of the file (then the file is unmapped), or NULL
       when they are read from the file mapping (map) instead. */
    uint8_t *weights;
    uint64_t heap_bytes;
    /* Kernel tier (cpu.h) the matrices' kernel pointers were bound for, and its f32
       primitives; set by aria_model_bind_kernels (tier.c) at the end of loading. */
    int32_t tier;
    const aria_vec_ops *vec;
};

/* Binds every matrix's kernels (and model->vec) for tier. Returns false if a matrix type has
   no kernels at that tier (cannot happen for a model that loaded). */
bool aria_model_bind_kernels(aria_model *m, int32_t tier);

#endif
