/* lang.h — languages: identification, stop words, Snowball stemmer names.
 *
 * The languages are those libstemmer stems plus a few common news languages
 * it does not (Polish, Chinese, Japanese, Korean), which are identified so
 * they are labelled right but get no stemming. Identification counts stop
 * words of each language in the first few KiB and looks at the script; it is
 * good on a paragraph of news text, weak on a one-line query (pass the lang).
 */
#ifndef TD_LANG_H
#define TD_LANG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    TD_LANG_NONE = -1,
    TD_LANG_EN = 0,
    TD_LANG_FR, TD_LANG_DE, TD_LANG_ES, TD_LANG_IT, TD_LANG_PT, TD_LANG_NL,
    TD_LANG_SV, TD_LANG_DA, TD_LANG_NO, TD_LANG_FI, TD_LANG_HU, TD_LANG_RO,
    TD_LANG_RU, TD_LANG_TR, TD_LANG_AR, TD_LANG_EL, TD_LANG_CA, TD_LANG_EU,
    TD_LANG_GA, TD_LANG_ID, TD_LANG_LT, TD_LANG_SR, TD_LANG_HI, TD_LANG_NE,
    TD_LANG_TA, TD_LANG_HY, TD_LANG_YI,
    TD_LANG_PL, TD_LANG_ZH, TD_LANG_JA, TD_LANG_KO,
    TD_LANG_COUNT
} td_lang;

/* ISO 639-1 code ("en") of a language; "en" for TD_LANG_NONE. */
const char *td_lang_code(td_lang lang);

/* Language of an ISO 639-1 code or a tag such as "en-GB" or "EN";
 * TD_LANG_NONE when unknown or NULL. */
td_lang td_lang_parse(const char *code);

/* libstemmer algorithm name ("english"), or NULL when Snowball has none. */
const char *td_lang_stemmer(td_lang lang);

/* Identify the language of UTF-8 text (only the first ~4 KiB are read).
 * Never fails: text with no evidence gives TD_LANG_EN. Thread-safe. */
td_lang td_lang_detect(const char *text, size_t len);

/* Whether a case-folded word is a stop word of `lang`. Thread-safe, no
 * allocation (the tables are built once, on first use). */
bool td_lang_is_stop(td_lang lang, const char *word, size_t len);

#endif
