/* Read-only memory map of a whole file. */
#ifndef ARIA_MAPFILE_H
#define ARIA_MAPFILE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const uint8_t *data; /* NULL when size == 0 (nothing to map) */
    uint64_t size;
} aria_map;

/* Maps path read-only (MAP_PRIVATE). ARIA_E_IO with a message on failure. */
int aria_map_open(const char *path, aria_map *out, char *err, size_t err_len);
/* Unmaps; safe on a zeroed map. */
void aria_map_close(aria_map *map);

#endif
