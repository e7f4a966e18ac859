#!/bin/bash
# guestd: build (or reuse) the tiny Linux guest kernel used by
# `make check-linux`, from Debian's linux-source-6.1 package.
#
#   usage: tests/linux/build-kernel.sh [-f]      (-f: rebuild even if cached)
#
# Progress goes to stderr. On success the last lines on stdout are
#   dir=<output directory>
#   vmlinux=<ELF kernel with a PVH entry note>
#   bzimage=<bzImage, LZ4-compressed>
#   initramfs=<uncompressed newc cpio: Debian's static busybox and tests/linux/init>
#   config=<the kernel .config>
# so callers can `eval` or grep them.
#
# Config: `make tinyconfig` plus the fragment tests/linux/tiny.config (every
# line of which is checked after the merge). Source edits for the emulator
# of our development hosts: tests/linux/edit-source.sh. One build with
# CONFIG_KERNEL_LZ4 gives both outputs: vmlinux does not depend on the
# compression choice, only arch/x86/boot/bzImage does.
#
# Cache: ${GUESTD_LINUX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/guestd/linux}
#   src/<srckey>/   the unpacked and edited source tree (~1.4 GB), keyed by
#                   the tarball's version and edit-source.sh
#   build/<key>/    object directory of a build in progress (removed after
#                   success, kept after a failure for inspection)
#   out/<key>/      the outputs, keyed additionally by tiny.config, init, busybox,
#                   the compiler and RECIPE below
# Only the current source tree is kept; older out/ entries beyond the 4 most
# recent are pruned.
set -euo pipefail

# Bump when the way this script builds things changes, to invalidate caches.
RECIPE=1

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tarball=${GUESTD_LINUX_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
cache=${GUESTD_LINUX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/guestd/linux}
force=0
[ "${1:-}" = -f ] && force=1

say() { echo "build-kernel: $*" >&2; }
die() { echo "build-kernel: error: $*" >&2; exit 1; }

# The kernel build must not see the variables of the make that called us
# (`make CC=clang check-linux` would otherwise reach the kernel's make).
unset MAKEFLAGS MFLAGS MAKEOVERRIDES MAKELEVEL MAKE_TERMOUT MAKE_TERMERR \
	ARCH SRCARCH CROSS_COMPILE LLVM O KBUILD_OUTPUT KCONFIG_CONFIG CC LD AR \
	CFLAGS LDFLAGS KCFLAGS KCPPFLAGS 2>/dev/null || true

# The initramfs's shell: Debian's static busybox, as the nested test VM
# fetches it (kept in its cache).
busybox=$("$here/../vm/run-in-vm.sh" --prepare | sed -n 's/^busybox=//p')
[ -n "$busybox" ] && [ -x "$busybox" ] || die "cannot get Debian's busybox-static (tests/vm/run-in-vm.sh --prepare)"

[ -r "$tarball" ] || die "$tarball not found: run 'make deps' (Debian package linux-source-6.1)"
for tool in gcc make perl flex bison bc cpio tar xz lz4 sha256sum readelf flock; do
	command -v "$tool" >/dev/null || die "'$tool' is missing: run 'make deps'"
done
for f in tiny.config edit-source.sh init; do
	[ -r "$here/$f" ] || die "$here/$f is missing"
done

# ------------------------------------------------------------ cache keys
version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || echo unknown)
tarball_id="$tarball $version $(stat -c '%s %Y' "$tarball")"
sha() { sha256sum "$1" | cut -c1-64; }
srckey=$(printf 'tarball %s\nedits %s\n' "$tarball_id" "$(sha "$here/edit-source.sh")" |
	sha256sum | cut -c1-16)
key=$(printf 'recipe %s\nsrc %s\nconfig %s\ncc %s\n' "$RECIPE" "$srckey" \
	"$(sha "$here/tiny.config")" "$(gcc --version | head -n 1)" |
	sha256sum | cut -c1-16)
# The initramfs has a key of its own: a change of /init or busybox does not
# rebuild the kernel.
ikey=$(printf 'init %s\nbusybox %s\nrecipe %s\n' "$(sha "$here/init")" "$(sha "$busybox")" "$RECIPE" |
	sha256sum | cut -c1-16)

src=$cache/src/$srckey/linux-source-6.1
obj=$cache/build/$key
out=$cache/out/$key

report() {
	echo "dir=$out"
	echo "vmlinux=$out/vmlinux"
	echo "bzimage=$out/bzImage"
	echo "initramfs=$out/initramfs-$ikey.cpio"
	echo "config=$out/config"
	echo "gen_init_cpio=$out/gen_init_cpio"
}

# make_initramfs: $out/initramfs-$ikey.cpio, written by the kernel's own
# usr/gen_init_cpio from a list, the /dev/console node (the kernel opens
# it for init's stdin/out/err) included, so that no root privileges are
# needed. Busybox's applets are linked by /init itself.
make_initramfs() {
	local list
	[ -f "$out/initramfs-$ikey.cpio" ] && return 0
	list=$(mktemp)
	cat >"$list" <<EOF
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
dir /proc 0755 0 0
dir /sys 0755 0 0
dir /bin 0755 0 0
file /bin/busybox $busybox 0755 0 0
slink /bin/sh busybox 0777 0 0
file /init $here/init 0755 0 0
EOF
	"$out/gen_init_cpio" "$list" >"$out/initramfs-$ikey.cpio.tmp" || { rm -f "$list"; die "gen_init_cpio failed"; }
	rm -f "$list"
	find "$out" -maxdepth 1 -name 'initramfs-*.cpio' -delete
	mv "$out/initramfs-$ikey.cpio.tmp" "$out/initramfs-$ikey.cpio"
}

if [ $force = 0 ] && [ -f "$out/.complete" ]; then
	say "cached kernel $key (linux-source-6.1 $version) in $out"
	touch "$out"
	make_initramfs
	report
	exit 0
fi

mkdir -p "$cache/src" "$cache/build" "$cache/out"
exec 9>"$cache/lock"
if ! flock -n 9; then
	say "waiting for another build in $cache"
	flock 9
fi
if [ $force = 0 ] && [ -f "$out/.complete" ]; then
	say "cached kernel $key (built meanwhile) in $out"
	report
	exit 0
fi

t0=$(date +%s)

# ------------------------------------------------------------ source tree
if [ ! -f "$cache/src/$srckey/.complete" ]; then
	# Source trees of other versions or other edits are not needed any more.
	find "$cache/src" -mindepth 1 -maxdepth 1 ! -name "$srckey" -exec rm -rf {} +
	rm -rf "$cache/src/$srckey"
	mkdir -p "$cache/src/$srckey.tmp"
	say "unpacking $tarball (linux-source-6.1 $version)"
	tar -xJf "$tarball" -C "$cache/src/$srckey.tmp"
	[ -f "$cache/src/$srckey.tmp/linux-source-6.1/Makefile" ] ||
		die "$tarball has no linux-source-6.1/Makefile"
	"$here/edit-source.sh" "$cache/src/$srckey.tmp/linux-source-6.1" >&2
	touch "$cache/src/$srckey.tmp/.complete"
	mv "$cache/src/$srckey.tmp" "$cache/src/$srckey"
fi

# ------------------------------------------------------------ configure
find "$cache/build" -mindepth 1 -maxdepth 1 ! -name "$key" -exec rm -rf {} +
rm -rf "$obj"
mkdir -p "$obj"
log=$obj/build.log
kmake() { make -C "$src" O="$obj" ARCH=x86 CROSS_COMPILE= "$@" >>"$log" 2>&1; }
fail() {
	echo "----- last lines of $log -----" >&2
	tail -n 40 "$log" >&2
	die "$*"
}

say "configuring (tinyconfig + tests/linux/tiny.config) in $obj"
kmake tinyconfig || fail "make tinyconfig failed"
(cd "$src" && scripts/kconfig/merge_config.sh -m -O "$obj" "$obj/.config" "$here/tiny.config") \
	>>"$log" 2>&1 || fail "merge_config.sh failed"
kmake olddefconfig || fail "make olddefconfig failed"

# Every option of the fragment must have its requested value.
bad=0
while IFS= read -r line; do
	if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
		grep -qxF -- "$line" "$obj/.config" || {
			say "config: wanted $line, got: $(grep -E "^(# )?${BASH_REMATCH[1]}[= ]" "$obj/.config" || echo '(absent)')"
			bad=1
		}
	elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
		! grep -q "^${BASH_REMATCH[1]}=" "$obj/.config" || {
			say "config: wanted ${BASH_REMATCH[1]} off, got: $(grep "^${BASH_REMATCH[1]}=" "$obj/.config")"
			bad=1
		}
	fi
done <"$here/tiny.config"
[ $bad = 0 ] || die "Kconfig did not accept tests/linux/tiny.config (see above; dependencies missing?)"

# ------------------------------------------------------------ build
jobs=$(nproc 2>/dev/null || echo 2)
say "building vmlinux and bzImage with -j$jobs (log: $log)"
t1=$(date +%s)
kmake -j"$jobs" bzImage || fail "kernel build failed"
if [ ! -f "$obj/vmlinux" ] || [ ! -f "$obj/arch/x86/boot/bzImage" ]; then
	fail "build produced no vmlinux/bzImage"
fi
# The PVH entry point is an ELF note of owner "Xen", type 18 (PHYS32_ENTRY).
notes=$(readelf -n "$obj/vmlinux") || fail "readelf -n vmlinux failed"
grep -qE '^ +Xen +0x[0-9a-f]+[[:space:]]+(Unknown note type: \(0x00000012\)|.*PHYS32_ENTRY)' <<<"$notes" ||
	fail "vmlinux has no PVH entry note (CONFIG_PVH?)"
t2=$(date +%s)

# ------------------------------------------------------------ publish
rm -rf "$out" "$out.tmp"
mkdir -p "$out.tmp"
[ -x "$obj/usr/gen_init_cpio" ] || fail "the build left no usr/gen_init_cpio"
cp "$obj/vmlinux" "$obj/arch/x86/boot/bzImage" "$obj/System.map" "$obj/usr/gen_init_cpio" "$out.tmp/"
cp "$obj/.config" "$out.tmp/config"
cp "$log" "$out.tmp/build.log"
{
	echo "linux_source_version=$version"
	echo "key=$key"
	echo "build_seconds=$((t2 - t1))"
	echo "built_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$out.tmp/info"
touch "$out.tmp/.complete"
mv "$out.tmp" "$out"
make_initramfs
rm -rf "$obj"
# Keep the 4 most recent outputs.
find "$cache/out" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' | sort -rn | tail -n +5 |
	while read -r _ old; do rm -rf -- "$old"; done

t3=$(date +%s)
say "built in $((t3 - t0)) s (kernel compile $((t2 - t1)) s):"
say "  vmlinux   $out/vmlinux ($(stat -c %s "$out/vmlinux") bytes)"
say "  bzImage   $out/bzImage ($(stat -c %s "$out/bzImage") bytes, LZ4)"
say "  initramfs $out/initramfs-$ikey.cpio ($(stat -c %s "$out/initramfs-$ikey.cpio") bytes)"
report
