#include "scrape.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

double scrape_metric(const char *text, const char *series) {
        size_t n = strlen(series);
        for (const char *line = text; line && *line;
             line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
                if (strncmp(line, series, n) == 0 && line[n] == ' ')
                        return strtod(line + n + 1, NULL);
        return NAN;
}

char *scrape_text(int port) {
        char url[128];
        h_reply_t r = {0};
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", port);
        ck_assert_int_eq(h_http("GET", url, NULL, NULL, NULL, &r), 200);
        ck_assert_ptr_nonnull(r.text);
        char *text = r.text;
        r.text = NULL;
        return text;
}

char *scrape_until(int port, const char *series, double want) {
        for (int i = 0;; i++) {
                char *text = scrape_text(port);
                if (scrape_metric(text, series) >= want || i == 900)
                        return text;
                free(text);
                h_sleep_ms(100);
        }
}

long scrape_health_until(int port, long want, char *body, size_t size) {
        char url[128];
        long status = 0;
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", port);
        for (int i = 0; i < 900 && status != want; i++) {
                h_reply_t r = {0};
                if (i)
                        h_sleep_ms(100);
                status = h_http("GET", url, NULL, NULL, NULL, &r);
                snprintf(body, size, "%s", r.text ? r.text : "");
                h_reply_free(&r);
        }
        return status;
}
