# Guest payloads: filled in by the payload work. Output: $(B)/guests/<name>.elf
GUEST_DIR := $(B)/guests
guests:
