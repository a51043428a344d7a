/*
 * source_jsonl: change lines from a JSON-lines file, or standard input
 * (`input = "-"`).  Position: the byte offset just past a line.
 */
#ifndef SB_PRODUCERS_SOURCE_JSONL_H
#define SB_PRODUCERS_SOURCE_JSONL_H

#include "sources/source.h"

extern const source_ops_t source_jsonl_ops;

#endif
