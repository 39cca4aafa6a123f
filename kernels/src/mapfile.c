/* mmap of the model file: the weights are used in place and paged in by the OS on demand. */
#define _GNU_SOURCE
#include "mapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aria.h"
#include "error.h"

int aria_map_open(const char *path, aria_map *out, char *err, size_t err_len) {
    out->data = NULL;
    out->size = 0;
    int fd;
    do {
        fd = open(path, O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return aria_fail(err, err_len, ARIA_E_IO, "open '%s': %s", path, strerror(errno));

    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return aria_fail(err, err_len, ARIA_E_IO, "stat '%s': %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return aria_fail(err, err_len, ARIA_E_IO, "'%s' is not a regular file", path);
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > (uint64_t)SIZE_MAX) {
        close(fd);
        return aria_fail(err, err_len, ARIA_E_IO, "'%s' is too large to map", path);
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size > 0) {
        void *p = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            return aria_fail(err, err_len, ARIA_E_IO, "mmap '%s' (%llu bytes): %s", path,
                             (unsigned long long)size, strerror(e));
        }
        out->data = p;
    }
    close(fd); /* the mapping keeps the file referenced */
    out->size = size;
    return ARIA_OK;
}

void aria_map_close(aria_map *map) {
    if (map->data) munmap((void *)(uintptr_t)map->data, (size_t)map->size);
    map->data = NULL;
    map->size = 0;
}
