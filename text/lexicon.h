/* lexicon.h — English keyword classes for the analysis steps (internal).
 *
 * One hash table maps a lower-cased word (td_lex_hash) to its classes and a
 * value: month and weekday numbers, values of number words, the kind of a
 * casualty word. Built once per process, read-only after.
 */
#ifndef TD_LEXICON_H
#define TD_LEXICON_H

#include <stdint.h>

enum {
    K_STOP = 1u << 0,      /* English stop word */
    K_MONTH = 1u << 1,     /* value 1..12 */
    K_WDAY = 1u << 2,      /* value 1..7, Monday = 1 */
    K_NUMW = 1u << 3,      /* number word, value */
    K_SCALE = 1u << 4,     /* dozen, hundred, thousand, million: value multiplier */
    K_TITLE = 1u << 5,     /* title before a person's name: President, Gen. */
    K_ROLE = 1u << 6,      /* role noun after or before a name: spokesman, minister */
    K_ORGSUF = 1u << 7,    /* last word of an organisation: Ministry, Council */
    K_PLACECUE = 1u << 8,  /* village, town, province, district */
    K_SAY = 1u << 9,       /* said, says, told, reported, announced */
    K_CASUALTY = 1u << 10, /* killed, wounded, ...: value = kind index */
    K_HUMAN = 1u << 11,    /* soldiers, civilians, people: a counted subject */
    K_ABBREV = 1u << 12,   /* ends with a dot but rarely ends a sentence: Mr, Gen, Feb */
    K_REL = 1u << 13,      /* relative time word: yesterday, today, last, ago */
    K_ORGWORD = 1u << 14,  /* word inside organisation names: Ministry, Forces */
    K_COMMON = 1u << 15,   /* capitalised at a sentence start but not a name */
    K_GEONOUN = 1u << 16,  /* lower-case geographic noun after a name: corridor, region */
    K_DEATHNOUN = 1u << 17,/* lives, deaths, casualties, toll: "claimed 6,500 lives" */
    K_BEFORE_NAME = 1u << 18, /* "Mr", "Mrs": next capitalised word is a person */
    K_NPHEAD = 1u << 19,   /* lower-case words of a speaker's phrase: officials, military */
    K_FUTURE = 1u << 20,   /* the sentence speaks of what is to come: will, scheduled */
};

/* Casualty kinds, the value of K_CASUALTY words. */
enum {
    CK_KILLED = 1, CK_WOUNDED, CK_INJURED, CK_DEAD, CK_MISSING, CK_DETAINED,
    CK_ARRESTED, CK_CAPTURED, CK_FREED, CK_RELEASED, CK_DISPLACED, CK_EVACUATED,
    CK_COUNT
};

/* Name of a casualty kind as the wire shows it ("killed"). */
const char *td_lex_kind_name(int kind);

/* Classes of the word with hash `h` (0 when unknown); *value gets its value. */
uint32_t td_lex_lookup(uint64_t h, int32_t *value);

#endif
