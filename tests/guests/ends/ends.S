/*
 * ends.S: the smallest guests, one for each way a guest can end other than
 * a clean power-off, so that tests can check the launcher's exit status and
 * reason line for each. Built four times with -DEND_<KIND>.
 * PVH entry: 32-bit protected mode, paging off.
 */
        .section .note.Xen, "a"
        .balign 4
        .long 4, 4, 18          /* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
        .asciz "Xen"
        .long _start

        .text
        .code32
        .globl _start
_start:
#if defined(END_TRIPLE)
        /* No usable IDT: #DE cannot be delivered, nor can #DF: shutdown. */
        lidt idt_empty
        xor %ecx, %ecx
        div %ecx
#elif defined(END_RESET)
        mov $0xfe, %al          /* i8042: pulse the CPU reset line */
        out %al, $0x64
#elif defined(END_FAIL)
        mov $3, %eax            /* power off reporting failure 3 */
        out %eax, $0xf4
#elif defined(END_BADINSN)
        /* An x87 load from an address no RAM or device backs. Every KVM
         * hands an access outside guest memory to its instruction
         * emulator (with NPT/EPT too: it is MMIO), and KVM's emulator has
         * no x87 loads: an emulation failure on any host, stock or PVM.
         * (x87 is usable: the PVH entry state has CR0.EM clear.) */
        flds 0xc0000000
#else
#error "define END_TRIPLE, END_RESET, END_FAIL or END_BADINSN"
#endif
1:      hlt
        jmp 1b

idt_empty:
        .word 0
        .long 0
