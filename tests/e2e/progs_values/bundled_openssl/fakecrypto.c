/* A stand-in for a wheel's bundled libcrypto (test_values test_a_bundled_openssl): its
 * RAND_bytes_ex marks its bytes (0x42 first) and fills the rest from the time stamp
 * counter, so that a replay shows them only if the draw was logged. */
#include <stddef.h>
#include <string.h>

int RAND_bytes_ex(void *ctx, unsigned char *buf, size_t num, unsigned int strength)
{
    (void)ctx;
    (void)strength;
    unsigned long long t = __builtin_ia32_rdtsc();
    for (size_t i = 0; i < num; i++)
        buf[i] = i == 0 ? 0x42 : (unsigned char)(t >> (8 * (i % 8)));
    return 1;
}
