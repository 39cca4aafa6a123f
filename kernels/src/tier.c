/* Kernel binding per tier: aria_model_bind_kernels, aria_set_kernel_tier. */
#include "cpu.h"
#include "model.h"

static bool bind_matrix(aria_matrix *w, int32_t tier) {
    if (!w->data) return true; /* absent (never for a loaded model) */
    aria_type_kernels k;
    uint32_t key = w->type;
    if (w->row_sum)
        key = w->type == ARIA_TYPE_TQ2_0 ? ARIA_KERNELS_TQ2_0_ROW_SUM : ARIA_KERNELS_TQ1_0_ROW_SUM;
    if (w->x8) key = ARIA_KERNELS_Q8_0_X8;
    if (!aria_kernels_for(key, tier, &k)) return false;
    w->dot_i8 = k.dot_i8;
    w->gemm_i8 = k.gemm_i8;
    w->dot_f32 = k.dot_f32;
    w->gemm_f32 = k.gemm_f32;
    w->dot_q8 = k.dot_q8;
    w->gemm_q8 = aria_gemm_q8_for(key, tier);
    return true;
}

bool aria_model_bind_kernels(aria_model *m, int32_t tier) {
    bool ok = bind_matrix(&m->token_embd, tier) && bind_matrix(&m->output, tier);
    for (int32_t il = 0; il < m->hp.n_layer && ok; il++) {
        aria_layer *L = &m->layers[il];
        aria_matrix *ws[7] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->gate, &L->up, &L->down};
        for (int k = 0; k < 7 && ok; k++) ok = bind_matrix(ws[k], tier);
    }
    m->tier = tier;
    m->vec = aria_vec_ops_for(tier);
    return ok;
}

int aria_set_kernel_tier(aria_model *model, int32_t tier) {
    if (!model || (tier != ARIA_TIER_REF && tier != ARIA_TIER_BEST)) return ARIA_E_INVALID_ARG;
    return aria_model_bind_kernels(model, tier) ? ARIA_OK : ARIA_E_UNSUPPORTED;
}
