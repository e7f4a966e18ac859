/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmdline.c: the kernel command line, split into tokens the way Linux's
 * next_arg() does: spaces separate, double quotes group (key="a b"), and
 * the quotes around a value are dropped.
 */
#include "runtime.h"

static bool is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool cmdline_next(const char **cursor, struct cmdline_token *ret)
{
        const char *p = *cursor;
        while (*p && is_space(*p))
                p++;
        if (!*p)
                return false;

        const char *start = p, *equals = NULL;
        bool quoted = false;
        for (; *p && (quoted || !is_space(*p)); p++) {
                if (*p == '"')
                        quoted = !quoted;
                else if (*p == '=' && !equals && !quoted)
                        equals = p;
        }
        *cursor = p;

        *ret = (struct cmdline_token) { .key = start, .key_len = (size_t) ((equals ? equals : p) - start) };
        if (equals) {
                const char *v = equals + 1;
                size_t len = (size_t) (p - v);
                if (len >= 1 && v[0] == '"') {
                        v++, len--;
                        if (len >= 1 && v[len - 1] == '"')
                                len--;
                }
                ret->value = v;
                ret->value_len = len;
        }
        return true;
}

bool token_key_is(const struct cmdline_token *t, const char *key)
{
        size_t n = strlen(key);
        return t->key_len == n && memcmp(t->key, key, n) == 0;
}

bool token_value_is(const struct cmdline_token *t, const char *value)
{
        size_t n = strlen(value);
        return t->value && t->value_len == n && memcmp(t->value, value, n) == 0;
}

bool cmdline_find(const char *cmdline, const char *key, struct cmdline_token *ret)
{
        struct cmdline_token t;
        for (const char *c = cmdline; cmdline_next(&c, &t);)
                if (token_key_is(&t, key)) {
                        *ret = t;
                        return true;
                }
        return false;
}

uint64_t cmdline_get_uint(const char *cmdline, const char *key, uint64_t def)
{
        struct cmdline_token t;
        uint64_t v;
        if (!cmdline_find(cmdline, key, &t))
                return def;
        if (!t.value || parse_size(t.value, t.value_len, &v) != t.value_len)
                guest_fail("bad value for %s: \"%.*s\" (want a number)", key, t.value ? (int) t.value_len : 0, t.value ? t.value : "");
        return v;
}
