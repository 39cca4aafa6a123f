/* Minimal test harness: CHECK counts one passed/failed check and explains failures. */
#ifndef ARIA_TEST_H
#define ARIA_TEST_H

#include <stdio.h>

extern int test_passed, test_failed;

#define CHECK(cond, ...)                                                          \
    do {                                                                          \
        if (cond) {                                                               \
            test_passed++;                                                        \
        } else {                                                                  \
            test_failed++;                                                        \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);       \
            fprintf(stderr, __VA_ARGS__);                                         \
            fputc('\n', stderr);                                                  \
        }                                                                         \
    } while (0)

/* Suites (one per file). */
void test_kernels(void);
void test_model(void);
void test_corpus(void);
void test_engine(void);
void test_formats(void);

/* Writes bytes to a fresh temporary file and returns its path (static buffer per call site
   is not needed: the caller owns the returned malloc'd string and unlinks it). */
char *test_write_temp(const void *bytes, size_t len);
/* Rewrites an existing path with bytes. Returns 0 on success. */
int test_rewrite(const char *path, const void *bytes, size_t len);

#endif
