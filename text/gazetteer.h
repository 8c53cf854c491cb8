/* gazetteer.h — names of countries, demonyms, subdivisions and cities,
 * built at start from Debian data:
 *   - countries.c (hand-written short names, aliases, demonyms)
 *   - /usr/share/iso-codes/json/iso_3166-1.json (package iso-codes): names
 *   - /usr/share/iso-codes/json/iso_3166-2.json: provinces, regions, districts
 *   - cities with 15,000+ inhabitants from GeoNames, read through the
 *     libgeonames0 library when it is installed (loaded with dlopen, so it
 *     stays optional), else the cities of tzdata's zone1970.tab
 *   - /usr/share/dict/words (package wamerican), when installed: lower-case
 *     English words, to tell a capitalised common word from a name
 * Build once per process (it takes some milliseconds), share read-only.
 */
#ifndef TD_GAZETTEER_H
#define TD_GAZETTEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    TD_GZ_NONE = 0,
    TD_GZ_CITY,
    TD_GZ_SUBDIV,
    TD_GZ_DEMONYM,  /* "Armenian": points to a country */
    TD_GZ_COUNTRY,
} td_gz_kind;

typedef struct {
    td_gz_kind kind;
    const char *country; /* canonical name of the country named, implied (demonym)
                            or containing the place; NULL when unknown */
    const char *demonym; /* that country's demonym ("Armenian"), or NULL */
    uint32_t population; /* cities */
} td_gz_hit;

typedef struct td_gazetteer td_gazetteer;

/* Build from the files above; `datadir` may hold overrides (iso_3166-1.json,
 * iso_3166-2.json, cities.tsv "name<TAB>cc<TAB>population") and NULL means
 * the Debian locations only. Missing files are skipped with a log line.
 * Returns NULL only when out of memory. */
td_gazetteer *td_gazetteer_new(const char *datadir);
void td_gazetteer_destroy(td_gazetteer **self_p);

/* Look a name up (any case, diacritics and hyphens ignored). */
bool td_gazetteer_lookup(const td_gazetteer *self, const char *s, size_t n, td_gz_hit *hit);

/* Whether `s` is a lower-case English dictionary word ("hostilities");
 * false when no dictionary is installed. */
bool td_gazetteer_is_word(const td_gazetteer *self, const char *s, size_t n);

/* Entries loaded, for logs and tests. */
size_t td_gazetteer_size(const td_gazetteer *self);

#endif
