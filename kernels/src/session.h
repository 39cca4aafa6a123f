/* One sequence's state for a contiguous range of layers: a shard with one sequence slot. */
#ifndef ARIA_SESSION_H
#define ARIA_SESSION_H

#include <stdint.h>

#include "shard.h"

struct aria_session {
    aria_shard *shard; /* n_seq_max = 1 */
    int32_t seq;       /* its one open sequence */
    int32_t n_ctx;
};

#endif
