/* INI configs, darknet style: [data], [train], then one section per layer in
 * order. Every read marks its key as used; gdl_config_check_unused then reports
 * keys nobody read, so a typo never passes silently. Errors name the file and
 * line: "configs/mlp.ini:14: [linear] out: expected an integer, got '51x2'". */
#ifndef GDL_CONFIG_H
#define GDL_CONFIG_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gdl_config gdl_config;
typedef struct gdl_section gdl_section;

GDL_API gdl_config *gdl_config_load(const char *path);
GDL_API gdl_config *gdl_config_parse(const char *text, const char *filename);
GDL_API void gdl_config_free(gdl_config *c);
GDL_API const char *gdl_config_file(const gdl_config *c);

/* "section.key=value" sets (or adds) a key. The section is a name that occurs
 * once ("train.lr=0.01") or name#k, the k-th section of that name counting from 1
 * ("linear#2.out=256"). */
GDL_API gdl_status gdl_config_override(gdl_config *c, const char *assignment);

GDL_API int gdl_config_count(const gdl_config *c);
GDL_API gdl_section *gdl_config_section(const gdl_config *c, int i);
/* The only section with this name, or NULL if there is none (error if several). */
GDL_API gdl_section *gdl_config_find(const gdl_config *c, const char *name);
GDL_API const char *gdl_section_name(const gdl_section *s);
GDL_API int gdl_section_line(const gdl_section *s);
GDL_API bool gdl_section_has(const gdl_section *s, const char *key);

/* Typed getters: def when the key is absent; an error naming file:line when the
 * value does not parse. s may be NULL (a missing section: every key absent). */
GDL_API gdl_status gdl_section_str(gdl_section *s, const char *key, const char *def, const char **out);
GDL_API gdl_status gdl_section_int(gdl_section *s, const char *key, int64_t def, int64_t *out);
GDL_API gdl_status gdl_section_double(gdl_section *s, const char *key, double def, double *out);
GDL_API gdl_status gdl_section_bool(gdl_section *s, const char *key, bool def, bool *out);
/* One of the words in choices (NULL-terminated); *out is its index. */
GDL_API gdl_status gdl_section_enum(gdl_section *s, const char *key, const char *const *choices,
                                    int def, int *out);
/* A comma-separated list of up to max integers; *n receives the count. */
GDL_API gdl_status gdl_section_ints(gdl_section *s, const char *key, int64_t *out, int max, int *n);
/* An error "file:line: [section] key: <message>" for a value that parsed but is
 * invalid; with key NULL, "file:line: [section] <message>". */
GDL_API gdl_status gdl_section_error(gdl_section *s, const char *key, const char *fmt, ...)
    GDL_PRINTF(3, 4);

/* Marks every key of s as read (for sections a command deliberately ignores). */
GDL_API void gdl_section_mark_used(gdl_section *s);
/* GDL_ERR_CONFIG naming the first key that no getter read. */
GDL_API gdl_status gdl_config_check_unused(const gdl_config *c);

#ifdef __cplusplus
}
#endif
#endif
