/* gazetteer.c — see gazetteer.h. */
#include "gazetteer.h"

#include <dlfcn.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include <xxhash.h>

#include "countries.h"
#include "log.h"
#include "normalize.h"

#define GZ_BITS 17
#define GZ_SLOTS (1u << GZ_BITS)   /* names; the table holds ~35k */
#define DICT_SLOTS (1u << 17)      /* dictionary words; ~64k lower-case */
#define KEY_MAX 128

#define NO_CC 0xFFFFu

typedef struct {
    uint64_t h;      /* 0 = empty */
    uint32_t pop;
    uint16_t cc;     /* country (index of its ISO code), or NO_CC */
    uint8_t kind;
} s_entry;

struct td_gazetteer {
    s_entry *tab;
    size_t n;
    uint64_t *dict;
    size_t n_dict;
    char *pool;
    size_t pool_len, pool_cap;
    uint32_t cc_name[26 * 26]; /* pool offsets of country names and demonyms by code */
    uint32_t cc_dem[26 * 26];
};

static uint16_t s_cc(const char *code)
{
    if (!code || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z')
        return NO_CC;
    return (uint16_t)((code[0] - 'A') * 26 + (code[1] - 'A'));
}

/* Key: lower case, diacritics removed, hyphens and spaces as one space,
 * apostrophes and dots dropped ("Nagorno-Karabakh" = "nagorno karabakh",
 * "Kəlbəcər" = "kəlbəcər", "U.S." = "us"). Allocation-free. */
static size_t s_key(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0, i = 0;
    bool sp = false;
    while (i < n && o + 8 < cap) {
        int32_t cp;
        size_t k = td_utf8_next(s + i, n - i, &cp);
        i += k;
        if (cp < 0x80) {
            char c = (char)cp;
            if (c >= 'A' && c <= 'Z')
                c = (char)(c + 32);
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
                if (sp && o > 0)
                    out[o++] = ' ';
                sp = false;
                out[o++] = c;
            } else if (c == ' ' || c == '-' || c == '_') {
                sp = true;
            }
            continue;
        }
        utf8proc_int32_t d[8];
        int bound = 0;
        utf8proc_ssize_t r = utf8proc_decompose_char(cp, d, 8, UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD, &bound);
        if (r < 0 || r > 8)
            continue;
        for (utf8proc_ssize_t j = 0; j < r; j++) {
            utf8proc_category_t cat = utf8proc_category(d[j]);
            if (cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC ||
                cat == UTF8PROC_CATEGORY_ME)
                continue;
            if (cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_PD) {
                sp = true;
                continue;
            }
            if (cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO)
                continue;
            if (sp && o > 0)
                out[o++] = ' ';
            sp = false;
            o += (size_t)utf8proc_encode_char(d[j], (utf8proc_uint8_t *)out + o);
        }
    }
    out[o] = '\0';
    return o;
}

static uint64_t s_hash(const char *s, size_t n)
{
    char key[KEY_MAX];
    size_t k = s_key(s, n, key, sizeof key);
    if (k == 0)
        return 0;
    uint64_t h = XXH3_64bits(key, k);
    return h ? h : 1;
}

static uint32_t s_pool_add(td_gazetteer *g, const char *s)
{
    size_t n = strlen(s) + 1;
    if (g->pool_len + n > g->pool_cap) {
        size_t cap = g->pool_cap ? g->pool_cap * 2 : 8192;
        while (cap < g->pool_len + n)
            cap *= 2;
        char *p = realloc(g->pool, cap);
        if (!p)
            return UINT32_MAX;
        g->pool = p;
        g->pool_cap = cap;
    }
    memcpy(g->pool + g->pool_len, s, n);
    uint32_t off = (uint32_t)g->pool_len;
    g->pool_len += n;
    return off;
}

/* Add a name; on a clash the stronger kind wins (country over demonym over
 * subdivision over city), and among cities the larger one. */
static void s_add(td_gazetteer *g, const char *s, size_t n, td_gz_kind kind, uint16_t cc,
                  uint32_t pop)
{
    uint64_t h = s_hash(s, n);
    if (!h || g->n >= GZ_SLOTS * 3 / 4)
        return;
    for (uint32_t i = (uint32_t)h & (GZ_SLOTS - 1);; i = (i + 1) & (GZ_SLOTS - 1)) {
        s_entry *e = &g->tab[i];
        if (e->h == 0) {
            *e = (s_entry){h, pop, cc, (uint8_t)kind};
            g->n++;
            return;
        }
        if (e->h == h) {
            if (kind > e->kind || (kind == e->kind && pop > e->pop)) {
                e->kind = (uint8_t)kind;
                e->pop = pop;
                e->cc = cc;
            }
            return;
        }
    }
}

static const s_entry *s_find(const td_gazetteer *g, uint64_t h)
{
    if (!h)
        return NULL;
    for (uint32_t i = (uint32_t)h & (GZ_SLOTS - 1), k = 0; k < GZ_SLOTS;
         i = (i + 1) & (GZ_SLOTS - 1), k++) {
        const s_entry *e = &g->tab[i];
        if (e->h == 0)
            return NULL;
        if (e->h == h)
            return e;
    }
    return NULL;
}

static void s_dict_add(td_gazetteer *g, uint64_t h)
{
    if (!h || g->n_dict >= DICT_SLOTS * 3 / 4)
        return;
    for (uint32_t i = (uint32_t)h & (DICT_SLOTS - 1);; i = (i + 1) & (DICT_SLOTS - 1)) {
        if (g->dict[i] == h)
            return;
        if (g->dict[i] == 0) {
            g->dict[i] = h;
            g->n_dict++;
            return;
        }
    }
}

bool td_gazetteer_is_word(const td_gazetteer *self, const char *s, size_t n)
{
    if (!self || self->n_dict == 0)
        return false;
    uint64_t h = s_hash(s, n);
    if (!h)
        return false;
    for (uint32_t i = (uint32_t)h & (DICT_SLOTS - 1), k = 0; k < DICT_SLOTS;
         i = (i + 1) & (DICT_SLOTS - 1), k++) {
        if (self->dict[i] == h)
            return true;
        if (self->dict[i] == 0)
            return false;
    }
    return false;
}

/* ---- loaders ------------------------------------------------------------ */

/* countries.c: "CC|Name|dem,dem|alias,alias" */
static void s_load_countries(td_gazetteer *g)
{
    for (const char *const *c = td_countries; *c; c++) {
        const char *p = *c;
        uint16_t cc = s_cc(p);
        const char *bar1 = strchr(p, '|');
        const char *bar2 = bar1 ? strchr(bar1 + 1, '|') : NULL;
        const char *bar3 = bar2 ? strchr(bar2 + 1, '|') : NULL;
        if (cc == NO_CC || !bar3)
            continue;
        char name[96];
        size_t nl = (size_t)(bar2 - bar1 - 1);
        if (nl >= sizeof name)
            continue;
        memcpy(name, bar1 + 1, nl);
        name[nl] = '\0';
        g->cc_name[cc] = s_pool_add(g, name);
        size_t dl = strcspn(bar2 + 1, ",|");
        if (dl > 0 && dl < sizeof name) {
            memcpy(name, bar2 + 1, dl);
            name[dl] = '\0';
            g->cc_dem[cc] = s_pool_add(g, name);
        }
        s_add(g, bar1 + 1, nl, TD_GZ_COUNTRY, cc, 0);
        for (int f = 0; f < 2; f++) {
            const char *q = f == 0 ? bar2 + 1 : bar3 + 1;
            const char *end = f == 0 ? bar3 : q + strlen(q);
            while (q < end) {
                const char *e = memchr(q, ',', (size_t)(end - q));
                if (!e)
                    e = end;
                if (e > q)
                    s_add(g, q, (size_t)(e - q), f == 0 ? TD_GZ_DEMONYM : TD_GZ_COUNTRY, cc, 0);
                q = e + 1;
            }
        }
    }
}

static FILE *s_open(const char *datadir, const char *name, const char *fallback)
{
    char path[1024];
    if (datadir) {
        snprintf(path, sizeof path, "%s/%s", datadir, name);
        FILE *f = fopen(path, "r");
        if (f)
            return f;
    }
    return fallback ? fopen(fallback, "r") : NULL;
}

static json_t *s_json(const char *datadir, const char *name, const char *fallback)
{
    FILE *f = s_open(datadir, name, fallback);
    if (!f) {
        td_warn("gazetteer: %s not found (install iso-codes)", name);
        return NULL;
    }
    json_error_t err;
    json_t *root = json_loadf(f, 0, &err);
    fclose(f);
    if (!root)
        td_warn("gazetteer: %s: %s at line %d", name, err.text, err.line);
    return root;
}

static void s_load_iso1(td_gazetteer *g, const char *datadir)
{
    json_t *root = s_json(datadir, "iso_3166-1.json", "/usr/share/iso-codes/json/iso_3166-1.json");
    json_t *arr = root ? json_object_get(root, "3166-1") : NULL;
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        const char *cc = json_string_value(json_object_get(e, "alpha_2"));
        if (!cc || strlen(cc) != 2)
            continue;
        uint16_t code = s_cc(cc);
        if (code == NO_CC)
            continue;
        const char *keys[] = {"common_name", "name", "official_name"};
        for (int k = 0; k < 3; k++) {
            const char *nm = json_string_value(json_object_get(e, keys[k]));
            if (!nm || strchr(nm, ','))
                continue; /* "Korea, Republic of" is never written so */
            if (g->cc_name[code] == UINT32_MAX)
                g->cc_name[code] = s_pool_add(g, nm);
            s_add(g, nm, strlen(nm), TD_GZ_COUNTRY, code, 0);
        }
    }
    json_decref(root);
}

static void s_load_iso2(td_gazetteer *g, const char *datadir)
{
    json_t *root = s_json(datadir, "iso_3166-2.json", "/usr/share/iso-codes/json/iso_3166-2.json");
    json_t *arr = root ? json_object_get(root, "3166-2") : NULL;
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        const char *nm = json_string_value(json_object_get(e, "name"));
        const char *code = json_string_value(json_object_get(e, "code"));
        if (!nm)
            continue;
        /* "Bruxelles-Capitale, Région de" and "Name (Other)": keep the head */
        size_t n = strcspn(nm, ",(");
        while (n > 0 && nm[n - 1] == ' ')
            n--;
        if (n >= 3 && !td_gazetteer_is_word(g, nm, n))
            s_add(g, nm, n, TD_GZ_SUBDIV, s_cc(code), 0);
    }
    json_decref(root);
}

/* A city name that is also an everyday word ("Mobile", "Of", "Police") is
 * left out unless it is a large city. */
static void s_add_city(td_gazetteer *g, const char *nm, size_t n, const char *cc, uint32_t pop)
{
    if (n < 3)
        return;
    if (pop < 1000000 && td_gazetteer_is_word(g, nm, n))
        return;
    s_add(g, nm, n, TD_GZ_CITY, s_cc(cc), pop);
}

typedef void *(*s_get_city_fn)(int);
typedef int (*s_n_cities_fn)(void);
typedef const char *(*s_city_str_fn)(void *);

typedef unsigned (*s_city_pop_fn)(void *);
typedef void (*s_city_free_fn)(void *);

/* GeoNames cities through libgeonames (Debian libgeonames0). dlopen keeps it
 * optional: without it the gazetteer falls back to tzdata's cities. */
static size_t s_load_geonames(td_gazetteer *g)
{
    void *lib = dlopen("libgeonames.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return 0;
    s_n_cities_fn n_cities = (s_n_cities_fn)dlsym(lib, "geonames_get_n_cities");
    s_get_city_fn get_city = (s_get_city_fn)dlsym(lib, "geonames_get_city");
    s_city_str_fn get_name = (s_city_str_fn)dlsym(lib, "geonames_city_get_name");
    s_city_str_fn get_cc = (s_city_str_fn)dlsym(lib, "geonames_city_get_country_code");
    s_city_pop_fn get_pop = (s_city_pop_fn)dlsym(lib, "geonames_city_get_population");
    s_city_free_fn city_free = (s_city_free_fn)dlsym(lib, "geonames_city_free");
    size_t added = 0;
    if (n_cities && get_city && get_name && get_cc && get_pop && city_free) {
        int n = n_cities();
        for (int i = 0; i < n && i < 200000; i++) {
            void *c = get_city(i);
            if (!c)
                continue;
            const char *nm = get_name(c);
            if (nm) {
                s_add_city(g, nm, strlen(nm), get_cc(c), get_pop(c));
                added++;
            }
            city_free(c);
        }
    }
    /* the library stays loaded: glib types it registered must not vanish */
    return added;
}

static size_t s_load_tsv(td_gazetteer *g, const char *datadir)
{
    FILE *f = s_open(datadir, "cities.tsv", NULL);
    if (!f)
        return 0;
    char line[512];
    size_t added = 0;
    while (fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        char *tab2 = strchr(tab + 1, '\t');
        uint32_t pop = tab2 ? (uint32_t)strtoul(tab2 + 1, NULL, 10) : 0;
        s_add_city(g, line, (size_t)(tab - line), tab + 1, pop);
        added++;
    }
    fclose(f);
    return added;
}

/* zone1970.tab: "CC<TAB>coords<TAB>Area/City_Name" */
static size_t s_load_zones(td_gazetteer *g)
{
    FILE *f = fopen("/usr/share/zoneinfo/zone1970.tab", "r");
    if (!f)
        return 0;
    char line[512];
    size_t added = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        char *t1 = strchr(line, '\t');
        char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t2)
            continue;
        char *zone = t2 + 1;
        size_t zl = strcspn(zone, "\t\n");
        zone[zl] = '\0';
        char *city = strrchr(zone, '/');
        city = city ? city + 1 : zone;
        for (char *p = city; *p; p++)
            if (*p == '_')
                *p = ' ';
        s_add(g, city, strlen(city), TD_GZ_CITY, s_cc(line), 100000);
        added++;
    }
    fclose(f);
    return added;
}

static void s_load_dict(td_gazetteer *g)
{
    FILE *f = fopen("/usr/share/dict/words", "r");
    if (!f)
        return;
    char line[128];
    while (fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\n");
        if (n == 0 || !(line[0] >= 'a' && line[0] <= 'z'))
            continue; /* capitalised entries are names */
        if (n > 2 && line[n - 2] == '\'' && line[n - 1] == 's')
            continue;
        s_dict_add(g, s_hash(line, n));
    }
    fclose(f);
}

td_gazetteer *td_gazetteer_new(const char *datadir)
{
    td_gazetteer *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->tab = calloc(GZ_SLOTS, sizeof *g->tab);
    g->dict = calloc(DICT_SLOTS, sizeof *g->dict);
    if (!g->tab || !g->dict) {
        td_gazetteer_destroy(&g);
        return NULL;
    }
    for (size_t i = 0; i < 26 * 26; i++)
        g->cc_name[i] = g->cc_dem[i] = UINT32_MAX;
    s_load_dict(g);
    s_load_countries(g);
    s_load_iso1(g, datadir);
    s_load_iso2(g, datadir);
    size_t cities = s_load_tsv(g, datadir);
    if (!cities)
        cities = s_load_geonames(g);
    if (!cities)
        cities = s_load_zones(g);
    td_debug("gazetteer: %zu names (%zu cities), %zu dictionary words", g->n, cities, g->n_dict);
    return g;
}

void td_gazetteer_destroy(td_gazetteer **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_gazetteer *g = *self_p;
    free(g->tab);
    free(g->dict);
    free(g->pool);
    free(g);
    *self_p = NULL;
}

bool td_gazetteer_lookup(const td_gazetteer *self, const char *s, size_t n, td_gz_hit *hit)
{
    memset(hit, 0, sizeof *hit);
    if (!self || n == 0 || n > 200)
        return false;
    const s_entry *e = s_find(self, s_hash(s, n));
    if (!e)
        return false;
    hit->kind = (td_gz_kind)e->kind;
    hit->population = e->pop;
    if (e->cc != NO_CC && self->cc_name[e->cc] != UINT32_MAX)
        hit->country = self->pool + self->cc_name[e->cc];
    if (e->cc != NO_CC && self->cc_dem[e->cc] != UINT32_MAX)
        hit->demonym = self->pool + self->cc_dem[e->cc];
    return true;
}

size_t td_gazetteer_size(const td_gazetteer *self)
{
    return self ? self->n : 0;
}
