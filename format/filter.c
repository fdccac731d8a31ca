/* Line filters (filter.h): validity, lookup and folding. The hash and rw_filter_add
 * are inline in filter.h. */
#include "filter.h"

int rw_filter_valid(size_t len)
{
    return len >= RW_FILTER_MIN && len <= RW_FILTER_MAX && (len & (len - 1)) == 0;
}

int rw_filter_may_have(const uint8_t *filter, size_t len, uint32_t code, uint32_t line)
{
    if (!filter || !rw_filter_valid(len))
        return 1;
    uint64_t h = rw_filter_hash(code, line);
    for (int i = 0; i < RW_FILTER_PROBES; i++, h >>= 21) {
        uint32_t bit = (uint32_t)h & (uint32_t)(len * 8 - 1);
        if (!(filter[bit >> 3] & (1u << (bit & 7))))
            return 0;
    }
    return 1;
}

size_t rw_filter_fold(uint8_t *f)
{
    size_t len = RW_FILTER_MAX;
    while (len > RW_FILTER_MIN) {
        size_t half = len / 2, ones = 0;
        for (size_t i = 0; i < half; i++)
            ones += (size_t)__builtin_popcount(f[i] | f[half + i]);
        if (ones * 8 > half * 8 * 3)
            break;
        for (size_t i = 0; i < half; i++)
            f[i] |= f[half + i];
        len = half;
    }
    return len;
}
