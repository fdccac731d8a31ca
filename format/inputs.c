/* Input records (inputs.h): the names of the calls. */
#include "inputs.h"

const char *rw_call_name(uint32_t call)
{
    switch (call) {
#define RW_CALL_CASE(name, num, str) \
    case num:                        \
        return str;
        RW_CALLS(RW_CALL_CASE)
#undef RW_CALL_CASE
    default:
        return NULL;
    }
}
