#!/bin/bash
# guestd: source edits applied to a freshly unpacked linux-source-6.1 tree
# so that the kernel boots under the instruction emulator of our development
# hosts (see /work/shared/HOST-KVM.md, "A real Linux kernel in ~10 s").
#
#   usage: tests/linux/edit-source.sh <linux source dir>
#
# Each edit replaces one literal piece of text that must occur exactly once
# in its file; if the text is missing, duplicated, or still there afterwards,
# the script stops with an error instead of building an unedited kernel.
# build-kernel.sh hashes this file into its cache key, so changing an edit
# here rebuilds the kernel.
set -euo pipefail

src=${1:?usage: $0 <linux source dir>}

die() { echo "edit-source.sh: $*" >&2; exit 1; }

# replace_once FILE OLD NEW: replace the literal text OLD by NEW in FILE.
replace_once() {
	local file=$src/$1 old=$2 new=$3 count
	[ -f "$file" ] || die "$1: no such file in $src"
	count=$(OLD=$old perl -0777 -ne 'my $n = () = /\Q$ENV{OLD}\E/g; print $n' "$file")
	[ "$count" = 1 ] || die "$1: expected exactly one occurrence of [$old], found $count (has the source changed?)"
	OLD=$old NEW=$new perl -0777 -pi -e 's/\Q$ENV{OLD}\E/$ENV{NEW}/' "$file"
	count=$(NEW=$new perl -0777 -ne 'my $n = () = /\Q$ENV{NEW}\E/g; print $n' "$file")
	[ "$count" -ge 1 ] || die "$1: the replacement text is not in the file after editing"
	echo "edited $1"
}

# 1. The INT3 self-test executes int3, which the emulator cannot run.
replace_once arch/x86/kernel/alternative.c \
	$'\tu64 ibt;\n\n\tint3_selftest();\n' \
	$'\tu64 ibt;\n\n\tif (0) /* guestd: int3 is not emulated */\n\t\tint3_selftest();\n'

# 2. fpu__drop() (reached when a task exits) executes fwait: use nop.
replace_once arch/x86/kernel/fpu/core.c \
	$'/* Ignore delayed exceptions from user space */\n\t\tasm volatile("1: fwait\\n"' \
	$'/* Ignore delayed exceptions from user space */\n\t\tasm volatile(/* guestd: was fwait */ "1: nop\\n"'

# 3. The BLAKE2s self-test costs ~2 s of emulated boot time.
replace_once lib/crypto/blake2s.c \
	$'\tif (!IS_ENABLED(CONFIG_CRYPTO_MANAGER_DISABLE_TESTS) &&\n' \
	$'\tif (0 && /* guestd: self-test skipped */\n\t    !IS_ENABLED(CONFIG_CRYPTO_MANAGER_DISABLE_TESTS) &&\n'
