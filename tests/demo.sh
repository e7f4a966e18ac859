#!/usr/bin/env bash
# make demo: boot the demo guests with guestd-launcher and show their
# consoles. (Until guestd exists, the launcher runs standalone, as root,
# since only root may open /dev/kvm.)
set -u
cd "$(dirname "$0")/.."
: "${B:?}"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
if [ ! -c /dev/kvm ]; then echo "demo: /dev/kvm is missing; this machine cannot run guests" >&2; exit 1; fi

say "hello: a PVH guest that prints and powers off"
echo "\$ guestd-launcher --kernel hello.elf --memory 16"
"$B/guestd-launcher" --kernel "$B/guests/hello.elf" --memory 16
echo "(exit status $?)"

say "count: a guest that counts; powered off after 5 lines"
"$B/guestd-launcher" --kernel "$B/guests/count.elf" --memory 16 --cmdline "count.max=5"
echo "(exit status $?)"

say "blk: the guest writes, flushes and reads back a virtio-blk disk"
disk=$(mktemp /tmp/guestd-demo-disk.XXXXXX)
truncate -s 1M "$disk"
"$B/guestd-launcher" --kernel "$B/guests/blk.elf" --memory 16 --disk "$disk,id=demo-disk"
echo "(exit status $?)"
rm -f "$disk"

say "a guest that executes an instruction this host's KVM cannot emulate"
"$B/guestd-launcher" --kernel "$B/guests/end-badinsn.elf" --memory 16
echo "(exit status $?)"
