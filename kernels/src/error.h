/* Error reporting shared by every loader step: a status plus a one-line message. */
#ifndef ARIA_ERROR_H
#define ARIA_ERROR_H

#include <stddef.h>
#include <stdint.h>

/* Writes the formatted message into err (if err && err_len) and returns status, so call sites
   read `return aria_fail(err, err_len, ARIA_E_X, "...", ...);`. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 4, 5)))
#endif
int aria_fail(char *err, size_t err_len, int status, const char *fmt, ...);

/* Clears err to "" (used on success). */
void aria_err_clear(char *err, size_t err_len);

/* Copies a length-delimited byte string from the file into out (size ARIA_NAME_BUF) for use in
   a message: truncated with "...", bytes outside printable ASCII replaced by '?', so a corrupt
   name can never break the one-line message. Returns out. */
#define ARIA_NAME_BUF 96
const char *aria_printable(char out[ARIA_NAME_BUF], const char *s, uint64_t len);

#endif
