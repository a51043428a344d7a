#include "sb_uuid.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

static sb_err_t fill_random(void *buf, size_t len) {
        size_t got = 0;
        while (got < len) {
                ssize_t n = getrandom((unsigned char *)buf + got, len - got, 0);
                if (n < 0)
                        return SB_ERR_IO;
                got += (size_t)n;
        }
        return SB_OK;
}

static void format_v4(unsigned char b[16], char out[37]) {
        b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
        b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
        static const char hex[] = "0123456789abcdef";
        size_t o = 0;
        for (int i = 0; i < 16; i++) {
                if (i == 4 || i == 6 || i == 8 || i == 10)
                        out[o++] = '-';
                out[o++] = hex[b[i] >> 4];
                out[o++] = hex[b[i] & 15];
        }
        out[o] = 0;
}

sb_err_t sb_uuid4(char out[37]) {
        unsigned char b[16];
        if (fill_random(b, sizeof(b)))
                return SB_ERR_IO;
        format_v4(b, out);
        return SB_OK;
}

struct sb_uuid_gen_s {
        uint64_t s[4];
};

sb_err_t sb_uuid_gen_new(sb_uuid_gen_t **out, char *errstr, size_t errstr_size) {
        *out = NULL;
        sb_uuid_gen_t *g = calloc(1, sizeof(*g));
        if (!g)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        /* xoshiro's state must not be all zero: redraw in that (2^-256) case. */
        do {
                if (fill_random(g->s, sizeof(g->s))) {
                        free(g);
                        return sb_seterr(SB_ERR_IO, errstr, errstr_size, "no randomness for the event ids");
                }
        } while (!(g->s[0] | g->s[1] | g->s[2] | g->s[3]));
        *out = g;
        return SB_OK;
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* xoshiro256** (Blackman and Vigna, 2018). */
static uint64_t next64(uint64_t s[4]) {
        uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        return result;
}

void sb_uuid_gen_next(sb_uuid_gen_t *g, char out[37]) {
        unsigned char b[16];
        uint64_t hi = next64(g->s), lo = next64(g->s);
        memcpy(b, &hi, 8);
        memcpy(b + 8, &lo, 8);
        format_v4(b, out);
}

void sb_uuid_gen_destroy(sb_uuid_gen_t *g) { free(g); }
