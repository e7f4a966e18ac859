/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * output.h: everything guestctl prints on standard output goes through
 * here: tables (list, quota), labelled fields (status, budget), JSON
 * (--json) and text a less trusted side wrote (a guest's console, a
 * launcher's reason, an owner's paths), escaped on a terminal.
 *
 * A table is defined once, as an array of columns, each with its header
 * and its JSON key; a row's cells are set once, each with the text the
 * table shows and the value JSON gets (a number, a uid, null), and the
 * same table prints either as text (libsmartcols: aligned, --no-legend
 * drops the header) or as JSON (--json). Why the JSON is written here
 * and not by libsmartcols: its JSON takes each key from the column's
 * header, leaves hidden columns out, wraps the rows in an object named
 * after the table and writes a "number" cell unchecked, so it could not
 * keep the JSON scripts read today (an array of guests, an object of
 * resources, keys such as memory_mib).
 */
#pragma once

#include <json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* ------------------------------------------------------------ text from others */

/* Whether text from a less trusted side is shown escaped: on a terminal,
 * unless --raw. */
bool output_escaped(void);
/* s as output_escaped() says to print it: a new string, NULL without
 * memory. flags: TEXT_ESCAPE_* (util.h). */
char *output_text(const char *s, size_t len, unsigned flags);
/* "Out of memory.", GUESTCTL_EXIT_FAIL. */
int output_oom(void);
/* The user's name, or the uid as a number where there is none. */
const char *output_user_name(uid_t uid, char buf[static 32]);

/* ------------------------------------------------------------ JSON */

/* Prints o (pretty, escaped as output_escaped() says); takes no
 * reference. Returns an exit status. */
int output_json(struct json_object *o);
/* For _cleanup_(output_json_putp): drops a reference, NULL included. */
static inline void output_json_putp(struct json_object **o) {
        json_object_put(*o);
}

/* ------------------------------------------------------------ tables */

enum {
        OUTPUT_RIGHT = 1 << 0, /* a number: aligned to the right, as ls -l and ps do */
};

struct output_column {
        const char *header; /* the table's */
        const char *json;   /* the JSON key */
        unsigned flags;     /* OUTPUT_* */
};

/* JSON's shape: an array of row objects, or an object of row objects
 * keyed by each row's first cell (which is then not in the row). */
enum output_shape {
        OUTPUT_ARRAY,
        OUTPUT_OBJECT,
};

struct output_table;

/* A table of the n columns (which must outlive it), for --json or text
 * as the command line asks. NULL without memory. */
struct output_table *output_table_new(const struct output_column *columns, size_t n, enum output_shape shape);
struct output_table *output_table_free(struct output_table *t);
static inline void output_table_freep(struct output_table **t) {
        output_table_free(*t);
}
/* Leaves column out of the text (JSON keeps it). */
int output_table_hide(struct output_table *t, size_t column);
/* Starts a row; the cells below fill it. */
int output_table_row(struct output_table *t);
/* A cell of the row: text for the table, json for JSON (taken; NULL is
 * null). Text from the bus is escaped as output_escaped() says. */
int output_cell(struct output_table *t, size_t column, const char *text, struct json_object *json);
int output_cell_string(struct output_table *t, size_t column, const char *s);
/* v as a number; unit, if not NULL, follows it in the table ("16 MiB"). */
int output_cell_u64(struct output_table *t, size_t column, uint64_t v, const char *unit);
/* A user: the name in the table, the uid in JSON. */
int output_cell_uid(struct output_table *t, size_t column, uid_t uid);
size_t output_table_rows(const struct output_table *t);
/* The JSON the table becomes (NULL without --json), to add to before
 * printing; still the table's. */
struct json_object *output_table_json(struct output_table *t);
/* Prints it as the command line asks; returns an exit status. */
int output_table_print(struct output_table *t);

/* ------------------------------------------------------------ fields */

/* "Label: value" lines, the labels aligned to the right (status, budget);
 * values escaped as output_escaped() says. */
struct output_fields;
struct output_fields *output_fields_new(void);
struct output_fields *output_fields_free(struct output_fields *f);
static inline void output_fields_freep(struct output_fields **f) {
        output_fields_free(*f);
}
int output_field(struct output_fields *f, const char *label, const char *fmt, ...) __attribute__((__format__(printf, 3, 4)));
int output_fields_print(struct output_fields *f);
