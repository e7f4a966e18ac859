/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * verbs.h: guestctl's verbs, one function each, grouped by job:
 *   verbs-define.c   create, remove: a guest's definition
 *   verbs-show.c     list, status, log: what there is and what it said
 *   verbs-run.c      start, stop, pause, unpause, suspend, resume
 *   verbs-console.c  console: the guest's serial console
 *   verbs-host.c     quota, budget: the caller's limits, the host's budget
 * guestctl.c's table says which options and arguments each takes.
 *
 * A verb gets argv from the verb on (argv[0] is the verb) and returns the
 * process's exit status (enum guestctl_exit in bus-api.h, guestctl(1)),
 * having said what went wrong on stderr: this is the edge where errors
 * end, so it speaks exit codes instead of negative errno.
 */
#pragma once

int verb_create(int argc, char **argv);
int verb_remove(int argc, char **argv);

int verb_list(int argc, char **argv);
int verb_status(int argc, char **argv);
int verb_log(int argc, char **argv);

int verb_start(int argc, char **argv);
int verb_stop(int argc, char **argv);
int verb_pause(int argc, char **argv);
int verb_unpause(int argc, char **argv);
int verb_suspend(int argc, char **argv);
int verb_resume(int argc, char **argv);

int verb_console(int argc, char **argv);

int verb_quota(int argc, char **argv);
int verb_budget(int argc, char **argv);
