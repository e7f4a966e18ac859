/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aml.h: a small emitter of ACPI Machine Language, enough for the DSDT the
 * launcher describes its machine with (acpi.h): scopes, devices, names,
 * integers, strings, EISA ids, packages, simple methods and resource
 * templates. Encodings from the ACPI specification, section 20 (AML) and
 * 6.4 (resource descriptors).
 *
 * Building is nested the way AML nests: aml_*_begin() opens a scope,
 * device, method, package or buffer (its length is not known yet) and
 * aml_end() closes the innermost one, writing its PkgLength. Errors (out
 * of room, a bad name, unbalanced ends) stick: every later call does
 * nothing and aml_finish() reports the first. launcher/test-acpi checks
 * the output with Debian's iasl.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH 8

struct aml {
        uint8_t *buf;
        size_t size, len;
        int error; /* the first, as -errno */
        size_t open[AML_MAX_DEPTH]; /* where each open PkgLength's object starts */
        unsigned depth;
};

void aml_init(struct aml *a, uint8_t *buf, size_t size);
/* 0, or the first error (-ENOSPC, -EINVAL for a bad name or unbalanced
 * begin/end). */
int aml_finish(struct aml *a);

/* Names: "ABCD", "\\_SB_", "\\_SB_.PWRB" (segments padded with '_' to
 * four characters as ASL does: "COM1", "_S5" -> "_S5_"). */
void aml_name(struct aml *a, const char *name);                 /* a NameString on its own */
void aml_name_begin(struct aml *a, const char *name);           /* Name(NAME, <the next object>) */

/* Data objects. */
void aml_integer(struct aml *a, uint64_t v); /* the shortest encoding */
void aml_string(struct aml *a, const char *s);
void aml_eisa_id(struct aml *a, const char *id); /* "PNP0501" */

/* Nesting. */
void aml_scope_begin(struct aml *a, const char *name);
void aml_device_begin(struct aml *a, const char *name);
void aml_method_begin(struct aml *a, const char *name, unsigned n_args, bool serialized);
void aml_package_begin(struct aml *a, unsigned n_elements);
void aml_end(struct aml *a);

/* Statements inside a method. */
void aml_notify(struct aml *a, const char *object, uint64_t value);
void aml_return_integer(struct aml *a, uint64_t v);

/* A resource template: a Buffer holding descriptors and an end tag. */
void aml_resources_begin(struct aml *a);
void aml_resource_io(struct aml *a, uint16_t port, uint8_t length);             /* IO(Decode16, port, port, 1, length) */
void aml_resource_irq(struct aml *a, unsigned irq);                              /* IRQNoFlags() {irq}: ISA, edge, high */
void aml_resource_memory32(struct aml *a, uint32_t base, uint32_t length);       /* Memory32Fixed(ReadWrite, ...) */
void aml_resource_interrupt(struct aml *a, uint32_t gsi, bool edge, bool active_low); /* Interrupt(ResourceConsumer, ...) */
void aml_resources_end(struct aml *a);
