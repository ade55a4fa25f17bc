/* Tables of text cells, written as Markdown, CSV, aligned text, or HTML (every cell escaped),
 * and the HTML page around them: everything scalebench-report prints. The plots are plot.h's. */
#ifndef SBR_TABLE_H
#define SBR_TABLE_H

#include "sbr.h"

#include <stdio.h>

enum sbr_format { SBR_TEXT, SBR_MD, SBR_CSV, SBR_HTML };
#define SBR_FORMAT_CHOICES "text|md|csv|html"
/* "md" -> SBR_MD...; -1 for an unknown name. */
int sbr_format_parse(const char *name);

struct sbr_table {
	char *title; /* may be NULL */
	char *note; /* a line under the table, may be NULL */
	size_t ncols, nrows, cap;
	char **head; /* ncols */
	char **cells; /* nrows x ncols */
	int *right; /* per column: align right (numbers) */
	unsigned char *mark; /* per row: 1 when flagged (sbr_table_mark) */
};

/* A table with these column names (NULL-terminated). */
int sbr_table_init(struct sbr_table *t, const char *title, const char *const *head);
void sbr_table_free(struct sbr_table *t);
/* Append a row of ncols cells (copied; NULL is an empty cell). */
int sbr_table_add(struct sbr_table *t, const char *const *cells);
int sbr_table_set_note(struct sbr_table *t, const char *note);
/* Flag row r as one the reader must not miss (a run given twice): HTML highlights it; the
 * other formats say why in the cells themselves. */
void sbr_table_mark(struct sbr_table *t, size_t r);

/* Writers. For HTML, sbr_html_begin / sbr_html_end frame one self-contained page (inline CSS,
 * no scripts, nothing fetched); its tables wrap long cells and scroll rather than widen the
 * page. The table writer returns 0 or SB_ENOMEM (aligned text measures its columns first);
 * errors of f itself are the caller's to check (ferror, fclose). */
int sbr_table_write(const struct sbr_table *t, FILE *f, enum sbr_format fmt);
void sbr_html_begin(FILE *f, const char *title);
void sbr_html_end(FILE *f);
void sbr_html_escape(FILE *f, const char *s);
void sbr_html_heading(FILE *f, const char *text);
void sbr_html_para(FILE *f, const char *text);

/* Number formatting for cells: "%.*g"-like with a fixed number of significant digits; "-" for
 * NaN. */
void sbr_fmt(char *buf, size_t len, double v, int digits);

#endif
