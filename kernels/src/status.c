/* Status names, error-message formatting, and the numerics version. */
#include <stdarg.h>
#include <stdio.h>

#include "aria.h"
#include "error.h"

const char *aria_status_name(int status) {
    switch (status) {
    case ARIA_OK: return "ARIA_OK";
    case ARIA_E_INVALID_ARG: return "ARIA_E_INVALID_ARG";
    case ARIA_E_IO: return "ARIA_E_IO";
    case ARIA_E_BAD_MAGIC: return "ARIA_E_BAD_MAGIC";
    case ARIA_E_BAD_VERSION: return "ARIA_E_BAD_VERSION";
    case ARIA_E_TRUNCATED: return "ARIA_E_TRUNCATED";
    case ARIA_E_BAD_METADATA: return "ARIA_E_BAD_METADATA";
    case ARIA_E_BAD_TENSOR: return "ARIA_E_BAD_TENSOR";
    case ARIA_E_MISSING_TENSOR: return "ARIA_E_MISSING_TENSOR";
    case ARIA_E_UNSUPPORTED: return "ARIA_E_UNSUPPORTED";
    case ARIA_E_NOMEM: return "ARIA_E_NOMEM";
    case ARIA_E_RANGE: return "ARIA_E_RANGE";
    case ARIA_E_NOT_LOADED: return "ARIA_E_NOT_LOADED";
    default: return "ARIA_E_UNKNOWN";
    }
}

int aria_fail(char *err, size_t err_len, int status, const char *fmt, ...) {
    if (err && err_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
        if (n < 0) err[0] = '\0';
    }
    return status;
}

void aria_err_clear(char *err, size_t err_len) {
    if (err && err_len > 0) err[0] = '\0';
}

const char *aria_printable(char out[ARIA_NAME_BUF], const char *s, uint64_t len) {
    const uint64_t keep = ARIA_NAME_BUF - 4; /* room for "..." and NUL */
    uint64_t n = len < keep ? len : keep;
    for (uint64_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (n < len) {
        out[n++] = '.';
        out[n++] = '.';
        out[n++] = '.';
    }
    out[n] = '\0';
    return out;
}

uint32_t aria_numerics_version(void) { return ARIA_NUMERICS_VERSION; }
