/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* output.c: see output.h. */
#include <libsmartcols.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "bus-api.h"
#include "log.h"
#include "output.h"
#include "util.h"

/* ------------------------------------------------------------ text from others */

/* Much of what guestctl prints was written by someone less trusted than
 * whoever reads it: a guest's console bytes (log), a launcher's reason
 * for an end (status, stop), the paths and command line a guest's owner
 * chose (status: root reads them too). On a terminal a control character
 * in them would act instead of showing (an escape sequence retitles the
 * window, moves the cursor, rewrites what was shown), so there it is
 * shown escaped (text_escape(): \x1b for ESC, \xNN for a byte that is
 * not UTF-8). Into a pipe or a file the text goes as it is, for scripts
 * and for whoever saves a log, and --raw prints it as it is on a
 * terminal too. What guestctl writes on stderr is log.c's: escaped
 * always. `console` is the exception by design: it is the guest's
 * terminal, attached knowingly. */
bool output_escaped(void) {
        return !args.raw && isatty(STDOUT_FILENO);
}

char *output_text(const char *s, size_t len, unsigned flags) {
        return output_escaped() ? text_escape_new(s, len, flags) : strndup(s, len);
}

int output_oom(void) {
        log_error("Out of memory.");
        return GUESTCTL_EXIT_FAIL;
}

const char *output_user_name(uid_t uid, char buf[static 32]) {
        struct passwd *pw = getpwuid(uid);
        if (pw)
                return pw->pw_name;
        snprintf(buf, 32, "%u", (unsigned) uid);
        return buf;
}

static int output_flush(void) {
        if (fflush(stdout) == 0)
                return GUESTCTL_EXIT_OK;
        log_error_errno(-errno, "Failed to write the output: %m");
        return GUESTCTL_EXIT_FAIL;
}

/* ------------------------------------------------------------ JSON */

/* json-c writes the controls below 0x20 in strings as \u00XX, but DEL,
 * the C1 controls and bytes that are not UTF-8 as they are: escaped on a
 * terminal like any text from others. */
int output_json(struct json_object *o) {
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE);
        _cleanup_free_ char *text = NULL;

        if (!s)
                return output_oom();
        text = output_text(s, strlen(s), TEXT_ESCAPE_MULTILINE);
        if (!text)
                return output_oom();
        puts(text);
        return output_flush();
}

/* ------------------------------------------------------------ tables */

struct output_table {
        const struct output_column *columns;
        size_t n_columns;
        enum output_shape shape;
        size_t n_rows;
        /* Text: */
        struct libscols_table *scols;
        struct libscols_line *line;
        /* --json: the whole, and the row being filled (OUTPUT_OBJECT: not
         * yet in the whole until its key, the first cell, is set). */
        struct json_object *json, *row;
        bool row_added;
};

/* A libsmartcols table as guestctl prints them: columns two spaces
 * apart, as they always were; the text already escaped where it must be
 * (output_escaped()), so libsmartcols must not encode it again. */
static struct libscols_table *scols_table_make(void) {
        struct libscols_table *tb = scols_new_table();

        if (!tb)
                return NULL;
        if (scols_table_set_column_separator(tb, "  ") < 0 || scols_table_enable_noencoding(tb, true) < 0)
                return scols_unref_table(tb), NULL;
        return tb;
}

static int table_text_new(struct output_table *t) {
        t->scols = scols_table_make();
        if (!t->scols || scols_table_enable_noheadings(t->scols, args.no_legend) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < t->n_columns; i++)
                if (!scols_table_new_column(t->scols, t->columns[i].header, 0,
                                            t->columns[i].flags & OUTPUT_RIGHT ? SCOLS_FL_RIGHT : 0))
                        return -ENOMEM;
        return 0;
}

struct output_table *output_table_new(const struct output_column *columns, size_t n, enum output_shape shape) {
        struct output_table *t = calloc(1, sizeof(*t));

        if (!t)
                return NULL;
        *t = (struct output_table) { .columns = columns, .n_columns = n, .shape = shape };
        if (args.json)
                t->json = shape == OUTPUT_ARRAY ? json_object_new_array() : json_object_new_object();
        if (args.json ? !t->json : table_text_new(t) < 0)
                return output_table_free(t);
        return t;
}

static void table_row_drop(struct output_table *t) {
        if (t->row && !t->row_added)
                json_object_put(t->row);
        t->row = NULL;
}

struct output_table *output_table_free(struct output_table *t) {
        if (!t)
                return NULL;
        table_row_drop(t);
        json_object_put(t->json);
        scols_unref_table(t->scols);
        free(t);
        return NULL;
}

int output_table_hide(struct output_table *t, size_t column) {
        struct libscols_column *c;

        if (!t->scols)
                return 0;
        c = scols_table_get_column(t->scols, column);
        return c ? scols_column_set_flags(c, scols_column_get_flags(c) | SCOLS_FL_HIDDEN) : -EINVAL;
}

int output_table_row(struct output_table *t) {
        t->n_rows++;
        if (t->scols) {
                t->line = scols_table_new_line(t->scols, NULL);
                return t->line ? 0 : -ENOMEM;
        }
        table_row_drop(t);
        t->row = json_object_new_object();
        if (!t->row)
                return -ENOMEM;
        t->row_added = t->shape == OUTPUT_ARRAY;
        if (t->row_added && json_object_array_add(t->json, t->row) < 0) {
                json_object_put(t->row);
                t->row = NULL;
                return -ENOMEM;
        }
        return 0;
}

static int cell_json(struct output_table *t, size_t column, const char *text, struct json_object *json) {
        if (t->shape == OUTPUT_OBJECT && column == 0) {
                /* The row's key: the row goes into the whole under it. */
                json_object_put(json);
                if (t->row_added)
                        return -EINVAL;
                t->row_added = true;
                return json_object_object_add(t->json, text, t->row) < 0 ? -ENOMEM : 0;
        }
        return json_object_object_add(t->row, t->columns[column].json, json) < 0 ? -ENOMEM : 0;
}

int output_cell(struct output_table *t, size_t column, const char *text, struct json_object *json) {
        _cleanup_free_ char *escaped = NULL;

        if (column >= t->n_columns || (t->scols ? !t->line : !t->row)) {
                json_object_put(json);
                return -EINVAL;
        }
        if (t->json)
                return cell_json(t, column, text, json);
        json_object_put(json);
        if (output_escaped()) {
                /* guestd's rules for names leave nothing to escape today;
                 * a cell is text from the bus all the same. */
                escaped = text_escape_new(text, strlen(text), 0);
                if (!escaped)
                        return -ENOMEM;
                text = escaped;
        }
        return scols_line_set_data(t->line, column, text);
}

int output_cell_string(struct output_table *t, size_t column, const char *s) {
        return output_cell(t, column, s, t->json ? json_object_new_string(s) : NULL);
}

int output_cell_u64(struct output_table *t, size_t column, uint64_t v, const char *unit) {
        char text[64];

        snprintf(text, sizeof(text), "%" PRIu64 "%s%s", v, unit ? " " : "", unit ?: "");
        return output_cell(t, column, text, t->json ? json_object_new_uint64(v) : NULL);
}

int output_cell_uid(struct output_table *t, size_t column, uid_t uid) {
        char buf[32];

        return output_cell(t, column, output_user_name(uid, buf), t->json ? json_object_new_int64(uid) : NULL);
}

size_t output_table_rows(const struct output_table *t) {
        return t->n_rows;
}

struct json_object *output_table_json(struct output_table *t) {
        return t->json;
}

int output_table_print(struct output_table *t) {
        if (t->json)
                return output_json(t->json);
        if (scols_print_table(t->scols) < 0) {
                log_error("Failed to print the table.");
                return GUESTCTL_EXIT_FAIL;
        }
        return output_flush();
}

/* ------------------------------------------------------------ fields */

struct output_fields {
        struct libscols_table *scols;
};

struct output_fields *output_fields_new(void) {
        struct output_fields *f = calloc(1, sizeof(*f));

        if (!f)
                return NULL;
        f->scols = scols_table_make();
        if (!f->scols || scols_table_set_column_separator(f->scols, ": ") < 0 || scols_table_enable_noheadings(f->scols, true) < 0 ||
            !scols_table_new_column(f->scols, "LABEL", 0, SCOLS_FL_RIGHT) || !scols_table_new_column(f->scols, "VALUE", 0, 0))
                return output_fields_free(f);
        return f;
}

struct output_fields *output_fields_free(struct output_fields *f) {
        if (!f)
                return NULL;
        scols_unref_table(f->scols);
        free(f);
        return NULL;
}

int output_field(struct output_fields *f, const char *label, const char *fmt, ...) {
        _cleanup_free_ char *value = NULL, *escaped = NULL;
        struct libscols_line *line;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&value, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        /* Escaping what is escaped already changes nothing (util.h). */
        escaped = output_text(value, (size_t) r, 0);
        line = scols_table_new_line(f->scols, NULL);
        if (!escaped || !line)
                return -ENOMEM;
        r = scols_line_set_data(line, 0, label);
        return r < 0 ? r : scols_line_set_data(line, 1, escaped);
}

int output_fields_print(struct output_fields *f) {
        if (scols_print_table(f->scols) < 0) {
                log_error("Failed to print the fields.");
                return GUESTCTL_EXIT_FAIL;
        }
        return output_flush();
}
