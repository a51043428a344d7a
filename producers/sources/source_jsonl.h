/*
 * source_jsonl: change lines from a JSON-lines file, a watched directory of
 * such files (`*.jsonl`), or standard input (`input = "-"`), resumed from a
 * checkpoint (file_input.h says how files, directories, positions and
 * checkpoints work).  A line longer than `max_line_bytes` is handed over as
 * an error line (json_text.h), so the producer rejects it with the reason.
 */
#ifndef SB_PRODUCERS_SOURCE_JSONL_H
#define SB_PRODUCERS_SOURCE_JSONL_H

#include "sources/source.h"

extern const source_ops_t source_jsonl_ops;

#endif
