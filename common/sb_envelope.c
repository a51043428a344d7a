#include "sb_envelope.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

json_t *sb_envelope_schema(const json_t *row_schema, const char *topic, char *errstr, size_t errstr_size) {
        const char *name = json_string_value(json_object_get(row_schema, "name"));
        const char *ns = json_string_value(json_object_get(row_schema, "namespace"));
        char fullname[512];
        if (!json_is_object(row_schema) || !name ||
            strcmp(json_string_value(json_object_get(row_schema, "type")) ?: "", "record") != 0) {
                sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size, "a row schema must be a named Avro record");
                return NULL;
        }
        if (strchr(name, '.') || !ns || !*ns)
                snprintf(fullname, sizeof(fullname), "%s", name);
        else
                snprintf(fullname, sizeof(fullname), "%s.%s", ns, name);
        json_t *env = json_pack("{s:s, s:s, s:s, s:s, s:["
                                "{s:s, s:[s,O], s:n},"
                                "{s:s, s:[s,s], s:n},"
                                "{s:s, s:{s:s, s:s, s:s, s:[s,s,s,s]}},"
                                "{s:s, s:s},"
                                "{s:s, s:{s:s, s:s, s:s, s:["
                                "{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s}]}},"
                                "{s:s, s:s}]}",
                                "type", "record", "name", "Envelope", "namespace", topic, "doc",
                                "sharebus change event (Debezium-shaped)", "fields", "name", "before", "type",
                                "null", row_schema, "default", "name", "after", "type", "null", fullname,
                                "default", "name", "op", "type", "type", "enum", "name", "Op", "namespace",
                                "sharebus", "symbols", "c", "u", "d", "r", "name", "ts_ms", "type", "long",
                                "name", "source", "type", "type", "record", "name", "Source", "namespace",
                                "sharebus", "fields", "name", "department", "type", "string", "name",
                                "system", "type", "string", "name", "dataset", "type", "string", "name",
                                "seq", "type", "long", "name", "event_id", "type", "string");
        if (!env)
                sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        return env;
}

json_t *sb_envelope_value(const sb_change_t *c) {
        char op[2] = {c->op, 0};
        return json_pack("{s:O, s:O, s:s, s:I, s:{s:s, s:s, s:s, s:I}, s:s}", "before",
                         c->before ? c->before : json_null(), "after", c->after ? c->after : json_null(),
                         "op", op, "ts_ms", (json_int_t)c->ts_ms, "source", "department", c->department,
                         "system", c->system, "dataset", c->dataset, "seq", (json_int_t)c->seq, "event_id",
                         c->event_id);
}

sb_err_t sb_uuid4(char out[37]) {
        unsigned char b[16];
        size_t got = 0;
        while (got < sizeof(b)) {
                ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
                if (n < 0)
                        return SB_ERR_IO;
                got += (size_t)n;
        }
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
        return SB_OK;
}

int64_t sb_now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
