/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus-api.h: org.guestd1 as every program of the project sees it: the bus
 * name, object paths and interfaces (dbus/org.guestd1.xml documents them),
 * and each error guestd replies with, its errno and the exit status
 * guestctl gives for it (guestctl(1) documents those numbers; scripts rely
 * on them). guestd, guestctl, the tests' bus tools and the benchmarks
 * include this one file.
 */
#pragma once

#include <systemd/sd-bus.h>

#define GUESTD_BUS_NAME "org.guestd1"
#define GUESTD_OBJECT_PATH "/org/guestd1"
#define GUESTD_GUEST_PREFIX "/org/guestd1/guest"
#define GUESTD_MANAGER_IFACE "org.guestd1.Manager"
#define GUESTD_GUEST_IFACE "org.guestd1.Guest"
#define GUESTD_ERROR_PREFIX "org.guestd1.Error."

#define GUESTD_ERROR_QUOTA GUESTD_ERROR_PREFIX "QuotaExceeded"
#define GUESTD_ERROR_NO_SUCH_GUEST GUESTD_ERROR_PREFIX "NoSuchGuest"
#define GUESTD_ERROR_ACCESS_DENIED GUESTD_ERROR_PREFIX "AccessDenied"
#define GUESTD_ERROR_INVALID_ARGUMENT GUESTD_ERROR_PREFIX "InvalidArgument"
#define GUESTD_ERROR_BAD_STATE GUESTD_ERROR_PREFIX "BadState"
#define GUESTD_ERROR_EXISTS GUESTD_ERROR_PREFIX "Exists"
#define GUESTD_ERROR_KVM_UNAVAILABLE GUESTD_ERROR_PREFIX "KvmUnavailable"
#define GUESTD_ERROR_FAILED GUESTD_ERROR_PREFIX "Failed"
#define GUESTD_ERROR_BAD_SNAPSHOT GUESTD_ERROR_PREFIX "BadSnapshot"
#define GUESTD_ERROR_LIMIT GUESTD_ERROR_PREFIX "LimitExceeded"
/* Someone else holds it: a guest's console has a writer. */
#define GUESTD_ERROR_BUSY GUESTD_ERROR_PREFIX "Busy"
/* A bounded wait ran out: a file that did not open in time (a file system
 * that does not answer), a guest that did not shut down in time. */
#define GUESTD_ERROR_TIMEOUT GUESTD_ERROR_PREFIX "Timeout"

/* guestctl's exit statuses. */
enum guestctl_exit {
        GUESTCTL_EXIT_OK = 0,
        GUESTCTL_EXIT_FAIL = 1,              /* anything not listed below */
        GUESTCTL_EXIT_USAGE = 2,             /* guestctl's own command line is wrong */
        GUESTCTL_EXIT_NO_SUCH_GUEST = 3,     /* NoSuchGuest */
        GUESTCTL_EXIT_ACCESS_DENIED = 4,     /* AccessDenied, or the bus refused */
        GUESTCTL_EXIT_QUOTA_EXCEEDED = 5,    /* QuotaExceeded, LimitExceeded */
        GUESTCTL_EXIT_BAD_STATE = 6,         /* BadState, Busy */
        GUESTCTL_EXIT_UNREACHABLE = 7,       /* no bus, or guestd is not on it, or no reply */
        GUESTCTL_EXIT_INVALID_ARGUMENT = 8,  /* InvalidArgument */
        GUESTCTL_EXIT_EXISTS = 9,            /* Exists */
        GUESTCTL_EXIT_KVM_UNAVAILABLE = 10,  /* KvmUnavailable */
        GUESTCTL_EXIT_BAD_SNAPSHOT = 11,     /* BadSnapshot */
        GUESTCTL_EXIT_TIMEOUT = 12,          /* Timeout */
};

/* For sd_bus_error_add_map(): each org.guestd1.Error with its errno, so
 * that sd_bus_error_get_errno() and sd_bus_error_set_errno() agree on
 * both sides of the bus. */
extern const sd_bus_error_map guestd_bus_error_map[];

/* The exit status guestctl gives for an error reply (guestd's and the
 * bus's own); GUESTCTL_EXIT_FAIL for any other. */
int guestctl_exit_from_bus_error(const sd_bus_error *error);
