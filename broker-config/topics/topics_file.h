/*
 * topics_file: broker-config/topics.conf, the topics as code.  The one
 * table of sharebus-topics' settings (--help, --help-markdown for the
 * README, config checking) and the reading of its `topics` list into a
 * topics_set_t, every mistake named by file and line:
 *
 *   partitions = 3;            // of a topic that does not say
 *   replication_factor = 1;    // likewise
 *   kafka = { bootstrap_servers = "127.0.0.1:9092"; };
 *   topics = (
 *     { name = "civil.resident"; partitions = 6;
 *       configs = { retention_ms = 604800000; min_insync_replicas = 1; }; },
 *     { name = "_sharebus_schemas"; partitions = 1;
 *       configs = ( ("cleanup.policy", "compact") ); }
 *   );
 *   principals = (            // optional: the ACLs (topics_acl.h)
 *     { name = "civil"; role = "department"; },
 *     { name = "demo"; role = "subscriber"; reads = [ "civil.resident" ]; }
 *   );
 *
 * As in the `kafka` group, a config group's underscores stand for dots;
 * a list of ("name", value) pairs takes any name as it is.
 */
#ifndef SB_TOPICS_FILE_H
#define SB_TOPICS_FILE_H

#include <stddef.h>

#include "sb_config.h"
#include "topics/topics_acl.h"
#include "topics/topics_set.h"

/* Bounds of a declaration. */
#define TOPICS_FILE_MAX 10000       /* topics a file declares */
#define TOPICS_PARTITIONS_MAX 10000 /* partitions of one topic */
#define TOPICS_REPLICATION_MAX 32   /* replicas of one partition */

extern const sb_setting_t sb_topics_settings[];
extern const size_t sb_topics_settings_count;

/* The topics `cfg` declares (its `topics`, each completed with the file's
 * `partitions` and `replication_factor`), into a new set *out sorted by
 * name, which the caller destroys.  `replication_override` > 0 (the
 * command line's --replication-factor) replaces every topic's replication
 * factor, so that one file serves a single-node broker and a cluster.
 * SB_ERR_CONFIG with errstr "file:line: ..." for a declaration that is
 * wrong (unknown field, bad name or count, a topic or config declared
 * twice, min.insync.replicas above the replication factor); SB_ERR_NOMEM. */
sb_err_t topics_file_read(const sb_config_t *cfg, int replication_override, topics_set_t **out, char *errstr,
                          size_t errstr_size);

/* The ACL bindings the file's `principals` derive (topics_acl.h), into a
 * new set *out the caller destroys, and *n_principals; *out NULL when the
 * file has no `principals` at all (then ACLs are not looked at; an empty
 * list is the truth that there are none).  `topics` is the file's topics
 * (topics_file_read), which a subscriber's `reads` must name.
 * SB_ERR_CONFIG with errstr "file:line: setting 'principals': ..." for an
 * unknown field or role, a bad name, a name declared twice, `reads`
 * missing (a subscriber), misplaced (another role) or naming a topic not
 * declared, more than TOPICS_PRINCIPALS_MAX principals or
 * TOPICS_READS_MAX reads; SB_ERR_NOMEM. */
sb_err_t topics_file_read_principals(const sb_config_t *cfg, const topics_set_t *topics,
                                     topics_acl_set_t **out, size_t *n_principals, char *errstr,
                                     size_t errstr_size);

#endif
