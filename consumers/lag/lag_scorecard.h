/*
 * lag_scorecard: the data-sharing scorecard, the figure a supervisor reads
 * to see whether sharing happens.  Per department and dataset, from what
 * Kafka and the registry already hold: the changes published in the last
 * hour and day (counted from the dataset topic's offsets by time), the
 * schema version in force, the subscriber groups reading it and how fresh
 * each is (from the lag monitor), the records the department's producers
 * rejected (rejects.<department>) and the subscribers' dead letters
 * (dlq.<name>, the dead letters of group sharebus.<name>).
 *
 * A scorecard is a snapshot built off the lock (the counts, then the
 * registry's subjects) and rendered with the monitor's current view.
 * Names follow the design's: a dataset topic is <department>.<dataset>;
 * dlq.*, rejects.* and _* topics are not datasets.
 */
#ifndef SB_LAG_SCORECARD_H
#define SB_LAG_SCORECARD_H

#include <stddef.h>
#include <stdint.h>

#include "lag/lag_monitor.h"
#include "lag/lag_sampler.h"
#include "sb_buf.h"
#include "sb_error.h"
#include "sb_registry_client.h"

#define LAG_SCORECARD_MAX_SUBJECTS 10000

typedef struct lag_scorecard_s lag_scorecard_t;

/* An empty scorecard counted at `now_ms`, into a new *out the caller
 * destroys.  SB_ERR_NOMEM. */
sb_err_t lag_scorecard_new(int64_t now_ms, lag_scorecard_t **out, char *errstr, size_t errstr_size);
void lag_scorecard_destroy(lag_scorecard_t *sc);

/* A lag_sampler_topic_cb: adds one topic's counts (copied).  Out of
 * memory is remembered and reported by lag_scorecard_failed. */
void lag_scorecard_add_topic(void *sc, const lag_topic_count_t *c);

/* Reads the registry's subjects (GET /subjects, at most
 * LAG_SCORECARD_MAX_SUBJECTS) and the latest version of each dataset's
 * value subject.  A registry that cannot be read is no failure of the
 * scorecard: its error is shown in it.  rc may be NULL (none configured). */
void lag_scorecard_read_registry(lag_scorecard_t *sc, sb_registry_client_t *rc);

/* 1 if a topic could not be added (out of memory). */
int lag_scorecard_failed(const lag_scorecard_t *sc);

/* Appends the scorecard as JSON to `out`, each dataset's subscribers taken
 * from `m` as it is now (the caller holds the monitor's lock).  sc may be
 * NULL: not counted yet.  SB_ERR_NOMEM. */
sb_err_t lag_scorecard_render(const lag_scorecard_t *sc, const lag_monitor_t *m, sb_buf_t *out);

#endif
