#include "sb_wire.h"

sb_err_t sb_wire_put_header(sb_buf_t *out, int32_t schema_id) {
        uint32_t id = (uint32_t)schema_id;
        uint8_t h[SB_WIRE_HEADER_SIZE] = {SB_WIRE_MAGIC, (uint8_t)(id >> 24), (uint8_t)(id >> 16),
                                          (uint8_t)(id >> 8), (uint8_t)id};
        return sb_buf_append(out, h, sizeof(h));
}

sb_err_t sb_wire_parse(const void *msg, size_t len, int32_t *schema_id, const uint8_t **body,
                       size_t *body_len, char *errstr, size_t errstr_size) {
        const uint8_t *p = msg;
        if (!p || len < SB_WIRE_HEADER_SIZE)
                return sb_seterr(SB_ERR_WIRE, errstr, errstr_size,
                                 "message of %zu bytes is shorter than the 5-byte header", len);
        if (p[0] != SB_WIRE_MAGIC)
                return sb_seterr(SB_ERR_WIRE, errstr, errstr_size,
                                 "unknown magic byte 0x%02x (expected 0x00)", p[0]);
        *schema_id =
                (int32_t)(((uint32_t)p[1] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 8) | p[4]);
        if (*schema_id < 0)
                return sb_seterr(SB_ERR_WIRE, errstr, errstr_size, "negative schema id %d", *schema_id);
        *body = p + SB_WIRE_HEADER_SIZE;
        *body_len = len - SB_WIRE_HEADER_SIZE;
        return SB_OK;
}
