/* countries.h — the hand-written table of countries: the short name a news
 * reader expects ("Russia", not "Russian Federation"), other names, and the
 * demonyms that point to the country ("Azerbaijani", "Azeri"). iso-codes has
 * the official names but no demonyms, so this table supplies them (internal).
 */
#ifndef TD_COUNTRIES_H
#define TD_COUNTRIES_H

/* One country per string: "CC|Short name|demonym,demonym|alias,alias". */
extern const char *const td_countries[];

#endif
