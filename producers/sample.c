#include "sample.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_avro.h"
#include "sb_checks.h"
#include "sb_datetime.h"

typedef enum { DS_LICENSE, DS_RESIDENT, DS_TAXPAYER } dataset_kind_t;

struct sb_sample_s {
        dataset_kind_t kind;
        uint64_t rng;
        uint64_t seed;
        size_t n_keys;
        json_t **rows; /* current state per key, NULL if absent */
        long clock_ms;
};

static const char *const surnames[] = {"Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang"};
static const char *const given[] = {"Wei", "Fang", "Min", "Jing", "Lei", "Qiang", "Yan", "Jun"};
static const char *const districts[] = {"110101", "110105", "310104", "440305", "510107", "330106"};
static const char *const trades[] = {"Trading", "Technology", "Catering", "Logistics", "Consulting"};

static uint64_t next_u64(sb_sample_t *s) {
        /* xorshift64*: small, fast, deterministic. */
        s->rng ^= s->rng >> 12;
        s->rng ^= s->rng << 25;
        s->rng ^= s->rng >> 27;
        return s->rng * 2685821657736338717ULL;
}

static size_t pick(sb_sample_t *s, size_t n) { return (size_t)(next_u64(s) % n); }

sb_err_t sb_sample_new(const char *topic, uint64_t seed, size_t n_keys, sb_sample_t **out, char *errstr,
                       size_t errstr_size) {
        dataset_kind_t kind;
        *out = NULL;
        if (strcmp(topic, "market.business_license") == 0)
                kind = DS_LICENSE;
        else if (strcmp(topic, "civil.resident") == 0)
                kind = DS_RESIDENT;
        else if (strcmp(topic, "tax.taxpayer") == 0)
                kind = DS_TAXPAYER;
        else
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "unknown dataset '%s' (market.business_license, civil.resident or "
                                 "tax.taxpayer)",
                                 topic);
        if (n_keys == 0)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "the number of keys must be above 0");
        sb_sample_t *s = calloc(1, sizeof(*s));
        if (!s || !(s->rows = calloc(n_keys, sizeof(json_t *)))) {
                free(s);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        s->kind = kind;
        s->seed = seed;
        s->rng = seed * 0x9E3779B97F4A7C15ULL + 1;
        s->n_keys = n_keys;
        s->clock_ms = 1735689600000L; /* 2025-01-01T00:00:00Z */
        *out = s;
        return SB_OK;
}

void sb_sample_destroy(sb_sample_t *s) {
        if (!s)
                return;
        for (size_t i = 0; i < s->n_keys; i++)
                json_decref(s->rows[i]);
        free(s->rows);
        free(s);
}

void sb_sample_identifier(const sb_sample_t *s, size_t i, char out[19]) {
        /* Derived from (seed, i) only, so the same key always gets the same id. */
        uint64_t h = (s->seed + 1) * 1000003ULL + i * 7919ULL;
        const char *district = districts[i % (sizeof(districts) / sizeof(*districts))];
        if (s->kind == DS_RESIDENT) {
                int year = 1950 + (int)(h % 55), month = 1 + (int)(i % 12), day = 1 + (int)(i % 28);
                snprintf(out, 19, "%s%04d%02d%02d%03d", district, year, month, day, (int)(i % 1000));
                out[17] = sb_check_cn_resident_id_char(out);
        } else {
                static const char org[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
                char code[10];
                uint64_t x = h ^ (i << 20);
                for (int k = 0; k < 9; k++) {
                        code[k] = org[x % 31];
                        x /= 31;
                }
                code[9] = 0;
                snprintf(out, 19, "91%s%s", district, code);
                out[17] = sb_check_cn_uscc_char(out);
        }
        out[18] = 0;
}

static json_t *make_row(sb_sample_t *s, size_t i, const char *id) {
        char name[96], date[16], ts[40];
        sb_datetime_format_timestamp_ms(s->clock_ms, ts, sizeof(ts));
        const char *person_surname = surnames[pick(s, 8)];
        const char *person_given = given[pick(s, 8)];
        switch (s->kind) {
        case DS_LICENSE: {
                static const char *const status[] = {"ACTIVE", "ACTIVE", "ACTIVE", "SUSPENDED", "REVOKED"};
                snprintf(name, sizeof(name), "%s %s Co., Ltd. No.%zu", person_surname, trades[pick(s, 5)], i);
                snprintf(date, sizeof(date), "%04d-%02d-%02d", 1995 + (int)(i % 30), 1 + (int)(i % 12),
                         1 + (int)(i % 28));
                return json_pack("{s:s, s:s, s:s, s:f, s:s?, s:s, s:s, s:s?, s:s}", "uscc", id, "name", name,
                                 "legal_representative", person_surname, "registered_capital",
                                 (double)(10 + pick(s, 100000)) / 10.0, "business_scope",
                                 pick(s, 4) ? trades[pick(s, 5)] : NULL, "status", status[pick(s, 5)],
                                 "established_on", date, "address",
                                 pick(s, 3) ? "No. 1 Zhongguancun Street" : NULL, "updated_at", ts);
        }
        case DS_RESIDENT: {
                snprintf(name, sizeof(name), "%s %s", person_surname, person_given);
                snprintf(date, sizeof(date), "%.4s-%.2s-%.2s", id + 6, id + 10, id + 12);
                char phone[16];
                snprintf(phone, sizeof(phone), "13%09llu", (unsigned long long)(next_u64(s) % 1000000000ULL));
                json_t *married = pick(s, 3) == 0 ? json_null() : json_boolean(pick(s, 2));
                return json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s, s:s, s:o, s:s}", "id_number", id, "name",
                                 name, "gender", id[16] % 2 ? "MALE" : "FEMALE", "birth_date", date, "phone",
                                 pick(s, 4) ? phone : NULL, "address", "Room 101, Building 3",
                                 "district_code", (char[]){id[0], id[1], id[2], id[3], id[4], id[5], 0},
                                 "married", married, "updated_at", ts);
        }
        case DS_TAXPAYER: {
                static const char *const ratings[] = {"A", "B", "M", "C", "D"};
                snprintf(name, sizeof(name), "%s %s Ltd. No.%zu", person_surname, trades[pick(s, 5)], i);
                snprintf(date, sizeof(date), "%04d-%02d-%02d", 2000 + (int)(i % 25), 1 + (int)(i % 12),
                         1 + (int)(i % 28));
                json_t *revenue = pick(s, 5) ? json_real((double)pick(s, 100000000) / 100.0) : json_null();
                return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:i, s:o, s:b, s:s}", "taxpayer_id", id,
                                 "name", name, "taxpayer_type", pick(s, 2) ? "GENERAL" : "SMALL_SCALE",
                                 "tax_authority", "Haidian District Tax Bureau", "registered_on", date,
                                 "credit_rating", pick(s, 6) ? ratings[pick(s, 5)] : NULL, "employee_count",
                                 (int)pick(s, 5000), "annual_revenue", revenue, "active", (int)pick(s, 2),
                                 "updated_at", ts);
        }
        }
        return NULL;
}

char *sb_sample_next(sb_sample_t *s) {
        static const char *const key_field[] = {"uscc", "id_number", "taxpayer_id"};
        char id[19];
        size_t i = pick(s, s->n_keys);
        s->clock_ms += 1 + (long)pick(s, 60000);
        sb_sample_identifier(s, i, id);
        json_t *before = s->rows[i];
        json_t *after = NULL;
        const char *op;
        if (!before) {
                op = "c";
                after = make_row(s, i, id);
        } else if (pick(s, 5) == 0) {
                op = "d";
        } else {
                op = "u";
                after = make_row(s, i, id);
        }
        if (!before && !after)
                return NULL;
        json_t *ev = json_pack("{s:s, s:{s:s}, s:O?, s:O?, s:I}", "op", op, "key", key_field[s->kind], id,
                               "before", before, "after", after, "ts_ms", (json_int_t)s->clock_ms);
        char *text = ev ? json_dumps(ev, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
        json_decref(ev);
        json_decref(s->rows[i]);
        s->rows[i] = after;
        return text;
}
