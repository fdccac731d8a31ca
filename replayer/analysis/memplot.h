/* Plot of the memory timeline (memory.h, rw_mem_get_timeline) for `rewind memory
 * --plot`. */
#ifndef RW_MEMPLOT_H
#define RW_MEMPLOT_H

#include "memory.h"

/* Writes t as a standalone SVG document (800x360, one polyline of each bucket's
 * highest memory) to the new file path, with title above it (escaped for XML).
 * Errors: RW_EIO naming path. */
rw_code rw_mem_plot_svg(const char *path, const rw_mem_timeline *t, const char *title,
                        rw_err *err);

#endif
