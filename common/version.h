/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * version.h: the project's version, which guestd, guestd-launcher and
 * guestctl print for --version. debian/changelog's upstream version is the
 * same (tests/test-packaging.sh checks).
 */
#pragma once

#define GUESTD_VERSION "0.1.0"
