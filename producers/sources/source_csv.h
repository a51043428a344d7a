/*
 * source_csv: change lines from CSV files (RFC 4180) with a header row: one
 * file, a watched directory of `*.csv` files, or standard input, resumed
 * from a checkpoint like jsonl (file_input.h).
 *
 * Parsing (csv_record.h).  Fields are separated by `csv_delimiter`
 * (default ","), records end with LF or CRLF; a field in double quotes may
 * hold the delimiter, CR, LF and doubled quotes ("" for one ").  A UTF-8
 * byte order mark before the header is dropped; an empty line is skipped.
 * Bounds: a row of at most `max_line_bytes` bytes and CSV_MAX_COLUMNS
 * fields.
 *
 * Columns.  Each header name maps to a field of the dataset's row record
 * (or key record): through `csv_columns` ("LicenceNo=uscc,Name=name"; a
 * target "-" ignores the column), else to the field of the same name.  A
 * column that maps to nothing is an error, so that a typo never drops data
 * silently; so are two columns for one field, a key field without a
 * column, and a required row field (not nullable, no default) without one.
 * For a single file these errors fail the open; otherwise (a file of a
 * directory, standard input) every row of the faulty file is handed over
 * as an error line naming the fault (the producer rejects and counts them)
 * and the next file is read.
 *
 * Values are typed by the schema, as the Avro encoder reads JSON
 * (sb_avro.h): integers and floating point numbers unquoted, booleans from
 * true/false, t/f, yes/no, y/n, 1/0 (any case), dates and timestamps as
 * their text (or an integer of days / milliseconds), strings and enum
 * symbols quoted; a record, array or map cell holding JSON is copied in.
 * An empty unquoted cell is null for a nullable field, the field's default
 * when it has one (the member is left out), "" for a string and null
 * otherwise (which the encoder refuses with the field's name); a quoted
 * empty cell ("") is the empty string for string fields.  A cell that does
 * not convert is passed as a string, so the encoder refuses it with the
 * field's path and the reason ("after.registered_capital: expected a
 * number, got string").
 *
 * Op.  Every row gets the op `csv_op` ("r" by default: a CSV file is a
 * state of the rows; "c" or "u"), unless `csv_op_column` names a column
 * holding c, u, d or r for each row; a d row sends only the key.
 *
 * A row that cannot be parsed (a quote in an unquoted field, text after a
 * closing quote, a quote not closed at the end of the file, too long, too
 * many or too few fields, not UTF-8) becomes an error line (json_text.h):
 * the producer rejects it with the reason.  The position of a row is the
 * byte offset just past it; `where` names the file and the line the row
 * starts on.
 */
#ifndef SB_PRODUCERS_SOURCE_CSV_H
#define SB_PRODUCERS_SOURCE_CSV_H

#include "sources/csv_record.h"
#include "sources/source.h"

/* Fields of one row, at most. */
#define CSV_MAX_COLUMNS CSV_RECORD_MAX_FIELDS

extern const source_ops_t source_csv_ops;

#endif
