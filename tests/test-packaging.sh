# What a distribution's packager relies on (issue 13): `make install`
# honours PREFIX, DESTDIR and the directory variables and `make uninstall`
# removes what it wrote (an admin's changed policy stays); the build takes
# CFLAGS, CPPFLAGS and LDFLAGS from outside, after its own, and -Werror
# only with WERROR=1; PKG_CONFIG is used for every library; each program
# answers --version with the version in common/version.h, which is also
# debian/changelog's. (`make deb` builds and lintian-checks the package
# itself: .ci/run.)
source "$(dirname "$0")/lib.sh"
check() { local name=$1; shift; if "$@"; then ok "$name"; else fail "$name"; fi; }

version=$(sed -n 's/^#define GUESTD_VERSION "\(.*\)"$/\1/p' common/version.h)
check_version() { [ -n "$version" ] && [ "$1" = "$version" ]; }
if check_version "$(dpkg-parsechangelog -S Version 2>/dev/null || head -n 1 debian/changelog | sed 's/.*(\(.*\)).*/\1/')"; then
        ok "debian/changelog's version is common/version.h's ($version)"
else
        fail "debian/changelog's version differs from common/version.h's ($version)"
fi
for p in guestd guestd-launcher guestctl; do
        if [ ! -x "$B/$p" ]; then
                fail "$B/$p is not built"
                continue
        fi
        expect_exit 0 "$p --version" "$B/$p" --version
        check "$p --version says '$p $version'" grep -qx "$p $version" "$TMP/out"
done

# The flags: a dry run of a forced build of one object.
# Without what the make that runs this test was given (CI exports
# WERROR=1; a command line's variables come in MAKEFLAGS).
make_clean() { env -u WERROR -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make "$@"; }
make_n() { make_clean --no-print-directory -s -n -B B="$B" CC="$(basename "$B")" "$@" "$B/common/util.o" 2>/dev/null; }
make_n >"$TMP/default"
check "no -Werror by default" bash -c '! grep -q -- -Werror "$1"' - "$TMP/default"
make_n WERROR=1 >"$TMP/werror"
check "-Werror with WERROR=1" grep -q -- -Werror "$TMP/werror"
make_n CPPFLAGS=-DGUESTD_PACKAGER_CPP=1 CFLAGS="-O1 -DGUESTD_PACKAGER_C=1" >"$TMP/flags"
check "CPPFLAGS reach the compiler" grep -q -- -DGUESTD_PACKAGER_CPP=1 "$TMP/flags"
check "CFLAGS reach the compiler, after the project's warnings" grep -qE -- '-Wall.*-O1 -DGUESTD_PACKAGER_C=1' "$TMP/flags"
# PKG_CONFIG: a wrapper that notes each call.
cat >"$TMP/pkgconf" <<EOF
#!/bin/sh
echo "\$*" >>"$TMP/pkgconf.calls"
exec pkg-config "\$@"
EOF
chmod +x "$TMP/pkgconf"
make_n PKG_CONFIG="$TMP/pkgconf" >/dev/null
check "PKG_CONFIG is used for the libraries" grep -q -- '--cflags libsystemd json-c libcap-ng libseccomp zlib' "$TMP/pkgconf.calls"
check "and no pkg-config is called past it" bash -c '! env -u MAKEFLAGS -u MAKELEVEL make --no-print-directory -s -n -B B="$1" CC="$(basename "$1")" PKG_CONFIG=/nonexistent "$1/common/util.o" 2>/dev/null | grep -q json-c' - "$B"

# make check and check-vm build the .deb first (tests/test-systemd-host.sh
# installs it): with debian/changelog taken as changed, a dry run of each
# names dpkg-buildpackage. (CI caught a Makefile that defined the .deb's
# name after the check rule, so check depended on nothing.)
for target in check check-vm; do
        check "make $target builds the .deb the systemd-host test installs" bash -c \
                'env -u MAKEFLAGS -u MAKELEVEL make --no-print-directory -s -n -W debian/changelog B="$1" CC="$(basename "$1")" "$2" 2>/dev/null | grep -q dpkg-buildpackage' - "$B" "$target"
done

# install and uninstall into a DESTDIR, with the build directory as it is
# (install depends on `programs`, which is up to date).
dest=$TMP/dest
expect_exit 0 "make install PREFIX=/usr DESTDIR=..." make --no-print-directory B="$B" CC="$(basename "$B")" PREFIX=/usr DESTDIR="$dest" \
        SYSTEMDUNITDIR=/lib/systemd/system install
for f in /usr/sbin/guestd /usr/bin/guestctl /usr/libexec/guestd/guestd-launcher /usr/share/man/man1/guestctl.1 \
        /usr/share/dbus-1/system.d/org.guestd1.conf /usr/share/dbus-1/system-services/org.guestd1.service \
        /lib/systemd/system/guestd.service /usr/lib/tmpfiles.d/guestd.conf /etc/guestd/policy.json \
        /usr/share/man/man8/guestd.8 /usr/share/man/man8/guestd-launcher.8 /usr/share/man/man5/guestd-policy.json.5 \
        /usr/share/bash-completion/completions/guestctl /usr/share/zsh/vendor-completions/_guestctl \
        /usr/share/fish/vendor_completions.d/guestctl.fish; do
        check "installed: $f" [ -f "$dest$f" ]
done
check "the unit runs the installed guestd with the installed launcher" \
        grep -qx 'ExecStart=/usr/sbin/guestd --launcher=/usr/libexec/guestd/guestd-launcher' "$dest/lib/systemd/system/guestd.service"
check "nothing outside PREFIX's and the system's directories" \
        bash -c '[ -z "$(cd "$1" && find . -type f | grep -vE "^\./(usr|lib|etc)/")" ]' - "$dest"
# systemd's RestrictSUIDSGID= answers openat2() with ENOSYS, and guestd
# opens users' paths with it (the systemd-host test found that out).
check "the unit sets no RestrictSUIDSGID=, which would refuse openat2()" \
        bash -c '! grep -q "^RestrictSUIDSGID=" "$1"' - "$dest/lib/systemd/system/guestd.service"
check "no lockdown rule unless asked (KVM_LOCKDOWN=1)" bash -c '[ -z "$(find "$1" -name "*lockdown*")" ]' - "$dest"
echo '{"defaults": {"max_guests": 1}}' >"$dest/etc/guestd/policy.json"
expect_exit 0 "make install again" make --no-print-directory B="$B" CC="$(basename "$B")" PREFIX=/usr DESTDIR="$dest" \
        SYSTEMDUNITDIR=/lib/systemd/system install
check "an admin's policy is kept by install" grep -q max_guests "$dest/etc/guestd/policy.json"
expect_exit 0 "make uninstall" make --no-print-directory B="$B" CC="$(basename "$B")" PREFIX=/usr DESTDIR="$dest" \
        SYSTEMDUNITDIR=/lib/systemd/system uninstall
left=$(cd "$dest" && find . -type f | sort | tr '\n' ' ')
check "uninstall leaves only the admin's policy (left: $left)" [ "$left" = "./etc/guestd/policy.json " ]
rm -f "$dest/etc/guestd/policy.json"
expect_exit 0 "make install with KVM_LOCKDOWN=1" make --no-print-directory B="$B" CC="$(basename "$B")" PREFIX=/usr DESTDIR="$dest" \
        UDEVRULESDIR=/lib/udev/rules.d KVM_LOCKDOWN=1 install
check "the lockdown rule is installed when asked" [ -f "$dest/lib/udev/rules.d/72-guestd-kvm-lockdown.rules" ]
expect_exit 0 "make uninstall" make --no-print-directory B="$B" CC="$(basename "$B")" PREFIX=/usr DESTDIR="$dest" \
        UDEVRULESDIR=/lib/udev/rules.d uninstall
check "and uninstall removes everything, the unchanged policy too" bash -c '[ -z "$(find "$1" -type f)" ]' - "$dest"
finish
