/*
 * guestd: /init of the test initramfs (tests/linux/build-kernel.sh).
 *
 * Freestanding, no libc: built with -static -nostdlib into a few hundred
 * bytes. On our development hosts it never gets to run: the host's KVM
 * cannot run Linux user space, so the kernel logs "Run /init as init
 * process" and then panics when its first system call faults. On a host
 * where user space works it prints one line and exits, which also makes
 * the kernel panic ("Attempted to kill init"); with panic=-1 on the
 * command line the guest then reboots at once in both cases.
 */

static const char message[] = "guestd-test-init: user space runs\n";

static long sys3(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

void _start(void)
{
	sys3(1 /* write */, 1, (long)message, sizeof(message) - 1);
	for (;;)
		sys3(60 /* exit */, 0, 0, 0);
}
