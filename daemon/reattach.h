/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * reattach.h: after a daemon restart, each active guest's launcher found
 * again through the socket it listens on (the launcher runs on while
 * guestd is away), or the guest declared crashed (a suspending one's
 * finished snapshot is still committed).
 */
#pragma once

#include "guest.h"
#include "manager.h"

int reattach_guest(struct manager *m, struct guest *g);
