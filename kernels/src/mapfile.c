/* The model file's bytes in memory, read-only.

   Preferred: read into anonymous memory advised for transparent huge pages. Decode streams
   every weight once per token, and with 4 KiB page-cache pages the TLB misses (two-level page
   walks under virtualization) cost more than the arithmetic: on the reference 2-core VM a
   2B-4T decode ran 1.9 tok/s from an mmap'ed file and 14 tok/s from huge-page-backed memory
   (1 thread; bench/bench_forward.c). Fallback, when that memory cannot be had: mmap the file
   (pages shared with the page cache, loaded on demand). */
#define _GNU_SOURCE
#include "mapfile.h"

#include <errno.h>
#include <stdlib.h>
#include <stdbool.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aria.h"
#include "error.h"

#define HUGE_PAGE (2u << 20)

/* Anonymous copy of the file (size rounded up to whole huge pages), read-only once filled.
   false (nothing left allocated) if memory is short or the read fails: the caller mmaps. */
static bool read_into_huge_pages(int fd, uint64_t size, aria_map *out) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (size > (uint64_t)SIZE_MAX - HUGE_PAGE) return false;
    const size_t len = (size_t)((size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE);
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return false;
    (void)madvise(p, len, MADV_HUGEPAGE); /* advice only: still correct without THP */
    for (uint64_t off = 0; off < size;) {
        const size_t want = size - off > (1u << 30) ? (1u << 30) : (size_t)(size - off);
        ssize_t r = pread(fd, (char *)p + off, want, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            munmap(p, len);
            return false;
        }
        off += (uint64_t)r;
    }
    if (mprotect(p, len, PROT_READ) != 0) {
        munmap(p, len);
        return false;
    }
    out->data = p;
    out->size = size;
    out->alloc_len = len;
    return true;
#else
    (void)fd, (void)size, (void)out;
    return false;
#endif
}

static int map_open(const char *path, bool copy, aria_map *out, char *err, size_t err_len) {
    out->data = NULL;
    out->size = 0;
    out->alloc_len = 0;
    out->has_fd = false;
    out->fd = -1;
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
    if (size > 0 && copy && read_into_huge_pages(fd, size, out)) {
        close(fd);
        return ARIA_OK;
    }
    if (size > 0) {
        void *p = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            return aria_fail(err, err_len, ARIA_E_IO, "mmap '%s' (%llu bytes): %s", path,
                             (unsigned long long)size, strerror(e));
        }
        out->data = p;
#if defined(__linux__) && defined(MADV_NOHUGEPAGE)
        /* A lazy (range) load reads a few bytes of every tensor and lets pages go as it is done
           with them: page-cache huge pages mapped whole would make each small read resident
           2 MB at a time and could not be let go in part. Advice only. */
        if (!copy) (void)madvise(p, (size_t)size, MADV_NOHUGEPAGE);
#endif
    }
    if (!copy && out->data) { /* range loads copy through it (aria_map_read) */
        out->fd = fd;
        out->has_fd = true;
    } else {
        close(fd); /* the mapping keeps the file referenced */
    }
    out->size = size;
    return ARIA_OK;
}

int aria_map_open(const char *path, aria_map *out, char *err, size_t err_len) {
    return map_open(path, true, out, err, err_len);
}

int aria_map_open_lazy(const char *path, aria_map *out, char *err, size_t err_len) {
    return map_open(path, false, out, err, err_len);
}

void aria_map_release(const aria_map *map, const void *p, uint64_t len) {
    if (!map->data || map->alloc_len || len == 0) return;
    const uintptr_t lo = (uintptr_t)map->data, hi = lo + (uintptr_t)map->size;
    uintptr_t a = (uintptr_t)p, b = a + (uintptr_t)len;
    if (a < lo || b > hi) return;
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    a = (a + page - 1) / page * page; /* whole pages only: a neighbour may still be needed */
    b = b / page * page;
    if (b > a) (void)madvise((void *)a, (size_t)(b - a), MADV_DONTNEED); /* advice: RSS only */
}

void aria_map_read(const aria_map *map, const void *p, uint64_t len, void *dst) {
    const uint8_t *src = p;
    uint64_t done = 0;
    if (map->has_fd && map->data && src >= map->data && src + len <= map->data + map->size) {
        const uint64_t off = (uint64_t)(src - map->data);
        while (done < len) {
            const size_t want = len - done > (1u << 30) ? (1u << 30) : (size_t)(len - done);
            const ssize_t r = pread(map->fd, (uint8_t *)dst + done, want, (off_t)(off + done));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break; /* the rest through the mapping */
            done += (uint64_t)r;
        }
    }
    if (done < len) memcpy((uint8_t *)dst + done, src + done, (size_t)(len - done));
}

void aria_map_close(aria_map *map) {
    if (map->has_fd) close(map->fd);
    map->has_fd = false;
    if (map->data)
        munmap((void *)(uintptr_t)map->data, map->alloc_len ? map->alloc_len : (size_t)map->size);
    map->data = NULL;
    map->size = 0;
    map->alloc_len = 0;
}

void *aria_malloc_huge(size_t bytes) {
    void *p = NULL;
    if (bytes == 0 || posix_memalign(&p, HUGE_PAGE, bytes) != 0) return NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    (void)madvise(p, bytes, MADV_HUGEPAGE); /* advice only */
#endif
    return p;
}
