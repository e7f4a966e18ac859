/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guestctl: the command-line client of guestd. It is an ordinary,
 * unprivileged D-Bus client: every verb is one or two calls on the bus name
 * org.guestd1 (dbus/org.guestd1.xml), and guestd decides from the bus
 * credentials who is asking. guestctl itself checks only what it must to
 * build a request (its own command line); everything else, names and limits
 * included, is the daemon's to judge, so that there is one place where the
 * rules live and the daemon's sentence is what the user reads.
 *
 * Verbs are a table (name, handler, argument counts, allowed options,
 * usage); options are parsed once for all verbs, then checked against the
 * verb's mask, so `guestctl --json list` and `guestctl list --json` mean
 * the same.
 *
 * Handlers return the process exit status (see enum guestctl_exit in bus-api.h and
 * guestctl(1)), having already said what went wrong on stderr. This is the
 * edge where errors end, so it is the one place that speaks exit codes
 * instead of negative errno.
 */
#include <fcntl.h>
#include <getopt.h>
#include <json.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>
#include <termios.h>

#include "bus-api.h"
#include "guest-properties.h"
#include "guest-limits.h"
#include "log.h"
#include "util.h"
#include "version.h"

/* Options; OPT_* says which verbs accept which. */
enum {
        OPT_JSON = 1 << 0,
        OPT_CREATE = 1 << 1, /* --kernel --initrd --cmdline --memory --vcpus --disk --[no-]acpi --[no-]cmdline-devices */
        OPT_FORCE = 1 << 2,
        OPT_IDLE = 1 << 3,
        OPT_READ_ONLY = 1 << 4,
        OPT_RAW = 1 << 5,
};

static const char *arg_bus_address;
static bool arg_json;
static const char *arg_kernel, *arg_initrd, *arg_cmdline;
static uint64_t arg_memory_mib = GUEST_MEMORY_MIB_DEFAULT, arg_vcpus = GUEST_VCPUS_DEFAULT;
static int arg_acpi = -1, arg_cmdline_devices = -1; /* -1: guestd's default */
static char **arg_disks;
static size_t arg_n_disks;
static bool arg_force, arg_read_only, arg_raw;
static uint64_t arg_idle_ms = 1000;
static unsigned arg_seen; /* OPT_* bits given on the command line */
static const char *arg_seen_name[6]; /* an option given, per OPT_* bit, for errors */

/* ------------------------------------------------------------ errors */

/* Says what went wrong with a call and returns the exit status for it.
 * The daemon's message is shown as it is: it is written for people. */
static int bus_call_failed(const sd_bus_error *error, int r, const char *what) {
        if (sd_bus_error_has_names(error, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                log_error("guestd is not running: nothing owns %s on the bus. "
                          "Start it (systemctl start guestd) or pass the right --bus.", GUESTD_BUS_NAME);
        else if (sd_bus_error_has_names(error, SD_BUS_ERROR_NO_REPLY, SD_BUS_ERROR_TIMEOUT))
                log_error("guestd did not answer %s in time.", what);
        else if (sd_bus_error_is_set(error) && error->message && error->message[0])
                log_error("%s", error->message);
        else if (sd_bus_error_is_set(error))
                log_error("%s failed: %s", what, error->name);
        else
                log_error_errno(r, "%s failed: %m", what);
        return sd_bus_error_is_set(error) ? guestctl_exit_from_bus_error(error) : GUESTCTL_EXIT_FAIL;
}

static int log_oom(void) {
        log_error("Out of memory.");
        return GUESTCTL_EXIT_FAIL;
}

/* ------------------------------------------------------------ bus */

static int bus_connect(sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *where;
        int r;

        (void) sd_bus_error_add_map(guestd_bus_error_map);
        if (arg_bus_address) {
                where = arg_bus_address;
                r = sd_bus_new(&bus);
                if (r >= 0)
                        r = sd_bus_set_address(bus, arg_bus_address);
                if (r >= 0)
                        r = sd_bus_set_bus_client(bus, true);
                if (r >= 0)
                        r = sd_bus_start(bus);
        } else {
                /* sd_bus_open_system() honours $DBUS_SYSTEM_BUS_ADDRESS. */
                where = getenv("DBUS_SYSTEM_BUS_ADDRESS");
                if (!where)
                        where = "the system bus";
                r = sd_bus_open_system(&bus);
        }
        /* Someone at a terminal can answer polkit's password question
         * (an authentication agent asks): every call says so. A script
         * without one is told no at once instead of waiting. */
        if (r >= 0 && isatty(STDIN_FILENO))
                r = sd_bus_set_allow_interactive_authorization(bus, true);
        if (r < 0) {
                log_error_errno(r, "Cannot connect to %s: %m", where);
                return GUESTCTL_EXIT_UNREACHABLE;
        }
        *ret = TAKE_PTR(bus);
        return GUESTCTL_EXIT_OK;
}

/* Resolves a guest name ("NAME", or "UID/NAME": root, or an admin polkit
 * authorizes) to its object; the calls on it go on the same connection. */
static int guest_lookup(sd_bus *bus, const char *name, char **ret_path) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        int r;

        r = sd_bus_call_method(bus, GUESTD_BUS_NAME, GUESTD_OBJECT_PATH, GUESTD_MANAGER_IFACE, "GetGuest", &error, &reply, "s", name);
        if (r < 0)
                return bus_call_failed(&error, r, "GetGuest");
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return log_error_errno(r, "Malformed reply to GetGuest: %m"), GUESTCTL_EXIT_FAIL;
        *ret_path = strdup(path);
        return *ret_path ? GUESTCTL_EXIT_OK : log_oom();
}

/* The preamble of every verb about one guest: connect, find it by name. */
static int connect_to_guest(const char *name, sd_bus **ret_bus, char **ret_path) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = bus_connect(&bus);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        r = guest_lookup(bus, name, ret_path);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        *ret_bus = TAKE_PTR(bus);
        return GUESTCTL_EXIT_OK;
}

/* Calls a method without arguments or results on a guest, by name. */
static int guest_call_simple(const char *name, const char *method, const char *types, ...) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        va_list ap;
        int r;

        r = connect_to_guest(name, &bus, &path);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        va_start(ap, types);
        r = sd_bus_call_methodv(bus, GUESTD_BUS_NAME, path, GUESTD_GUEST_IFACE, method, &error, NULL, types, ap);
        va_end(ap);
        if (r < 0)
                return bus_call_failed(&error, r, method);
        return GUESTCTL_EXIT_OK;
}

/* ------------------------------------------------------------ output */

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
static bool output_escaped(void) {
        return !arg_raw && isatty(STDOUT_FILENO);
}

/* s, as output_escaped() says to print it: a new string, NULL without
 * memory. */
static char *output_text(const char *s, size_t len, unsigned flags) {
        return output_escaped() ? text_escape_new(s, len, flags) : strndup(s, len);
}

/* JSON: json-c writes the controls below 0x20 in strings as \u00XX, but
 * DEL, the C1 controls and bytes that are not UTF-8 as they are. */
static int json_print(struct json_object *o) {
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE);
        _cleanup_free_ char *text = NULL;

        if (!s)
                return log_oom();
        text = output_text(s, strlen(s), TEXT_ESCAPE_MULTILINE);
        if (!text)
                return log_oom();
        puts(text);
        return fflush(stdout) == 0 ? GUESTCTL_EXIT_OK : GUESTCTL_EXIT_FAIL;
}

/* Escapes, where output_escaped() says so, every string in o (in objects
 * and arrays, however deep) in place, for the human form of status. */
static int json_escape_strings(struct json_object *o) {
        int r;

        if (!output_escaped())
                return 0;
        switch (json_object_get_type(o)) {
        case json_type_string: {
                _cleanup_free_ char *s = text_escape_new(json_object_get_string(o), (size_t) json_object_get_string_len(o), 0);
                return s && json_object_set_string(o, s) ? 0 : -ENOMEM;
        }
        case json_type_object: {
                json_object_object_foreach(o, key, value) {
                        (void) key; /* keys are guestd's and config.c's own */
                        r = json_escape_strings(value);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        case json_type_array:
                for (size_t i = 0; i < json_object_array_length(o); i++) {
                        r = json_escape_strings(json_object_array_get_idx(o, i));
                        if (r < 0)
                                return r;
                }
                return 0;
        default:
                return 0;
        }
}

/* An aligned text table. Columns whose header is in right_aligned are
 * numbers and are aligned to the right, as ls -l and ps do. */
struct table {
        size_t n_columns, n_cells;
        char **cells;
        unsigned right_aligned; /* bit per column */
};

static void table_done(struct table *t) {
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i]);
        free(t->cells);
}

_printf_(2, 3) static int table_add(struct table *t, const char *fmt, ...) {
        char **cells = realloc(t->cells, (t->n_cells + 1) * sizeof(char *));
        va_list ap;
        int r;

        if (!cells)
                return -ENOMEM;
        t->cells = cells;
        va_start(ap, fmt);
        r = vasprintf(&t->cells[t->n_cells], fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        if (output_escaped()) {
                /* guestd's rules for names leave nothing to escape today;
                 * a cell is text from the bus all the same. */
                char *e = text_escape_new(t->cells[t->n_cells], (size_t) r, 0);
                free(t->cells[t->n_cells]);
                if (!e)
                        return -ENOMEM;
                t->cells[t->n_cells] = e;
        }
        t->n_cells++;
        return 0;
}

static void table_print(const struct table *t) {
        size_t width[16] = { 0 };

        for (size_t i = 0; i < t->n_cells; i++)
                width[i % t->n_columns] = MAX(width[i % t->n_columns], strlen(t->cells[i]));
        for (size_t i = 0; i < t->n_cells; i++) {
                size_t c = i % t->n_columns;
                bool last = c == t->n_columns - 1;
                if (t->right_aligned & (1u << c))
                        printf("%*s%s", (int) width[c], t->cells[i], last ? "\n" : "  ");
                else if (last)
                        printf("%s\n", t->cells[i]);
                else
                        printf("%-*s  ", (int) width[c], t->cells[i]);
        }
}

static const char *user_name(uid_t uid, char buf[static 32]) {
        struct passwd *pw = getpwuid(uid);
        if (pw)
                return pw->pw_name;
        snprintf(buf, 32, "%u", (unsigned) uid);
        return buf;
}

/* ------------------------------------------------------------ verbs */

/* Relative paths on the command line mean the caller's working directory;
 * the daemon only takes absolute ones. Not canonicalised: the daemon opens
 * the file with the caller's rights, symlinks and all, as the caller would. */
static char *path_absolute(const char *path) {
        _cleanup_free_ char *cwd = NULL;
        char *ret;

        if (path[0] == '/')
                return strdup(path);
        cwd = getcwd(NULL, 0);
        if (!cwd)
                return NULL;
        while (path[0] == '.' && path[1] == '/')
                path += 2;
        if (asprintf(&ret, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, path) < 0)
                return NULL;
        return ret;
}

static int json_add_path(struct json_object *o, const char *key, const char *path) {
        _cleanup_free_ char *abs = path_absolute(path);
        if (!abs) {
                log_error_errno(-errno, "Cannot make \"%s\" an absolute path: %m", path);
                return GUESTCTL_EXIT_FAIL;
        }
        json_object_object_add(o, key, json_object_new_string(abs));
        return GUESTCTL_EXIT_OK;
}

/* --disk FILE[,ro][,id=ID]: the launcher's syntax, as JSON. */
static int disk_to_json(const char *spec, struct json_object **ret) {
        _cleanup_free_ char *copy = strdup(spec);
        struct json_object *d;
        char *save = NULL, *file, *opt;
        int r;

        if (!copy)
                return log_oom();
        file = strtok_r(copy, ",", &save);
        if (!file) {
                log_error("--disk needs a file name: --disk FILE[,ro][,id=ID]");
                return GUESTCTL_EXIT_USAGE;
        }
        d = json_object_new_object();
        if (!d)
                return log_oom();
        r = json_add_path(d, "path", file);
        if (r != GUESTCTL_EXIT_OK) {
                json_object_put(d);
                return r;
        }
        json_object_object_add(d, "read_only", json_object_new_boolean(false));
        while ((opt = strtok_r(NULL, ",", &save))) {
                if (strcmp(opt, "ro") == 0)
                        json_object_object_add(d, "read_only", json_object_new_boolean(true));
                else if (strcmp(opt, "rw") == 0)
                        json_object_object_add(d, "read_only", json_object_new_boolean(false));
                else if (strncmp(opt, "id=", 3) == 0)
                        json_object_object_add(d, "id", json_object_new_string(opt + 3));
                else {
                        log_error("Unknown disk option \"%s\" in --disk %s (known: ro, rw, id=ID).", opt, spec);
                        json_object_put(d);
                        return GUESTCTL_EXIT_USAGE;
                }
        }
        *ret = d;
        return GUESTCTL_EXIT_OK;
}

static int verb_create(int argc, char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        struct json_object *config, *disks;
        const char *path;
        int r;

        if (!arg_kernel) {
                log_error("create needs --kernel FILE.");
                return GUESTCTL_EXIT_USAGE;
        }
        config = json_object_new_object();
        if (!config)
                return log_oom();
        r = json_add_path(config, "kernel", arg_kernel);
        if (r == GUESTCTL_EXIT_OK && arg_initrd)
                r = json_add_path(config, "initrd", arg_initrd);
        if (r != GUESTCTL_EXIT_OK)
                goto out;
        if (arg_cmdline)
                json_object_object_add(config, "cmdline", json_object_new_string(arg_cmdline));
        /* Passed on unchecked: the daemon owns the limits and says why. */
        json_object_object_add(config, "memory_mib", json_object_new_uint64(arg_memory_mib));
        json_object_object_add(config, "vcpus", json_object_new_uint64(arg_vcpus));
        if (arg_acpi >= 0)
                json_object_object_add(config, "acpi", json_object_new_boolean(arg_acpi));
        if (arg_cmdline_devices >= 0)
                json_object_object_add(config, "cmdline_devices", json_object_new_boolean(arg_cmdline_devices));
        if (arg_n_disks > 0) {
                disks = json_object_new_array();
                json_object_object_add(config, "disks", disks);
                for (size_t i = 0; i < arg_n_disks; i++) {
                        struct json_object *d;
                        r = disk_to_json(arg_disks[i], &d);
                        if (r != GUESTCTL_EXIT_OK)
                                goto out;
                        json_object_array_add(disks, d);
                }
        }

        r = bus_connect(&bus);
        if (r != GUESTCTL_EXIT_OK)
                goto out;
        r = sd_bus_call_method(bus, GUESTD_BUS_NAME, GUESTD_OBJECT_PATH, GUESTD_MANAGER_IFACE, "CreateGuest", &error, &reply, "ss", argv[1],
                               json_object_to_json_string_ext(config, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        if (r < 0) {
                r = bus_call_failed(&error, r, "CreateGuest");
                goto out;
        }
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0) {
                log_error_errno(r, "Malformed reply to CreateGuest: %m");
                r = GUESTCTL_EXIT_FAIL;
                goto out;
        }
        if (arg_json) {
                struct json_object *o = json_object_new_object();
                json_object_object_add(o, "name", json_object_new_string(argv[1]));
                json_object_object_add(o, "object", json_object_new_string(path));
                r = json_print(o);
                json_object_put(o);
        } else
                r = GUESTCTL_EXIT_OK;
out:
        json_object_put(config);
        return r;
}

static int verb_remove(int argc, char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = bus_connect(&bus);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        r = sd_bus_call_method(bus, GUESTD_BUS_NAME, GUESTD_OBJECT_PATH, GUESTD_MANAGER_IFACE, "RemoveGuest", &error, NULL, "s", argv[1]);
        if (r < 0)
                return bus_call_failed(&error, r, "RemoveGuest");
        return GUESTCTL_EXIT_OK;
}

static int verb_list(int argc, char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_done) struct table t = { .n_columns = 5, .right_aligned = (1u << 3) | (1u << 4) };
        struct json_object *array = NULL;
        const char *name, *object, *state;
        uint32_t owner, vcpus;
        uint64_t memory;
        bool show_owner = geteuid() == 0;
        int r;

        r = bus_connect(&bus);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        r = sd_bus_call_method(bus, GUESTD_BUS_NAME, GUESTD_OBJECT_PATH, GUESTD_MANAGER_IFACE, "ListGuests", &error, &reply, "");
        if (r < 0)
                return bus_call_failed(&error, r, "ListGuests");
        r = sd_bus_message_enter_container(reply, 'a', "(sosutu)");
        if (r < 0)
                goto bad;
        if (arg_json)
                array = json_object_new_array();
        else if (table_add(&t, "NAME") < 0 || table_add(&t, "OWNER") < 0 || table_add(&t, "STATE") < 0 ||
                 table_add(&t, "VCPUS") < 0 || table_add(&t, "MEMORY") < 0)
                return log_oom();
        while ((r = sd_bus_message_read(reply, "(sosutu)", &name, &object, &state, &owner, &memory, &vcpus)) > 0) {
                if (arg_json) {
                        struct json_object *o = json_object_new_object();
                        json_object_object_add(o, "name", json_object_new_string(name));
                        json_object_object_add(o, "object", json_object_new_string(object));
                        json_object_object_add(o, "state", json_object_new_string(state));
                        json_object_object_add(o, "owner", json_object_new_int64(owner));
                        json_object_object_add(o, "memory_mib", json_object_new_uint64(memory));
                        json_object_object_add(o, "vcpus", json_object_new_int64(vcpus));
                        json_object_array_add(array, o);
                } else {
                        char buf[32];
                        /* Someone else's guest (root, an admin polkit authorizes): say whose. */
                        if (owner != geteuid())
                                show_owner = true;
                        if (table_add(&t, "%s", name) < 0 || table_add(&t, "%s", user_name(owner, buf)) < 0 ||
                            table_add(&t, "%s", state) < 0 || table_add(&t, "%" PRIu32, vcpus) < 0 ||
                            table_add(&t, "%" PRIu64 " MiB", memory) < 0)
                                return log_oom();
                }
        }
        if (r < 0) {
                json_object_put(array);
                goto bad;
        }
        if (arg_json) {
                r = json_print(array);
                json_object_put(array);
                return r;
        }
        if (!show_owner) {
                /* Only the caller's own guests: the column says nothing. */
                size_t rows = t.n_cells / 5, k = 0;
                for (size_t i = 0; i < rows * 5; i++) {
                        if (i % 5 == 1) {
                                free(t.cells[i]);
                                continue;
                        }
                        t.cells[k++] = t.cells[i];
                }
                t.n_cells = k;
                t.n_columns = 4;
                t.right_aligned = (1u << 2) | (1u << 3);
        }
        if (t.n_cells > t.n_columns)
                table_print(&t);
        else if (isatty(STDOUT_FILENO))
                printf("No guests.\n");
        return GUESTCTL_EXIT_OK;
bad:
        log_error_errno(r, "Malformed reply to ListGuests: %m");
        return GUESTCTL_EXIT_FAIL;
}

/* Property names as JSON keys and column labels: the one table of
 * common/guest-properties.h; a name not in it stays as it is. */
static const char *property_json_key(const char *property, bool label) {
        const struct guest_property_info *p = guest_property_find(property);

        if (!p)
                return property;
        return label ? p->label : p->json;
}

/* The column label of a JSON key from the table; the key itself if none. */
static const char *json_key_label(const char *key) {
        for (size_t i = 0; i < GUEST_PROPERTIES_MAX; i++)
                if (strcmp(guest_properties[i].json, key) == 0)
                        return guest_properties[i].label;
        return key;
}

/* One variant of a basic type as a JSON value; NULL (skipped) otherwise. */
static int variant_to_json(sd_bus_message *m, struct json_object **ret) {
        const char *contents;
        char type;
        union {
                const char *s;
                uint32_t u;
                int32_t i;
                uint64_t t;
                int64_t x;
                int b;
                double d;
        } v;
        int r;

        *ret = NULL;
        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (type != 'v' || !contents || strlen(contents) != 1 || !strchr("sougtxibd", contents[0]))
                return sd_bus_message_skip(m, "v");
        r = sd_bus_message_enter_container(m, 'v', contents);
        if (r < 0)
                return r;
        r = sd_bus_message_read_basic(m, contents[0], &v);
        if (r < 0)
                return r;
        switch (contents[0]) {
        case 's': case 'o': case 'g': *ret = json_object_new_string(v.s); break;
        case 'u': *ret = json_object_new_int64(v.u); break;
        case 'i': *ret = json_object_new_int64(v.i); break;
        case 't': *ret = json_object_new_uint64(v.t); break;
        case 'x': *ret = json_object_new_int64(v.x); break;
        case 'b': *ret = json_object_new_boolean(v.b); break;
        case 'd': *ret = json_object_new_double(v.d); break;
        }
        return sd_bus_message_exit_container(m);
}

static void status_print_config(struct json_object *config, size_t width) {
        struct json_object *v, *disks;

        if (json_object_object_get_ex(config, "kernel", &v))
                printf("%*s: %s\n", (int) width, "Kernel", json_object_get_string(v));
        if (json_object_object_get_ex(config, "initrd", &v))
                printf("%*s: %s\n", (int) width, "Initrd", json_object_get_string(v));
        if (json_object_object_get_ex(config, "cmdline", &v) && json_object_get_string_len(v) > 0)
                printf("%*s: %s\n", (int) width, "Cmdline", json_object_get_string(v));
        if (json_object_object_get_ex(config, "disks", &disks) && json_object_is_type(disks, json_type_array))
                for (size_t i = 0; i < json_object_array_length(disks); i++) {
                        struct json_object *d = json_object_array_get_idx(disks, i), *p, *ro, *id;
                        json_object_object_get_ex(d, "path", &p);
                        bool read_only = json_object_object_get_ex(d, "read_only", &ro) && json_object_get_boolean(ro);
                        bool has_id = json_object_object_get_ex(d, "id", &id) && json_object_get_string_len(id) > 0;
                        printf("%*s: %s%s%s%s\n", (int) width, "Disk", json_object_get_string(p), read_only ? " (read-only)" : "",
                               has_id ? " id=" : "", has_id ? json_object_get_string(id) : "");
                }
}

static const char *guest_property_key(const char *property) {
        return property_json_key(property, false);
}

/* GetAll of iface on path: each property into o, under key(property)
 * (NULL: left out). A byte count of 2^64-1 ("not measured") becomes null
 * rather than a huge number. */
static int get_all_into(sd_bus *bus, const char *path, const char *iface, const char *(*key)(const char *property),
                        struct json_object *o) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *property;
        int r;

        r = sd_bus_call_method(bus, GUESTD_BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll", &error, &reply, "s", iface);
        if (r < 0)
                return bus_call_failed(&error, r, "GetAll");
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                struct json_object *v = NULL;
                const char *k;
                r = sd_bus_message_read(reply, "s", &property);
                if (r >= 0)
                        r = variant_to_json(reply, &v);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r < 0 || !v)
                        continue;
                k = key(property);
                if (!k) {
                        json_object_put(v);
                        continue;
                }
                if (strcmp(property, "PageTablesInUse") == 0 && json_object_get_uint64(v) == UINT64_MAX) {
                        json_object_put(v);
                        v = NULL;
                }
                json_object_object_add(o, k, v);
        }
        if (r < 0) {
                log_error_errno(r, "Malformed reply to GetAll: %m");
                return GUESTCTL_EXIT_FAIL;
        }
        return GUESTCTL_EXIT_OK;
}

static uint64_t json_get_u64(struct json_object *o, const char *key, uint64_t fallback) {
        struct json_object *v;
        return json_object_object_get_ex(o, key, &v) && v ? json_object_get_uint64(v) : fallback;
}

/* "Page tables: cap 512 pages (share 1024; in force), 1.9 MiB in use, 35
 * recycled/s": one line from the Guest's page-table properties, shown
 * while it has a launcher. */
static void status_print_page_tables(struct json_object *o, size_t width) {
        uint64_t cap = json_get_u64(o, "page_table_cap", 0), in_force = json_get_u64(o, "page_table_cap_in_force", 0);
        uint64_t share = json_get_u64(o, "page_table_share", 0), bytes = json_get_u64(o, "page_tables_bytes", UINT64_MAX);
        struct json_object *v;
        double recycled = json_object_object_get_ex(o, "page_tables_recycled_per_s", &v) ? json_object_get_double(v) : 0;
        char in_use[48];

        if (cap == 0)
                return; /* no launcher */
        if (bytes == UINT64_MAX)
                snprintf(in_use, sizeof(in_use), "in use not measured");
        else
                snprintf(in_use, sizeof(in_use), "%.1f MiB in use", (double) bytes / MiB);
        char force[48] = "";

        if (in_force == 0)
                snprintf(force, sizeof(force), "; KVM's default in force");
        else if (in_force != cap)
                snprintf(force, sizeof(force), "; %" PRIu64 " in force", in_force);
        printf("%*s: cap %" PRIu64 " pages (share %" PRIu64 "%s), %s, %.0f recycled/s\n", (int) width, "Page tables", cap, share,
               force, in_use, recycled);
}

static int verb_status(int argc, char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *path = NULL;
        struct json_object *o, *config = NULL;
        int r;

        r = connect_to_guest(argv[1], &bus, &path);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        /* Collected into one JSON object first: --json prints it, the human
         * form prints it in the order the daemon sent. */
        o = json_object_new_object();
        json_object_object_add(o, "object", json_object_new_string(path));
        r = get_all_into(bus, path, GUESTD_GUEST_IFACE, guest_property_key, o);
        if (r != GUESTCTL_EXIT_OK) {
                json_object_put(o);
                return r;
        }
        /* The daemon's canonical JSON, shown as an object. */
        if (json_object_object_get_ex(o, "config", &config)) {
                struct json_object *parsed = json_tokener_parse(json_object_get_string(config));
                config = NULL;
                if (parsed) {
                        json_object_object_add(o, "config", parsed);
                        config = parsed;
                }
        }

        if (arg_json) {
                r = json_print(o);
                json_object_put(o);
                return r;
        }
        /* The reason comes from a launcher, the paths and the command
         * line from the guest's owner. */
        if (json_escape_strings(o) < 0) {
                json_object_put(o);
                return log_oom();
        }
        size_t width = strlen("Cmdline");
        json_object_object_foreach(o, key, value) {
                const char *label = json_key_label(key);
                if (strcmp(key, "object") != 0 && value != config)
                        width = MAX(width, strlen(label));
        }
        json_object_object_foreach(o, key2, value2) {
                const char *label = json_key_label(key2);
                char buf[32];
                if (strcmp(key2, "object") == 0)
                        continue;
                if (strncmp(key2, "page_table", 10) == 0) {
                        if (strcmp(key2, "page_table_cap") == 0)
                                status_print_page_tables(o, width);
                        continue;
                }
                if (value2 == config)
                        status_print_config(config, width);
                else if (strcmp(key2, "owner") == 0)
                        printf("%*s: %s (uid %" PRId64 ")\n", (int) width, label,
                               user_name((uid_t) json_object_get_int64(value2), buf), json_object_get_int64(value2));
                else if (strcmp(key2, "memory_mib") == 0)
                        printf("%*s: %s MiB\n", (int) width, label, json_object_get_string(value2));
                else if (strcmp(key2, "state_reason") == 0 && json_object_get_string_len(value2) == 0)
                        continue;
                else if (strcmp(key2, "snapshot_bytes") == 0) {
                        if (json_object_get_uint64(value2) > 0)
                                printf("%*s: %.1f MiB on disk\n", (int) width, label, (double) json_object_get_uint64(value2) / MiB);
                }
                else
                        printf("%*s: %s\n", (int) width, label, json_object_get_string(value2));
        }
        /* The last part of its object path, by which its cgroup, or its
         * systemd-machined machine guestd-HANDLE, is named where anyone
         * can see it (machinectl list), so that root can tell whose it is. */
        {
                const char *slash = strrchr(path, '/');
                printf("%*s: %s\n", (int) width, "Handle", slash ? slash + 1 : path);
        }
        json_object_put(o);
        return GUESTCTL_EXIT_OK;
}

static int verb_start(int argc, char **argv) {
        return guest_call_simple(argv[1], "Start", "");
}

/* Stop waits for the guest to shut down (up to the policy's
 * timeouts.stop, at most an hour) and the launcher to end: longer than
 * the bus's default 25 s. The answer says how it ended. */
#define STOP_CALL_USEC ((GUEST_TIMEOUT_MAX_S + 120ULL) * 1000000)

static int verb_stop(int argc, char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        _cleanup_free_ char *path = NULL, *text = NULL;
        const char *how = NULL;
        int r;

        r = connect_to_guest(argv[1], &bus, &path);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        r = sd_bus_message_new_method_call(bus, &call, GUESTD_BUS_NAME, path, GUESTD_GUEST_IFACE, "Stop");
        if (r >= 0)
                r = sd_bus_message_append(call, "b", (int) arg_force);
        if (r < 0)
                return log_oom();
        r = sd_bus_call(bus, call, STOP_CALL_USEC, &error, &reply);
        if (r < 0)
                return bus_call_failed(&error, r, "Stop");
        if (sd_bus_message_read(reply, "s", &how) < 0 || !how || !*how)
                how = "stopped";
        /* How it ended is the guest's state reason: a launcher's words. */
        text = output_text(how, strlen(how), 0);
        if (!text)
                return log_oom();
        printf("%s: %s\n", argv[1], text);
        return fflush(stdout) == 0 ? GUESTCTL_EXIT_OK : GUESTCTL_EXIT_FAIL;
}

/* ---------------------------------------------------------------- suspend, resume */

/* How long Suspend and Resume may take: writing a large guest's memory
 * to disk is bounded by the disk, not by the bus's default 25 s. */
#define LONG_CALL_USEC (30ULL * 60 * 1000000)

struct long_call {
        const char *name;
        const char *what; /* "Suspending" */
        bool done;
        bool bar_shown;
        sd_bus_error error;
        int r;
};

static int long_call_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        struct long_call *c = userdata;

        c->done = true;
        if (sd_bus_message_is_method_error(m, NULL)) {
                c->r = -sd_bus_message_get_errno(m) ?: -EIO;
                (void) sd_bus_error_copy(&c->error, sd_bus_message_get_error(m));
        }
        return 0;
}

/* "Suspending web [##########..........]  50%  128/256 MiB" on stderr. */
static void progress_draw(struct long_call *c, uint64_t done, uint64_t total) {
        const unsigned width = 30;
        unsigned filled;
        char bar[64];

        if (total == 0)
                return;
        filled = (unsigned) (done * width / total);
        for (unsigned i = 0; i < width; i++)
                bar[i] = i < filled ? '#' : '.';
        bar[width] = 0;
        fprintf(stderr, "\r%s %s [%s] %3u%%  %" PRIu64 "/%" PRIu64 " MiB", c->what, c->name, bar, (unsigned) (done * 100 / total),
                done / MiB, total / MiB);
        fflush(stderr);
        c->bar_shown = true;
}

/* PropertiesChanged on the guest: Progress moves the bar. */
static int long_call_properties(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        struct long_call *c = userdata;
        const char *iface, *property;
        int r;

        r = sd_bus_message_read(m, "s", &iface);
        if (r < 0 || strcmp(iface, GUESTD_GUEST_IFACE) != 0)
                return 0;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r > 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                uint64_t done, total;
                r = sd_bus_message_read(m, "s", &property);
                if (r >= 0 && strcmp(property, "Progress") == 0) {
                        r = sd_bus_message_read(m, "v", "(tt)", &done, &total);
                        if (r >= 0)
                                progress_draw(c, done, total);
                } else if (r >= 0)
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        return 0;
}

/* Calls method (Suspend or Resume) on the guest and waits for its answer,
 * drawing Progress as a bar where stderr is a terminal (never with
 * --json). */
static int guest_call_long(const char *name, const char *method, const char *what) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *reply_slot = NULL, *match_slot = NULL;
        _cleanup_free_ char *path = NULL;
        struct long_call c = { .name = name, .what = what, .error = SD_BUS_ERROR_NULL };
        int r;

        r = connect_to_guest(name, &bus, &path);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        if (!arg_json && isatty(STDERR_FILENO)) {
                /* guestd sends PropertiesChanged only to subscribers, and
                 * only about their own guests. */
                r = sd_bus_match_signal(bus, &match_slot, GUESTD_BUS_NAME, path, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                        long_call_properties, &c);
                if (r >= 0)
                        r = sd_bus_call_method(bus, GUESTD_BUS_NAME, GUESTD_OBJECT_PATH, GUESTD_MANAGER_IFACE, "Subscribe", NULL, NULL, "");
                if (r < 0)
                        log_debug_errno(r, "No progress bar (cannot watch the guest): %m");
        }
        r = sd_bus_message_new_method_call(bus, &call, GUESTD_BUS_NAME, path, GUESTD_GUEST_IFACE, method);
        if (r >= 0)
                r = sd_bus_call_async(bus, &reply_slot, call, long_call_reply, &c, LONG_CALL_USEC);
        if (r < 0) {
                log_error_errno(r, "Cannot call %s: %m", method);
                return GUESTCTL_EXIT_UNREACHABLE;
        }
        while (!c.done) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break;
                if (r == 0 && !c.done)
                        r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0)
                        break;
        }
        if (c.bar_shown)
                fputc('\n', stderr);
        if (!c.done) {
                log_error_errno(r, "Lost guestd while waiting for %s: %m", method);
                return GUESTCTL_EXIT_UNREACHABLE;
        }
        if (c.r < 0) {
                r = bus_call_failed(&c.error, c.r, method);
                sd_bus_error_free(&c.error);
                return r;
        }
        return GUESTCTL_EXIT_OK;
}

static int verb_suspend(int argc, char **argv) {
        return guest_call_long(argv[1], "Suspend", "Suspending");
}

static int verb_resume(int argc, char **argv) {
        return guest_call_long(argv[1], "Resume", "Resuming");
}

static int verb_pause(int argc, char **argv) {
        return guest_call_simple(argv[1], "Pause", "");
}

static int verb_unpause(int argc, char **argv) {
        return guest_call_simple(argv[1], "Unpause", "");
}

static int verb_log(int argc, char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *path = NULL, *text = NULL;
        const void *data;
        size_t size;
        int r;

        r = connect_to_guest(argv[1], &bus, &path);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        r = sd_bus_call_method(bus, GUESTD_BUS_NAME, path, GUESTD_GUEST_IFACE, "GetConsoleLog", &error, &reply, "");
        if (r < 0)
                return bus_call_failed(&error, r, "GetConsoleLog");
        r = sd_bus_message_read_array(reply, 'y', &data, &size);
        if (r < 0) {
                log_error_errno(r, "Malformed reply to GetConsoleLog: %m");
                return GUESTCTL_EXIT_FAIL;
        }
        if (arg_json) {
                struct json_object *o = json_object_new_object();
                json_object_object_add(o, "name", json_object_new_string(argv[1]));
                json_object_object_add(o, "log", json_object_new_string_len(data, (int) size));
                r = json_print(o);
                json_object_put(o);
                return r;
        }
        /* The guest's own bytes (NULs included): as they are, or on a
         * terminal with lines kept as lines and the rest escaped. */
        if (output_escaped()) {
                text = text_escape_new(data, size, TEXT_ESCAPE_MULTILINE);
                if (!text)
                        return log_oom();
                r = loop_write(STDOUT_FILENO, text, strlen(text));
        } else
                r = loop_write(STDOUT_FILENO, data, size);
        if (r < 0) {
                log_error_errno(r, "Failed to write the log: %m");
                return GUESTCTL_EXIT_FAIL;
        }
        return GUESTCTL_EXIT_OK;
}

/* The Manager's page-table properties as JSON: budget_bytes,
 * in_use_bytes (null: not counted), memory_pressure, limit,
 * limit_effective, limit_reason. */
static const char *host_property_key(const char *property) {
        static const struct {
                const char *property, *key;
        } map[] = {
                { "PageTableBudget", "budget_bytes" },       { "PageTablesInUse", "in_use_bytes" },
                { "MemoryPressure", "memory_pressure" },     { "PageTableLimit", "limit" },
                { "PageTableLimitEffective", "limit_effective" }, { "PageTableLimitReason", "limit_reason" },
        };
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (strcmp(map[i].property, property) == 0)
                        return map[i].key;
        return NULL;
}

/* The Manager's page-table properties as JSON: budget_bytes,
 * in_use_bytes (null: not counted), memory_pressure, limit,
 * limit_effective, limit_reason. */
static int host_page_tables(sd_bus *bus, struct json_object **ret) {
        struct json_object *o = json_object_new_object();
        int r = get_all_into(bus, GUESTD_OBJECT_PATH, GUESTD_MANAGER_IFACE, host_property_key, o);

        if (r != GUESTCTL_EXIT_OK) {
                json_object_put(o);
                return r;
        }
        *ret = o;
        return GUESTCTL_EXIT_OK;
}

static void print_host_page_tables(struct json_object *o) {
        struct json_object *v;
        bool effective = json_object_object_get_ex(o, "limit_effective", &v) && json_object_get_boolean(v);
        const char *pressure = json_object_object_get_ex(o, "memory_pressure", &v) ? json_object_get_string(v) : "?";
        const char *limit = json_object_object_get_ex(o, "limit", &v) ? json_object_get_string(v) : "?";
        const char *reason = json_object_object_get_ex(o, "limit_reason", &v) ? json_object_get_string(v) : "";

        printf("Host page tables: budget %.1f MiB, ", (double) json_get_u64(o, "budget_bytes", 0) / MiB);
        if (json_get_u64(o, "in_use_bytes", UINT64_MAX) == UINT64_MAX)
                printf("in use not counted by this kernel");
        else
                printf("%.1f MiB in use", (double) json_get_u64(o, "in_use_bytes", 0) / MiB);
        printf("; memory pressure: %s\nKVM's MMU: %s; caps %s: %s\n", pressure, limit, effective ? "take effect" : "have no effect",
               reason);
}

static int verb_budget(int argc, char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        struct json_object *o = NULL;
        int r;

        r = bus_connect(&bus);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        if (argc > 1) {
                const char *spec = strcmp(argv[1], "policy") == 0 ? "" : argv[1];
                r = sd_bus_call_method(bus, GUESTD_BUS_NAME, GUESTD_OBJECT_PATH, GUESTD_MANAGER_IFACE, "SetPageTableBudget", &error, NULL, "s", spec);
                if (r < 0)
                        return bus_call_failed(&error, r, "SetPageTableBudget");
        }
        r = host_page_tables(bus, &o);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        if (arg_json)
                r = json_print(o);
        else
                print_host_page_tables(o);
        json_object_put(o);
        return r;
}

static int verb_quota(int argc, char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_done) struct table t = { .n_columns = 3, .right_aligned = (1u << 1) | (1u << 2) };
        struct json_object *o = NULL, *pt = NULL;
        const char *resource;
        uint64_t limit, used;
        int r;

        r = bus_connect(&bus);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        r = sd_bus_call_method(bus, GUESTD_BUS_NAME, GUESTD_OBJECT_PATH, GUESTD_MANAGER_IFACE, "GetQuota", &error, &reply, "");
        if (r < 0)
                return bus_call_failed(&error, r, "GetQuota");
        if (arg_json)
                o = json_object_new_object();
        else if (table_add(&t, "RESOURCE") < 0 || table_add(&t, "USED") < 0 || table_add(&t, "LIMIT") < 0)
                return log_oom();
        r = sd_bus_message_enter_container(reply, 'a', "{s(tt)}");
        while (r >= 0 && (r = sd_bus_message_read(reply, "{s(tt)}", &resource, &limit, &used)) > 0) {
                if (arg_json) {
                        struct json_object *e = json_object_new_object();
                        json_object_object_add(e, "used", json_object_new_uint64(used));
                        /* UINT64_MAX is "no limit": null, not a huge number. */
                        json_object_object_add(e, "limit", limit == UINT64_MAX ? NULL : json_object_new_uint64(limit));
                        json_object_object_add(o, resource, e);
                } else if (table_add(&t, "%s", resource) < 0 || table_add(&t, "%" PRIu64, used) < 0 ||
                           (limit == UINT64_MAX ? table_add(&t, "unlimited") : table_add(&t, "%" PRIu64, limit)) < 0)
                        return log_oom();
        }
        if (r < 0) {
                json_object_put(o);
                log_error_errno(r, "Malformed reply to GetQuota: %m");
                return GUESTCTL_EXIT_FAIL;
        }
        r = host_page_tables(bus, &pt);
        if (r != GUESTCTL_EXIT_OK) {
                json_object_put(o);
                return r;
        }
        if (arg_json) {
                json_object_object_add(o, "page_tables", pt);
                r = json_print(o);
                json_object_put(o);
                return r;
        }
        table_print(&t);
        putchar('\n');
        print_host_page_tables(pt);
        json_object_put(pt);
        return GUESTCTL_EXIT_OK;
}

/* ------------------------------------------------------------ console */

#define CONSOLE_ESCAPE 0x1d /* Ctrl-], as telnet, virsh console and machinectl */

static struct termios saved_termios;
static bool termios_saved;
static volatile sig_atomic_t console_quit;

static void console_restore_terminal(void) {
        if (termios_saved) {
                tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_termios);
                termios_saved = false;
        }
}

static void console_on_signal(int sig) {
        console_quit = sig;
}

static int console_raw_terminal(void) {
        struct termios t;

        if (tcgetattr(STDIN_FILENO, &saved_termios) < 0)
                return -errno;
        t = saved_termios;
        /* Every key goes to the guest (^C too), unechoed; the guest echoes.
         * Output keeps \n -> \r\n: the test payloads print bare \n. */
        cfmakeraw(&t);
        t.c_oflag |= OPOST | ONLCR;
        if (tcsetattr(STDIN_FILENO, TCSANOW, &t) < 0)
                return -errno;
        termios_saved = true;
        atexit(console_restore_terminal);
        return 0;
}

/*
 * Copies between the terminal and the guest's console socket.
 *
 * On a terminal: raw mode, Ctrl-] leaves, everything else is typed to the
 * guest. From a pipe or file (scripts): stdin is copied to the guest until
 * its end; after that guestctl keeps printing the guest's output until the
 * guest has been quiet for --idle milliseconds (0: until the console
 * closes). Either way it ends when the console closes (the guest stopped).
 */
static int console_copy(int console_fd, bool interactive) {
        char buf[4096];
        /* Read-only: a script's stdin is not needed; a terminal's only for
         * the escape character. */
        bool stdin_open = interactive || !arg_read_only;
        usec_t last_output = now_usec();

        for (;;) {
                struct pollfd p[2] = {
                        { .fd = console_fd, .events = POLLIN },
                        { .fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
                };
                int timeout = -1;
                ssize_t n;

                if (console_quit)
                        return GUESTCTL_EXIT_OK;
                if (!stdin_open && !interactive && arg_idle_ms > 0) {
                        usec_t idle = (now_usec() - last_output) / 1000;
                        if (idle >= arg_idle_ms)
                                return GUESTCTL_EXIT_OK;
                        timeout = (int) (arg_idle_ms - idle);
                }
                if (poll(p, 2, timeout) < 0) {
                        if (errno == EINTR)
                                continue;
                        log_error_errno(-errno, "poll() failed: %m");
                        return GUESTCTL_EXIT_FAIL;
                }
                if (p[0].revents) {
                        n = read(console_fd, buf, sizeof(buf));
                        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (n <= 0) {
                                if (interactive)
                                        fprintf(stderr, "\r\n[console closed: the guest stopped]\r\n");
                                return GUESTCTL_EXIT_OK;
                        }
                        if (loop_write(STDOUT_FILENO, buf, n) < 0)
                                return GUESTCTL_EXIT_OK; /* stdout went away (| head): done */
                        last_output = now_usec();
                }
                if (p[1].revents) {
                        n = read(STDIN_FILENO, buf, sizeof(buf));
                        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (n <= 0) {
                                stdin_open = false;
                                last_output = now_usec();
                                continue;
                        }
                        if (interactive) {
                                char *escape = memchr(buf, CONSOLE_ESCAPE, n);
                                if (escape) {
                                        if (escape > buf)
                                                (void) loop_write(console_fd, buf, escape - buf);
                                        return GUESTCTL_EXIT_OK;
                                }
                        }
                        if (arg_read_only)
                                continue;
                        if (loop_write(console_fd, buf, n) < 0) {
                                if (interactive)
                                        fprintf(stderr, "\r\n[console closed: the guest stopped]\r\n");
                                return GUESTCTL_EXIT_OK;
                        }
                }
        }
}

static int verb_console(int argc, char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int console_fd = -EBADF;
        bool interactive = isatty(STDIN_FILENO);
        int fd, r;

        r = connect_to_guest(argv[1], &bus, &path);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        if (arg_read_only && arg_force) {
                log_error("--read-only and --force exclude each other: --force takes over the typing session.");
                return GUESTCTL_EXIT_USAGE;
        }
        r = sd_bus_call_method(bus, GUESTD_BUS_NAME, path, GUESTD_GUEST_IFACE, "OpenConsole", &error, &reply, "s",
                               arg_read_only ? "read-only" : arg_force ? "force" : "write");
        if (r < 0)
                return bus_call_failed(&error, r, "OpenConsole");
        r = sd_bus_message_read(reply, "h", &fd);
        if (r < 0) {
                log_error_errno(r, "Malformed reply to OpenConsole: %m");
                return GUESTCTL_EXIT_FAIL;
        }
        /* The message owns fd; keep our own copy past its lifetime. */
        console_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (console_fd < 0) {
                log_error_errno(-errno, "Failed to duplicate the console fd: %m");
                return GUESTCTL_EXIT_FAIL;
        }
        reply = sd_bus_message_unref(reply);
        bus = sd_bus_flush_close_unref(bus); /* not needed while copying */

        signal(SIGPIPE, SIG_IGN);
        struct sigaction sa = { .sa_handler = console_on_signal };
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);

        if (interactive) {
                r = console_raw_terminal();
                if (r < 0) {
                        log_error_errno(r, "Failed to put the terminal into raw mode: %m");
                        return GUESTCTL_EXIT_FAIL;
                }
                fprintf(stderr, "Connected to guest %s%s. Escape character is ^] (Ctrl-]).\r\n", argv[1],
                        arg_read_only ? " (read-only)" : "");
        }
        r = console_copy(console_fd, interactive);
        console_restore_terminal();
        if (interactive)
                fprintf(stderr, "\n");
        return r;
}

/* ------------------------------------------------------------ table */

struct verb {
        const char *name;
        int (*fn)(int argc, char **argv);
        int min_args, max_args; /* positional arguments after the verb */
        unsigned options;       /* OPT_* bits accepted besides --bus, --help */
        const char *usage;
        const char *help;
};

static int verb_help(int argc, char **argv);

static const struct verb verbs[] = {
        { "create", verb_create, 1, 1, OPT_CREATE | OPT_JSON,
          "create NAME --kernel FILE [--initrd FILE] [--cmdline STRING] [--memory MiB] [--vcpus N] [--disk FILE[,ro][,id=ID]]... "
          "[--[no-]acpi] [--[no-]cmdline-devices]",
          "Define a guest (memory defaults to " STRINGIFY(GUEST_MEMORY_MIB_DEFAULT) " MiB, vCPUs to " STRINGIFY(GUEST_VCPUS_DEFAULT)
          "; relative paths are taken from the current directory). The "
          "guest has ACPI tables, where distribution kernels find their disks and the power button that stop presses; "
          "--no-acpi: none (--acpi: the default, said). --cmdline-devices: the disks on the kernel command line too (virtio_mmio.device=, for kernels "
          "built to find them there); the default without ACPI, and never both off." },
        { "remove", verb_remove, 1, 1, 0, "remove NAME", "Remove a guest that is not running." },
        { "list", verb_list, 0, 0, OPT_JSON, "list [--json]", "List your guests (uid 0: everyone's)." },
        { "status", verb_status, 1, 1, OPT_JSON | OPT_RAW, "status NAME [--json] [--raw]",
          "Show a guest's state and configuration. On a terminal, control characters in what the guest's launcher or owner "
          "wrote (its state reason, paths, command line) are shown escaped; --raw: as they are." },
        { "start", verb_start, 1, 1, 0, "start NAME", "Start a guest, within your quota." },
        { "stop", verb_stop, 1, 1, OPT_FORCE, "stop NAME [--force]",
          "Ask the guest to shut down (the ACPI power button where the guest listens for it, else Ctrl-Alt-Del), wait up to the policy's timeouts.stop, then stop it in order (vCPUs "
          "halted, disks flushed); prints which happened. --force kills it at once (of a suspended guest: discards its "
          "snapshot)." },
        { "pause", verb_pause, 1, 1, 0, "pause NAME", "Freeze a running guest's vCPUs." },
        { "unpause", verb_unpause, 1, 1, 0, "unpause NAME", "Let a paused guest run again." },
        { "suspend", verb_suspend, 1, 1, OPT_JSON, "suspend NAME [--json]",
          "Save a running or paused guest whole to a snapshot (charged to your snapshot storage) and end it: it then holds no "
          "memory, vCPUs or running quota. A progress bar shows on a terminal; --json: none." },
        { "resume", verb_resume, 1, 1, OPT_JSON, "resume NAME [--json]",
          "Start a suspended guest again from its snapshot, where it stopped (the snapshot is deleted once it runs)." },
        { "console", verb_console, 1, 1, OPT_IDLE | OPT_FORCE | OPT_READ_ONLY, "console NAME [--read-only|--force] [--idle MS]",
          "Attach to the guest's serial console; Ctrl-] leaves. One session at a time types into the guest: --read-only "
          "attaches beside it and only watches, --force takes its place (it is disconnected). With stdin not a terminal: "
          "stdin is typed, and guestctl leaves once stdin has ended and the guest has said nothing for --idle milliseconds "
          "(default 1000; 0: until the guest stops)." },
        { "log", verb_log, 1, 1, OPT_JSON | OPT_RAW, "log NAME [--json] [--raw]",
          "Print the last " STRINGIFY(GUEST_CONSOLE_LOG_KIB) " KiB the guest wrote to its console. On a terminal, control "
          "characters (escape sequences) and "
          "bytes that are not UTF-8 are shown escaped (\\x1b), lines and tabs kept; --raw: the bytes as they are." },
        { "quota", verb_quota, 0, 0, OPT_JSON, "quota [--json]",
          "Show your limits and what you use of them, and the host's page-table budget." },
        { "budget", verb_budget, 0, 1, OPT_JSON, "budget [MiB|N%|policy] [--json]",
          "Show the host-wide budget of KVM's shadow page tables, what they use and the memory pressure; root: set the "
          "budget (until the policy is reloaded; \"policy\": the policy's again)." },
        { "help", verb_help, 0, 1, 0, "help [VERB]", "Show this help, or a verb's." },
};

static const struct verb *verb_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(verbs[i].name, name) == 0)
                        return &verbs[i];
        return NULL;
}

static void help_verb(FILE *f, const struct verb *v) {
        fprintf(f, "Usage: guestctl [--bus ADDRESS] %s\n\n%s\n", v->usage, v->help);
}

static void help(FILE *f) {
        fprintf(f,
                "Usage: guestctl [--bus ADDRESS] [--json] VERB [ARGS...]\n"
                "\n"
                "Create and run virtual machines through guestd, within your quota.\n"
                "\n"
                "Verbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "  %s\n", verbs[i].usage);
        fprintf(f,
                "\n"
                "Options:\n"
                "  --bus ADDRESS  D-Bus address of the bus guestd is on (default: $DBUS_SYSTEM_BUS_ADDRESS,\n"
                "                 else the system bus)\n"
                "  --json         machine-readable output (list, status, quota, log, create; suspend, resume: no progress bar)\n"
                "  --raw          log, status: print what a guest or its owner wrote as it is; on a terminal\n"
                "                 control characters are otherwise shown escaped (\\x1b)\n"
                "  -h, --help     this help; `guestctl VERB --help` for one verb\n"
                "  --version      print the version and exit\n"
                "\n"
                "Exit status: 0 ok, 1 other failure, 2 usage error, 3 no such guest, 4 access denied,\n"
                "5 quota exceeded, 6 bad state, 7 guestd unreachable, 8 invalid argument, 9 exists,\n"
                "10 KVM unavailable, 11 bad snapshot, 12 timed out. See guestctl(1).\n");
}

static int verb_help(int argc, char **argv) {
        const struct verb *v;

        if (argc < 2) {
                help(stdout);
                return GUESTCTL_EXIT_OK;
        }
        v = verb_find(argv[1]);
        if (!v) {
                log_error("Unknown verb \"%s\"; `guestctl --help` lists them.", argv[1]);
                return GUESTCTL_EXIT_USAGE;
        }
        help_verb(stdout, v);
        return GUESTCTL_EXIT_OK;
}

/* ------------------------------------------------------------ main */

static int parse_number(const char *option, const char *s, uint64_t *ret) {
        int r = safe_atou64(s, ret);
        if (r < 0) {
                log_error("%s wants a non-negative whole number, got \"%s\".", option, s);
                return GUESTCTL_EXIT_USAGE;
        }
        return GUESTCTL_EXIT_OK;
}

static int parse_argv(int argc, char **argv) {
        enum { ARG_BUS = 0x100, ARG_JSON, ARG_KERNEL, ARG_INITRD, ARG_CMDLINE, ARG_MEMORY, ARG_VCPUS, ARG_DISK, ARG_IDLE, ARG_READ_ONLY,
               ARG_ACPI, ARG_NO_ACPI, ARG_CMDLINE_DEVICES, ARG_NO_CMDLINE_DEVICES, ARG_VERSION, ARG_RAW };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "bus", required_argument, NULL, ARG_BUS },
                { "json", no_argument, NULL, ARG_JSON },
                { "kernel", required_argument, NULL, ARG_KERNEL },
                { "initrd", required_argument, NULL, ARG_INITRD },
                { "cmdline", required_argument, NULL, ARG_CMDLINE },
                { "memory", required_argument, NULL, ARG_MEMORY },
                { "vcpus", required_argument, NULL, ARG_VCPUS },
                { "disk", required_argument, NULL, ARG_DISK },
                { "acpi", no_argument, NULL, ARG_ACPI },
                { "no-acpi", no_argument, NULL, ARG_NO_ACPI },
                { "cmdline-devices", no_argument, NULL, ARG_CMDLINE_DEVICES },
                { "no-cmdline-devices", no_argument, NULL, ARG_NO_CMDLINE_DEVICES },
                { "force", no_argument, NULL, 'f' },
                { "idle", required_argument, NULL, ARG_IDLE },
                { "read-only", no_argument, NULL, ARG_READ_ONLY },
                { "raw", no_argument, NULL, ARG_RAW },
                {}
        };
        int c, r;

        opterr = 0;
        arg_seen_name[1] = "--kernel, --initrd, --cmdline, --memory, --vcpus, --disk, --[no-]acpi or --[no-]cmdline-devices";
        while ((c = getopt_long(argc, argv, "hf", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        arg_seen |= 1u << 31;
                        break;
                case ARG_BUS:
                        arg_bus_address = optarg;
                        break;
                case ARG_JSON:
                        arg_json = true;
                        arg_seen |= OPT_JSON;
                        arg_seen_name[0] = "--json";
                        break;
                case ARG_KERNEL:
                        arg_kernel = optarg;
                        arg_seen |= OPT_CREATE;
                        break;
                case ARG_INITRD:
                        arg_initrd = optarg;
                        arg_seen |= OPT_CREATE;
                        break;
                case ARG_CMDLINE:
                        arg_cmdline = optarg;
                        arg_seen |= OPT_CREATE;
                        break;
                case ARG_MEMORY:
                        arg_seen |= OPT_CREATE;
                        if ((r = parse_number("--memory", optarg, &arg_memory_mib)) != GUESTCTL_EXIT_OK)
                                return r;
                        break;
                case ARG_VCPUS:
                        arg_seen |= OPT_CREATE;
                        if ((r = parse_number("--vcpus", optarg, &arg_vcpus)) != GUESTCTL_EXIT_OK)
                                return r;
                        break;
                case ARG_DISK: {
                        char **d = realloc(arg_disks, (arg_n_disks + 1) * sizeof(char *));
                        if (!d)
                                return log_oom();
                        arg_disks = d;
                        arg_disks[arg_n_disks++] = optarg;
                        arg_seen |= OPT_CREATE;
                        break;
                }
                case ARG_ACPI:
                case ARG_NO_ACPI:
                        arg_acpi = c == ARG_ACPI;
                        arg_seen |= OPT_CREATE;
                        break;
                case ARG_CMDLINE_DEVICES:
                case ARG_NO_CMDLINE_DEVICES:
                        arg_cmdline_devices = c == ARG_CMDLINE_DEVICES;
                        arg_seen |= OPT_CREATE;
                        break;
                case ARG_VERSION:
                        printf("guestctl %s\n", GUESTD_VERSION);
                        exit(GUESTCTL_EXIT_OK);
                case 'f':
                        arg_force = true;
                        arg_seen |= OPT_FORCE;
                        arg_seen_name[2] = "--force";
                        break;
                case ARG_READ_ONLY:
                        arg_read_only = true;
                        arg_seen |= OPT_READ_ONLY;
                        arg_seen_name[4] = "--read-only";
                        break;
                case ARG_RAW:
                        arg_raw = true;
                        arg_seen |= OPT_RAW;
                        arg_seen_name[5] = "--raw";
                        break;
                case ARG_IDLE:
                        arg_seen |= OPT_IDLE;
                        arg_seen_name[3] = "--idle";
                        if ((r = parse_number("--idle", optarg, &arg_idle_ms)) != GUESTCTL_EXIT_OK)
                                return r;
                        break;
                case '?':
                        if (optopt)
                                log_error("Unknown option -%c; see guestctl --help.", optopt);
                        else
                                log_error("Unknown option or missing argument in \"%s\"; see guestctl --help.",
                                          argv[optind - 1]);
                        return GUESTCTL_EXIT_USAGE;
                }
        }
        return GUESTCTL_EXIT_OK;
}

int main(int argc, char **argv) {
        const struct verb *v;
        int r, n_args;

        log_set_program("guestctl");
        r = parse_argv(argc, argv);
        if (r != GUESTCTL_EXIT_OK)
                return r;

        if (optind >= argc) {
                if (arg_seen & (1u << 31)) {
                        help(stdout);
                        return GUESTCTL_EXIT_OK;
                }
                help(stderr);
                return GUESTCTL_EXIT_USAGE;
        }
        v = verb_find(argv[optind]);
        if (!v) {
                log_error("Unknown verb \"%s\"; `guestctl --help` lists them.", argv[optind]);
                return GUESTCTL_EXIT_USAGE;
        }
        if (arg_seen & (1u << 31)) {
                help_verb(stdout, v);
                return GUESTCTL_EXIT_OK;
        }
        if (arg_seen & ~v->options & ~(1u << 31)) {
                for (size_t i = 0; i < ELEMENTSOF(arg_seen_name); i++)
                        if (arg_seen & ~v->options & (1u << i)) {
                                log_error("\"%s\" does not take %s.", v->name, arg_seen_name[i]);
                                break;
                        }
                help_verb(stderr, v);
                return GUESTCTL_EXIT_USAGE;
        }
        n_args = argc - optind - 1;
        if (n_args < v->min_args || n_args > v->max_args) {
                log_error("\"%s\" takes %s.", v->name,
                          v->max_args == 0 ? "no arguments" : v->min_args == v->max_args ? "exactly one argument" : "at most one argument");
                help_verb(stderr, v);
                return GUESTCTL_EXIT_USAGE;
        }
        r = v->fn(argc - optind, argv + optind);
        free(arg_disks);
        return r;
}
