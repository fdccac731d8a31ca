/* Record kinds (records.h): their names. */
#include "records.h"

const char *rw_kind_name(int kind)
{
    switch (kind) {
    case RW_K_CALL: return "call";
    case RW_K_LINE: return "line";
    case RW_K_RETURN: return "return";
    case RW_K_EXCEPTION: return "exception";
    case RW_K_C_CALL: return "c_call";
    case RW_K_C_RETURN: return "c_return";
    case RW_K_C_EXCEPTION: return "c_exception";
    case RW_K_ALLOC_RAW: return "alloc_raw";
    case RW_K_ALLOC_MEM: return "alloc_mem";
    case RW_K_ALLOC_OBJ: return "alloc_obj";
    case RW_K_FREE_RAW: return "free_raw";
    case RW_K_FREE_MEM: return "free_mem";
    case RW_K_FREE_OBJ: return "free_obj";
    case RW_K_THREAD: return "thread";
    case RW_K_AUDIT: return "audit";
    case RW_K_UNCAUGHT: return "uncaught";
    case RW_K_GEN: return "gen";
    case RW_K_STARTUP_REUSE: return "startup_reuse";
    case RW_K_DROP: return "drop";
    case RW_K_BLOB: return "blob";
    }
    return "?";
}
