/* C test program for libaria: kernels, the tiny-model forward pass, and a corrupt-GGUF corpus.
   The last line of output is "N passed, N failed"; the exit status is non-zero on failure. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

int test_passed, test_failed;

char *test_write_temp(const void *bytes, size_t len) {
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    size_t n = strlen(dir) + 32;
    char *path = malloc(n);
    if (!path) return NULL;
    snprintf(path, n, "%s/aria-test-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        free(path);
        return NULL;
    }
    close(fd);
    if (test_rewrite(path, bytes, len) != 0) {
        unlink(path);
        free(path);
        return NULL;
    }
    return path;
}

int test_rewrite(const char *path, const void *bytes, size_t len) {
    int fd = open(path, O_WRONLY | O_TRUNC | O_CREAT, 0600);
    if (fd < 0) return -1;
    const char *p = bytes;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return close(fd);
}

int main(void) {
    test_kernels();
    test_formats();
    test_model();
    test_corpus();
    test_engine();
    printf("%d passed, %d failed\n", test_passed, test_failed);
    return test_failed ? 1 : 0;
}
