/* A whole file's bytes in memory, read-only (mapfile.c: a huge-page-backed copy, else mmap). */
#ifndef ARIA_MAPFILE_H
#define ARIA_MAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const uint8_t *data; /* NULL when size == 0 (nothing to map) */
    uint64_t size;
    size_t alloc_len; /* > 0: an anonymous copy of this many bytes; 0: a file mapping */
    bool has_fd;      /* a lazy mapping keeps its file open for aria_map_read (a zeroed map: no) */
    int fd;
} aria_map;

/* Loads path read-only: into huge-page-advised anonymous memory, or, if that fails, as a
   MAP_PRIVATE file mapping. ARIA_E_IO with a message on failure. */
int aria_map_open(const char *path, aria_map *out, char *err, size_t err_len);
/* Maps path read-only as a MAP_PRIVATE file mapping, without copying: only the pages read become
   resident (a range load reads the header and its own tensors). ARIA_E_IO on failure. */
int aria_map_open_lazy(const char *path, aria_map *out, char *err, size_t err_len);
/* malloc for a large buffer that is streamed (weights): 2 MiB aligned and advised for
   transparent huge pages (see mapfile.c); release it with free(). NULL when out of memory. */
void *aria_malloc_huge(size_t bytes);

/* A file mapping's pages of [p, p + len) (those wholly inside) leave this process's resident
   memory: a range load calls it on what it has copied or converted, so its peak RSS is what it
   keeps plus one tensor in flight, not also every mapped page it read. Reading them again later
   is still correct (the file is read anew). No effect on an anonymous copy or outside the map. */
void aria_map_release(const aria_map *map, const void *p, uint64_t len);

/* Copies [p, p + len) of a lazy file mapping into dst by reading the file (pread), so the pages
   never become part of this process's resident memory; from the mapping itself when that is not
   possible. */
void aria_map_read(const aria_map *map, const void *p, uint64_t len, void *dst);

/* Unmaps (and closes a lazy mapping's file); safe on a zeroed map. */
void aria_map_close(aria_map *map);

#endif
