/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * measure: run a command N times and report its wall time and peak RSS
 * (from wait4's rusage), for bench.sh. Output, one line:
 *   runs=N median_ms=.. min_ms=.. p90_ms=.. max_rss_kib=.. failures=..
 * A run "fails" if its exit status is not the one expected (-e, default 0).
 * The command's stdout and stderr go to /dev/null unless -o FILE is given
 * (then the last run's output is kept there).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

int main(int argc, char *argv[]) {
        int runs = 20, expect = 0, c, failures = 0;
        const char *out = "/dev/null";
        long max_rss = 0;

        while ((c = getopt(argc, argv, "+n:e:o:")) >= 0)
                switch (c) {
                case 'n': runs = atoi(optarg); break;
                case 'e': expect = atoi(optarg); break;
                case 'o': out = optarg; break;
                default:
                        fprintf(stderr, "usage: measure [-n RUNS] [-e EXIT] [-o FILE] -- COMMAND...\n");
                        return 2;
                }
        if (optind >= argc || runs < 1) {
                fprintf(stderr, "usage: measure [-n RUNS] [-e EXIT] [-o FILE] -- COMMAND...\n");
                return 2;
        }
        double *ms = calloc(runs, sizeof(double));
        if (!ms)
                return 1;
        for (int i = 0; i < runs; i++) {
                struct timespec a, b;
                struct rusage ru;
                int status;
                pid_t pid;

                clock_gettime(CLOCK_MONOTONIC, &a);
                pid = fork();
                if (pid < 0)
                        return 1;
                if (pid == 0) {
                        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644), null = open("/dev/null", O_RDONLY);
                        if (fd < 0 || null < 0)
                                _exit(127);
                        dup2(null, 0);
                        dup2(fd, 1);
                        dup2(fd, 2);
                        execvp(argv[optind], argv + optind);
                        _exit(127);
                }
                if (wait4(pid, &status, 0, &ru) < 0)
                        return 1;
                clock_gettime(CLOCK_MONOTONIC, &b);
                ms[i] = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
                if (ru.ru_maxrss > max_rss)
                        max_rss = ru.ru_maxrss;
                if (!WIFEXITED(status) || WEXITSTATUS(status) != expect)
                        failures++;
        }
        qsort(ms, runs, sizeof(double), cmp_double);
        printf("runs=%d median_ms=%.2f min_ms=%.2f p90_ms=%.2f max_rss_kib=%ld failures=%d\n", runs,
               runs % 2 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2, ms[0], ms[(runs * 9) / 10 < runs ? (runs * 9) / 10 : runs - 1],
               max_rss, failures);
        free(ms);
        return 0;
}
