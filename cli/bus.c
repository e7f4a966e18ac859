/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus.c: see bus.h. */
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "bus.h"
#include "log.h"
#include "util.h"

int bus_call_failed(const sd_bus_error *error, int r, const char *what) {
        if (sd_bus_error_has_names(error, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                log_error("guestd is not running: nothing owns %s on the bus. "
                          "Start it (systemctl start guestd) or pass the right --bus.", GUESTD_BUS_NAME);
        else if (sd_bus_error_has_names(error, SD_BUS_ERROR_NO_REPLY, SD_BUS_ERROR_TIMEOUT))
                log_error("guestd did not answer in time when asked to %s.", what);
        else if (sd_bus_error_has_name(error, SD_BUS_ERROR_ACCESS_DENIED) && !(error->message && error->message[0]))
                log_error("The bus does not let you %s.", what);
        else if (sd_bus_error_is_set(error) && error->message && error->message[0])
                log_error("%s", error->message);
        else if (sd_bus_error_is_set(error))
                log_error("Could not %s: %s", what, error->name);
        else
                log_error_errno(r, "Could not %s: %m", what);
        return sd_bus_error_is_set(error) ? guestctl_exit_from_bus_error(error) : GUESTCTL_EXIT_FAIL;
}

int bus_guest_call_failed(const char *name, const sd_bus_error *error, int r, const char *what) {
        /* A name of the caller's own: say it as guestctl is used. (For
         * UID/NAME guestd's sentence names the user, and is right.) */
        if (sd_bus_error_has_name(error, GUESTD_ERROR_NO_SUCH_GUEST) && !strchr(name, '/')) {
                log_error("You have no guest named '%s'; `guestctl list` shows yours.", name);
                return GUESTCTL_EXIT_NO_SUCH_GUEST;
        }
        return bus_call_failed(error, r, what);
}

int bus_reply_malformed(int r, const char *what) {
        log_error_errno(r, "guestd's answer was malformed (asked to %s): %m", what);
        return GUESTCTL_EXIT_FAIL;
}

static int bus_oom(void) {
        log_error("Out of memory.");
        return GUESTCTL_EXIT_FAIL;
}

static int bus_open_address(const char *address, sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, true);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(bus);
        return 0;
}

int bus_connect(sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *where;
        int r;

        (void) sd_bus_error_add_map(guestd_bus_error_map);
        if (args.bus_address) {
                where = args.bus_address;
                r = bus_open_address(args.bus_address, &bus);
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

int bus_manager_call(const char *guest, const char *method, const char *what, sd_bus **ret_bus, sd_bus_message **ret_reply,
                     const char *types, ...) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        va_list ap;
        int r;

        r = bus_connect(&bus);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        va_start(ap, types);
        r = sd_bus_call_methodv(bus, GUESTD_BUS_NAME, GUESTD_OBJECT_PATH, GUESTD_MANAGER_IFACE, method, &error, ret_reply, types, ap);
        va_end(ap);
        if (r < 0)
                return guest ? bus_guest_call_failed(guest, &error, r, what) : bus_call_failed(&error, r, what);
        if (ret_bus)
                *ret_bus = TAKE_PTR(bus);
        return GUESTCTL_EXIT_OK;
}

int bus_guest_reference(const char *name, char **ret) {
        const char *slash = strchr(name, '/');
        _cleanup_free_ char *user = NULL;
        struct passwd *pw;

        if (!slash || slash == name || strspn(name, "0123456789") == (size_t) (slash - name)) {
                *ret = strdup(name);
                return *ret ? GUESTCTL_EXIT_OK : GUESTCTL_EXIT_FAIL;
        }
        user = strndup(name, (size_t) (slash - name));
        if (!user)
                return GUESTCTL_EXIT_FAIL;
        pw = getpwnam(user);
        if (!pw) {
                log_error("There is no user '%s' here: write OWNER/NAME with the owner's user name or uid, as `guestctl list` shows them.",
                          user);
                return GUESTCTL_EXIT_NO_SUCH_GUEST;
        }
        return asprintf(ret, "%u%s", (unsigned) pw->pw_uid, slash) < 0 ? GUESTCTL_EXIT_FAIL : GUESTCTL_EXIT_OK;
}

int bus_guest_open(const char *name, sd_bus **ret_bus, char **ret_path) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *reference = NULL;
        const char *path;
        char *copy;
        int r;

        r = bus_guest_reference(name, &reference);
        if (r != GUESTCTL_EXIT_OK)
                return r == GUESTCTL_EXIT_FAIL ? bus_oom() : r;
        r = bus_connect(&bus);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        r = sd_bus_call_method(bus, GUESTD_BUS_NAME, GUESTD_OBJECT_PATH, GUESTD_MANAGER_IFACE, "GetGuest", &error, &reply, "s", reference);
        if (r < 0)
                return bus_guest_call_failed(name, &error, r, "find the guest");
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return bus_reply_malformed(r, "find the guest");
        copy = strdup(path);
        if (!copy)
                return bus_oom();
        *ret_path = copy;
        *ret_bus = TAKE_PTR(bus);
        return GUESTCTL_EXIT_OK;
}

int bus_guest_call(const char *name, const char *method, const char *what, const char *types, ...) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        va_list ap;
        int r;

        r = bus_guest_open(name, &bus, &path);
        if (r != GUESTCTL_EXIT_OK)
                return r;
        va_start(ap, types);
        r = sd_bus_call_methodv(bus, GUESTD_BUS_NAME, path, GUESTD_GUEST_IFACE, method, &error, NULL, types, ap);
        va_end(ap);
        if (r < 0)
                return bus_guest_call_failed(name, &error, r, what);
        return GUESTCTL_EXIT_OK;
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

/* One {sv} entry of a GetAll reply into o. */
static int get_all_entry(sd_bus_message *reply, const char *(*key)(const char *property), struct json_object *o) {
        struct json_object *v = NULL;
        const char *property, *k;
        int r;

        r = sd_bus_message_read(reply, "s", &property);
        if (r >= 0)
                r = variant_to_json(reply, &v);
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r < 0 || !v)
                return r;
        k = key(property);
        if (!k || (strcmp(property, "PageTablesInUse") == 0 && json_object_get_uint64(v) == UINT64_MAX)) {
                json_object_put(v);
                v = NULL;
                if (!k)
                        return 0;
        }
        json_object_object_add(o, k, v);
        return 0;
}

int bus_get_all(sd_bus *bus, const char *path, const char *iface, const char *(*key)(const char *property), struct json_object *o) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_call_method(bus, GUESTD_BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll", &error, &reply, "s", iface);
        if (r < 0)
                return bus_call_failed(&error, r, "read the properties");
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0)
                r = get_all_entry(reply, key, o);
        if (r < 0)
                return bus_reply_malformed(r, "read the properties");
        return GUESTCTL_EXIT_OK;
}
