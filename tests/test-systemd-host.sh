#!/bin/bash
# guestd-test: systemd-host
# guestd as a distribution ships it (issue 13), on a host where systemd is
# PID 1: tests/run-tests.sh runs this in the nested test VM booted with the
# host's systemd (tests/vm/run-in-vm.sh --systemd), with a real system
# bus, logind, polkitd and machined. It installs the package make deb
# built, the way an admin does (apt-get install ./guestd_*.deb), and:
#   - an unprivileged user's guestctl starts guestd by D-Bus activation
#     (the package neither enables nor starts it);
#   - a running guest is a machine in `machinectl list`, its launcher in
#     its own scope (systemd-cgls), with the guest's memory and task limits
#     on that scope;
#   - errors reach `journalctl -u guestd -p err`, with guestd's fields;
#   - `systemctl restart guestd` leaves the guest running, and the new
#     guestd finds it again;
#   - a polkit rule makes a user an admin, who can then stop another
#     user's guest (without the rule it cannot see it);
#   - `machinectl poweroff` shuts the guest down as guestd's Stop does;
#   - without machined, a Start is refused and says what is missing;
#   - `apt-get purge` ends the running guest and leaves no file, user,
#     process, cgroup or machine behind.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"

[ "${GUESTD_IN_VM:-0}" = 1 ] ||
        skip "it installs and purges the package: it runs only in the nested test VM (tests/vm/run-in-vm.sh --systemd), never on this machine itself"
[ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] ||
        skip "PID 1 is not systemd here: this test runs in the nested test VM booted with systemd (tests/run-tests.sh does that; by hand: tests/vm/run-in-vm.sh --systemd -- $0)"
need_kvm
[ -n "$PY" ] || skip "python3 is missing"
# The VM's root is this machine's: what it boots is what is installed here.
for tool in machinectl:systemd-container /usr/lib/systemd/systemd-machined:systemd-container \
            /usr/lib/polkit-1/polkitd:polkitd apt-get:apt; do
        if ! command -v "${tool%%:*}" >/dev/null; then
                fail "${tool%%:*} is missing: install ${tool#*:} on the machine that boots the VM (make deps does)"
                finish
        fi
done
DEB=$(ls build/deb/guestd_*_amd64.deb 2>/dev/null | tail -n 1)
if [ -z "$DEB" ]; then
        fail "no build/deb/guestd_*.deb: run 'make deb' first (make check does)"
        finish
fi
DEB=$(abspath "$DEB")
OUT=$TMP/out
# The kernels, where the test users can read them.
G=$(mktemp -d /tmp/guestd-systemd-host.XXXXXX)
chmod 0755 "$G"
trap 'rm -rf "$TMP" "$G"' EXIT

ensure_user "$USER_A"
ensure_user "$USER_B"
UID_A=$(id -u "$USER_A") UID_B=$(id -u "$USER_B")
for g in count end-triple kbd; do
        install -m 0644 "$GUESTS/$g.elf" "$G/$g.elf"
done
# The installed guestctl, on the system bus, as each user.
CTL_A=(setpriv --reuid="$UID_A" --regid="$UID_A" --clear-groups /usr/bin/guestctl)
CTL_B=(setpriv --reuid="$UID_B" --regid="$UID_B" --clear-groups /usr/bin/guestctl)
ctl_a() { "${CTL_A[@]}" "$@"; }
ctl_b() { "${CTL_B[@]}" "$@"; }
unset DBUS_SYSTEM_BUS_ADDRESS

# What is there before: accounts, and nothing of guestd's.
getent passwd | sort >"$TMP/passwd.before"
getent group | sort >"$TMP/group.before"

# --- install
# This VM's root is the host's, and a container's root may carry Docker's
# /usr/sbin/policy-rc.d, which forbids every service action of the
# maintainer scripts (exit 101): a real host has none. Gone here (the VM's
# overlay; the host's file stays).
rm -f /usr/sbin/policy-rc.d
export DEBIAN_FRONTEND=noninteractive
# (No --no-download: apt 2.6 then fails on a local .deb, "Pathname to
# install is not absolute". The VM has no network; everything the package
# depends on is installed already.)
# man-db's trigger rebuilds the whole manual index: minutes under TCG, and
# nothing of guestd's.
echo "man-db man-db/auto-update boolean false" | debconf-set-selections
if ! TEST_TIMEOUT=600 expect_exit 0 "apt-get install ./$(basename "$DEB")" apt-get install -y -q "$DEB"; then
        echo "    nothing else can be checked without the package" >&2
        finish
fi
dpkg -L guestd | sort >"$TMP/files"
check "the package is installed" [ -s "$TMP/files" ]
check "guestd is not started by the installation" eval '! systemctl is-active -q guestd.service'
check "nor enabled (D-Bus activation starts it)" eval '[ "$(systemctl is-enabled guestd.service 2>&1)" != enabled ]'
check "the unit passes systemd-analyze verify" systemd-analyze verify guestd.service

# --- D-Bus activation, and a guest in its machine scope
expect_exit 0 "A creates a guest: D-Bus activation starts guestd" "${CTL_A[@]}" create web --kernel "$G/count.elf" --memory 16 \
        --cmdline "count.delay=100000"
check "guestd is active" systemctl is-active -q guestd.service
expect_exit 0 "A starts it" "${CTL_A[@]}" start web
check "web is running" eval '[ "$(ctl_a status web --json | json "d[\"state\"]")" = running ]'
launcher_pid() { pgrep -x guestd-launcher | head -n 1; }
LPID=$(launcher_pid)
check "its launcher runs" [ -n "$LPID" ]
handle=$(ctl_a status web --json | json 'd["object"]' | sed 's|.*/||')
expect_exit 0 "machinectl list" machinectl list --no-legend --no-pager
expect_grep "$OUT" "guestd-$handle" "machinectl list shows the guest as a machine"
expect_exit 0 "machinectl status" machinectl status --no-pager "guestd-$handle"
expect_grep "$OUT" "Unit: machine-.*\\.scope" "machinectl status shows its scope"
expect_grep "$OUT" "Leader: $LPID" "with the launcher as its leader"
scope=$(sed -n 's|^0::||p' "/proc/$LPID/cgroup")
echo "    launcher $LPID in $scope"
check "the launcher is in a scope under machine.slice" eval '[[ "$scope" == /machine.slice/machine-*.scope ]]'
check "the scope has the guest's memory limit" eval '[ "$(cat "/sys/fs/cgroup$scope/memory.max")" != max ]'
check "the scope has the guest's task limit" eval '[ "$(cat "/sys/fs/cgroup$scope/pids.max")" != max ]'
expect_exit 0 "systemd-cgls" systemd-cgls --no-pager
expect_grep "$OUT" "guestd-launcher" "systemd-cgls shows the launcher"
check "the launcher is not in guestd.service's cgroup" eval '! grep -q "^0::/system.slice/guestd.service" "/proc/$LPID/cgroup"'

# --- the journal
expect_exit 0 "A creates a guest that crashes" "${CTL_A[@]}" create crash --kernel "$G/end-triple.elf" --memory 16
"${CTL_A[@]}" start crash >/dev/null 2>&1
crashed() { [ "$(ctl_a status crash --json | json 'd["state"]')" = crashed ]; }
check "it crashes" wait_until 30 crashed
in_journal() { journalctl -u guestd.service -p err --no-pager -o cat | grep -q "triple fault"; }
check "the crash is in journalctl -u guestd -p err" wait_until 20 in_journal
journalctl -u guestd.service -p err --no-pager -o cat | sed 's/^/    err: /' | head -n 10
expect_exit 0 "journalctl MESSAGE_ID= (crashed) -o json" journalctl -u guestd.service --no-pager -o json \
        MESSAGE_ID=358a0adf61d14242877ba20d07f0f314
expect_grep "$OUT" "\"OWNER_UID\":\"$UID_A\"" "the crash carries OWNER_UID"
expect_grep "$OUT" '"GUEST":"' "and GUEST"

# --- restart guestd with the guest running
before=$(systemctl show -p MainPID --value guestd.service)
if ! expect_exit 0 "systemctl restart guestd" systemctl restart guestd.service; then
        systemctl status --no-pager -l guestd.service 2>&1 | sed 's/^/    status: /' >&2
        journalctl -u guestd.service -n 30 --no-pager 2>&1 | sed 's/^/    journal: /' >&2
        for f in /sys/fs/cgroup/system.slice/guestd.service/cgroup.subtree_control \
                /sys/fs/cgroup/system.slice/guestd.service/cgroup.procs; do
                echo "    $f: $(tr '\n' ' ' <"$f")" >&2
        done
        find /sys/fs/cgroup/system.slice/guestd.service -type d | sed 's/^/    cgroup: /' >&2
        echo "    nothing after this can be checked without guestd" >&2
        finish
fi
after=$(systemctl show -p MainPID --value guestd.service)
check "a new guestd runs ($before -> $after)" [ "$after" != "$before" ] && [ "$after" != 0 ]
check "the launcher outlived the restart" kill -0 "$LPID"
check "the new guestd finds web running" eval '[ "$(ctl_a status web --json | json "d[\"state\"]")" = running ]'
last_count() { ctl_a log web | sed -n 's/^count \([0-9]*\)$/\1/p' | tail -n 1; }
n=$(last_count)
check "web goes on counting after the restart" wait_until 30 eval '[ "$(last_count)" -gt "${n:-0}" ]'
check "it is still the same machine" eval 'machinectl status --no-pager "guestd-$handle" >/dev/null'

# --- polkit: an admin by rule
expect_exit 3 "B cannot see A's guest" "${CTL_B[@]}" status "$UID_A/web"
mkdir -p /etc/polkit-1/rules.d
cat >/etc/polkit-1/rules.d/49-guestd-test.rules <<EOF
// tests/test-systemd-host.sh: $USER_B manages every guest.
polkit.addRule(function(action, subject) {
        if (action.id == "org.guestd1.manage" && subject.user == "$USER_B")
                return polkit.Result.YES;
});
EOF
b_sees() { ctl_b status "$UID_A/web" >/dev/null 2>&1; }
check "with the rule (polkitd reads it), B sees A's guest" wait_until 30 b_sees
expect_exit 0 "B stops A's guest" "${CTL_B[@]}" stop "$UID_A/web"
check "A's guest is stopped" eval '[ "$(ctl_a status web --json | json "d[\"state\"]")" = stopped ]'
check "its launcher has ended" wait_until 20 eval '! kill -0 "$LPID" 2>/dev/null'
gone() { ! machinectl status --no-pager "guestd-$handle" >/dev/null 2>&1; }
check "and its machine is gone" wait_until 20 gone
rm -f /etc/polkit-1/rules.d/49-guestd-test.rules

# --- machinectl poweroff: machined sends the machine's leader (the
# launcher) SIGRTMIN+4; guestd stops the guest as its Stop does, asking it
# first, instead of the launcher dying of the signal.
expect_exit 0 "A creates a guest with a keyboard driver" "${CTL_A[@]}" create polite --kernel "$G/kbd.elf" --memory 16
expect_exit 0 "A starts it" "${CTL_A[@]}" start polite
kbd_ready() { ctl_a log polite 2>/dev/null | grep -q "kbd: keyboard ready"; }
check "its keyboard driver is ready" wait_until 30 kbd_ready
phandle=$(ctl_a status polite --json | json 'd["object"]' | sed 's|.*/||')
expect_exit 0 "machinectl poweroff guestd-$phandle" machinectl poweroff "guestd-$phandle"
polite_stopped() { [ "$(ctl_a status polite --json | json 'd["state"]')" = stopped ]; }
check "the guest stops" wait_until 30 polite_stopped
check "it shut down when asked, as with a Stop" \
        eval '[ "$(ctl_a status polite --json | json "d[\"state_reason\"]")" = "shut down by the guest when asked (Ctrl-Alt-Del)" ]'
poweroff_in_journal() { journalctl -u guestd.service --no-pager -o cat | grep -q "power-off signal (SIGRTMIN+4, as machinectl poweroff sends) from outside its PID namespace, uid 0"; }
check "guestd's journal says machinectl's signal asked for it" wait_until 10 poweroff_in_journal
pgone() { ! machinectl status --no-pager "guestd-$phandle" >/dev/null 2>&1; }
check "and the machine is gone" wait_until 20 pgone

# --- without machined: guestd as a systemd service refuses to start a
# guest outside a machine's scope (its own cgroups would keep systemd from
# starting guestd again while the guest runs), and says what is missing.
# As on a host without systemd-container: machined stopped, and its
# D-Bus activation file hidden (the bus then answers ServiceUnknown; a
# masked unit would answer UnitMasked, an error of machined's).
SVC=/usr/share/dbus-1/system-services
mkdir "$TMP/services"
cp -a "$SVC"/. "$TMP/services/"
rm -f "$TMP/services/org.freedesktop.machine1.service"
mount --bind "$TMP/services" "$SVC"
busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig >/dev/null
systemctl stop systemd-machined.service
expect_exit 0 "systemctl restart guestd (no guest runs)" systemctl restart guestd.service
expect_exit 1 "without machined, A's Start is refused" "${CTL_A[@]}" start web
expect_grep "$TMP/err" "systemd-container" "and says what to install"
check "nothing was left running" eval '! pgrep -x guestd-launcher >/dev/null'
umount "$SVC"
busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig >/dev/null
expect_exit 0 "systemctl restart guestd (machined back)" systemctl restart guestd.service

# --- purge with a guest running
expect_exit 0 "A starts web again" "${CTL_A[@]}" start web
LPID=$(launcher_pid)
check "its launcher runs" [ -n "$LPID" ]
stops() { journalctl -u guestd.service --no-pager -o cat MESSAGE_ID=c209e5eef9014916b895707ca8ec2ab0 | grep -c "${UID_A}_web"; }
stops_before=$(stops)
TEST_TIMEOUT=600 expect_exit 0 "apt-get purge guestd" apt-get purge -y -q guestd
check "the guest was stopped through guestd, not killed (its stop is in the journal)" [ "$(stops)" -gt "$stops_before" ]
check "no launcher is left" eval '! pgrep -x guestd-launcher >/dev/null'
check "guestd is not running" eval '! pgrep -x guestd >/dev/null'
check "the unit is gone" eval '[ "$(systemctl show -p LoadState --value guestd.service)" = not-found ]'
left=$(while read -r f; do [ -d "$f" ] && continue; { [ -e "$f" ] || [ -L "$f" ]; } && echo "$f"; done <"$TMP/files")
check "no file of the package is left${left:+: $left}" [ -z "$left" ]
for d in /var/lib/guestd /run/guestd /etc/guestd; do
        check "no $d" [ ! -e "$d" ]
done
getent passwd | sort >"$TMP/passwd.after"
getent group | sort >"$TMP/group.after"
check "no account added or left" cmp -s "$TMP/passwd.before" "$TMP/passwd.after"
check "no group added or left" cmp -s "$TMP/group.before" "$TMP/group.after"
cgroups_left=$(find /sys/fs/cgroup \( -name 'guestd.service' -o -name 'guestd-guests' -o -name 'machine-guestd*' \) 2>/dev/null)
check "no cgroup of guestd's is left${cgroups_left:+: $cgroups_left}" [ -z "$cgroups_left" ]
check "no machine is left" eval '[ -z "$(machinectl list --no-legend --no-pager)" ]'
finish
