/* profile_text.h — the formats of the profiler's summary and cluster file, in the
 * library's text buffer (text_buffer.h). */
#ifndef P3CFG_PROFILE_TEXT_H
#define P3CFG_PROFILE_TEXT_H

#include "text_buffer.h"

/* Append s as a double-quoted YAML scalar (backslash and quote escaped). */
void p3cfg__ptext_quoted(p3cfg__text *t, const char *s);
/* Append a number in the fixed format of the cluster file ("%.4g"-like, no exponent
 * for the magnitudes that occur, never "-0"). */
void p3cfg__ptext_number(p3cfg__text *t, double v);

#endif
