/*
 * scrape: what integration suites read from a program's metrics listener
 * (metrics_listen; the port from h_logged_port): the /metrics text, one
 * sample of it, and /healthz.  The caller has called curl_global_init.
 */
#ifndef SB_SCRAPE_H
#define SB_SCRAPE_H

#include <stddef.h>

/* The value of sample `series` (name and labels, as rendered) in a
 * /metrics text; NAN if absent. */
double scrape_metric(const char *text, const char *series);

/* The /metrics text (caller frees); fails the test unless it is 200. */
char *scrape_text(int port);

/* Scrapes until `series` reaches `want` (90 s at most); returns the last
 * text (caller frees). */
char *scrape_until(int port, const char *series, double want);

/* GET /healthz until its status is `want` (90 s at most); returns the
 * status last seen, the body in body[size]. */
long scrape_health_until(int port, long want, char *body, size_t size);

#endif
