/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-snapshots.c: the snapshot directory's life cycle: a new file is
 * committed only when it is a whole snapshot of the guest's machine; a
 * commit that finds the file renamed already (guestd killed between the
 * rename and the record) checks the committed one; open refuses what does
 * not check out, with a sentence; clean keeps exactly what guests need. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "snapshot.h"
#include "snapshots.h"
#include "test.h"

static struct guest *make(const char *name, uint64_t memory_mib, enum guest_state state) {
        struct guest_config c = {};
        struct guest *g = NULL;
        char json[256];

        snprintf(json, sizeof(json), "{\"kernel\": \"/k\", \"memory_mib\": %" PRIu64 ", \"vcpus\": 1}", memory_mib);
        if (guest_config_parse(json, &c, NULL) < 0 || guest_new(name, 1000, &c, &g) < 0)
                abort();
        guest_config_done(&c);
        g->state = state;
        return g;
}

/* A snapshot of memory_mib MiB with one touched page and one record;
 * finish=false leaves it without its header, as a launcher killed on the
 * way would. */
static void write_snapshot(int fd, uint64_t memory_mib, bool finish) {
        static const uint8_t page[4096] = { [0] = 0x5a, [4095] = 0xa5 };
        struct snapshot_writer w;
        uint32_t record = 42;

        CHECK_EQ(snapshot_writer_start(&w, fd, memory_mib * MiB), 0);
        CHECK_EQ(pwrite_full(fd, page, sizeof(page), SNAPSHOT_HEADER_SIZE + 8192), 0);
        CHECK_EQ(snapshot_write_record(&w, SNAPSHOT_RECORD_MACHINE, 0, &record, sizeof(record)), 0);
        if (finish)
                CHECK_EQ(snapshot_writer_finish(&w), 0);
}

static bool exists(int dir_fd, const char *name) {
        return faccessat(dir_fd, name, F_OK, 0) == 0;
}

int main(void) {
        char dir[] = "/tmp/test-snapshots.XXXXXX";
        struct guest *g = make("vm", 2, GUEST_SUSPENDING);
        char *error = NULL;
        uint64_t bytes = 0;
        int dir_fd, fd;

        CHECK(mkdtemp(dir));
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(dir_fd >= 0);

        /* A whole snapshot commits: renamed into place, its blocks counted. */
        fd = snapshots_create_new(dir_fd, g);
        CHECK(fd >= 0);
        write_snapshot(fd, 2, true);
        close(fd);
        CHECK_EQ(snapshots_commit(dir_fd, g, &bytes, &error), 0);
        CHECK(!error);
        CHECK(exists(dir_fd, "1000_vm.snap") && !exists(dir_fd, "1000_vm.snap.new"));
        CHECK(bytes >= 4096 && bytes < MiB); /* sparse: one page of RAM, the header, a record */

        /* Committed already (killed after the rename): the same answer. */
        bytes = 0;
        CHECK_EQ(snapshots_commit(dir_fd, g, &bytes, &error), 0);
        CHECK(bytes >= 4096);

        /* Open for a resume. */
        fd = -1;
        CHECK_EQ(snapshots_open(dir_fd, g, &fd, &error), 0);
        CHECK(fd >= 0 && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY);
        close(fd);

        /* A new file without its header (the launcher was killed while
         * writing) does not commit, and the committed one is untouched. */
        fd = snapshots_create_new(dir_fd, g);
        write_snapshot(fd, 2, false);
        close(fd);
        CHECK_EQ(snapshots_commit(dir_fd, g, &bytes, &error), -EBADMSG);
        CHECK(error && strstr(error, "snapshot"));
        free(error);
        error = NULL;
        CHECK_EQ(snapshots_remove_new(dir_fd, g), 0);
        CHECK(exists(dir_fd, "1000_vm.snap") && !exists(dir_fd, "1000_vm.snap.new"));

        /* A snapshot of another machine (4 MiB for a 2 MiB guest). */
        fd = snapshots_create_new(dir_fd, g);
        write_snapshot(fd, 4, true);
        close(fd);
        CHECK_EQ(snapshots_commit(dir_fd, g, &bytes, &error), -EBADMSG);
        CHECK(error && strstr(error, "holds 4 MiB of RAM, the guest has 2"));
        free(error);
        error = NULL;

        /* Remove takes both; open then says the file is missing. */
        CHECK_EQ(snapshots_remove(dir_fd, g), 0);
        CHECK(!exists(dir_fd, "1000_vm.snap") && !exists(dir_fd, "1000_vm.snap.new"));
        CHECK_EQ(snapshots_open(dir_fd, g, &fd, &error), -ENOENT);
        CHECK(error && strstr(error, "missing"));
        free(error);
        error = NULL;
        CHECK_EQ(snapshots_commit(dir_fd, g, &bytes, &error), -ENOENT);
        free(error);
        error = NULL;

        /* Clean: what a suspended or resuming guest's snapshot, or a
         * suspending guest's new file, is kept; everything else goes. */
        {
                struct guest *gs[] = {
                        make("sus", 2, GUEST_SUSPENDED),  make("res", 2, GUEST_STARTING), make("ing", 2, GUEST_SUSPENDING),
                        make("run", 2, GUEST_RUNNING),    make("sto", 2, GUEST_STOPPED),
                };
                const char *keep[] = { "1000_sus.snap", "1000_res.snap", "1000_ing.snap.new" };
                const char *drop[] = { "1000_run.snap", "1000_run.snap.new", "1000_sto.snap", "1000_ing.snap", "99_gone.snap",
                                       "1000_res.snap.new", "junk" };

                gs[1]->resuming = true;
                for (size_t i = 0; i < ELEMENTSOF(keep); i++)
                        close(openat(dir_fd, keep[i], O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
                for (size_t i = 0; i < ELEMENTSOF(drop); i++)
                        close(openat(dir_fd, drop[i], O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
                snapshots_clean(dir_fd, gs, ELEMENTSOF(gs));
                for (size_t i = 0; i < ELEMENTSOF(keep); i++) {
                        CHECK(exists(dir_fd, keep[i]));
                        (void) unlinkat(dir_fd, keep[i], 0);
                }
                for (size_t i = 0; i < ELEMENTSOF(drop); i++)
                        CHECK(!exists(dir_fd, drop[i]));
                for (size_t i = 0; i < ELEMENTSOF(gs); i++)
                        guest_free(gs[i]);
        }

        guest_free(g);
        close(dir_fd);
        CHECK_EQ(rmdir(dir), 0);
        return TEST_RESULT();
}
