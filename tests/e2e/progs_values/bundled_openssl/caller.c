/* The extension that links the bundled copy (test_values test_a_bundled_openssl). */
#include <stddef.h>

int RAND_bytes_ex(void *ctx, unsigned char *buf, size_t num, unsigned int strength);

int draw(unsigned char *buf, size_t num)
{
    return RAND_bytes_ex(NULL, buf, num, 0);
}
