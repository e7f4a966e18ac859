# The end-* payloads: one per way a guest ends (see ends.S).
END_KINDS := triple reset fail badinsn
END_ELFS := $(patsubst %,$(B)/guests/end-%.elf,$(END_KINDS))
$(B)/guests/end-%.elf: tests/guests/ends/ends.S tests/guests/ends/ends.ld
	@mkdir -p $(@D)
	$(CC) -m32 -c -DEND_$(shell echo $* | tr a-z A-Z) -o $(@:.elf=.o) $<
	ld -m elf_i386 -nostdlib -T tests/guests/ends/ends.ld -o $@ $(@:.elf=.o)
guests: $(END_ELFS)
