#include "table.h"

#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int sbr_format_parse(const char *name)
{
	static const char *const names[] = {"text", "md", "csv", "html"};
	for (int i = 0; i < 4; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

int sbr_table_init(struct sbr_table *t, const char *title, const char *const *head)
{
	memset(t, 0, sizeof *t);
	while (head[t->ncols])
		t->ncols++;
	t->title = sbr_strdup(title);
	t->head = calloc(t->ncols, sizeof *t->head);
	t->right = calloc(t->ncols, sizeof *t->right);
	if (!t->head || !t->right)
		return SB_ENOMEM;
	for (size_t i = 0; i < t->ncols; i++)
		if (!(t->head[i] = sbr_strdup(head[i])))
			return SB_ENOMEM;
	for (size_t i = 0; i < t->ncols; i++)
		t->right[i] = 1;
	return 0;
}

void sbr_table_free(struct sbr_table *t)
{
	for (size_t i = 0; t->head && i < t->ncols; i++)
		free(t->head[i]);
	for (size_t i = 0; t->cells && i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->head);
	free(t->cells);
	free(t->right);
	free(t->mark);
	free(t->title);
	free(t->note);
	memset(t, 0, sizeof *t);
}

static int numeric(const char *s)
{
	if (!*s || strcmp(s, "-") == 0)
		return 1;
	char *end;
	strtod(s, &end);
	return end != s && (*end == '\0' || *end == '%' || *end == 'x');
}

int sbr_table_add(struct sbr_table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		size_t nc = t->cap ? 2 * t->cap : 16;
		char **v = realloc(t->cells, nc * t->ncols * sizeof *v);
		if (!v)
			return SB_ENOMEM;
		t->cells = v;
		unsigned char *m = realloc(t->mark, nc);
		if (!m)
			return SB_ENOMEM;
		t->mark = m;
		t->cap = nc;
	}
	t->mark[t->nrows] = 0;
	char **row = t->cells + t->nrows * t->ncols;
	for (size_t i = 0; i < t->ncols; i++) {
		row[i] = sbr_strdup(cells[i] ? cells[i] : "");
		if (!row[i]) {
			while (i--)
				free(row[i]);
			return SB_ENOMEM;
		}
		if (!numeric(row[i]))
			t->right[i] = 0;
	}
	t->nrows++;
	return 0;
}

void sbr_table_mark(struct sbr_table *t, size_t r)
{
	if (r < t->nrows)
		t->mark[r] = 1;
}

int sbr_table_set_note(struct sbr_table *t, const char *note)
{
	free(t->note);
	t->note = sbr_strdup(note);
	return t->note || !note ? 0 : SB_ENOMEM;
}

void sbr_html_escape(FILE *f, const char *s)
{
	for (; s && *s; s++)
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
}

/* Markdown: a pipe or a backslash would end or change the cell, a newline the row; and since
 * Markdown passes HTML through (a CI summary page renders it), <, > and & are written as
 * entities. Control characters become '?'. */
static void md_cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '|' || ch == '\\')
			fputc('\\', f);
		if (ch == '<')
			fputs("&lt;", f);
		else if (ch == '>')
			fputs("&gt;", f);
		else if (ch == '&')
			fputs("&amp;", f);
		else
			fputc(ch == '\n' || ch == '\r' || ch == '\t' ? ' '
			      : ch < 0x20 || ch == 0x7f              ? '?'
			                                             : ch,
			      f);
	}
}

/* CSV (RFC 4180): quoted when it holds a comma, a quote or a line break; quotes doubled.
 * Other control characters become '?'. */
static void csv_cell(FILE *f, const char *s)
{
	int quote = strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"')
			fputc('"', f);
		fputc(ch < 0x20 && ch != '\r' && ch != '\n' ? '?' : ch, f);
	}
	if (quote)
		fputc('"', f);
}

/* Aligned text: control characters would break the columns (or a terminal). */
static void text_cell(FILE *f, const char *s, size_t width, int right)
{
	size_t n = strlen(s);
	if (right)
		for (size_t i = n; i < width; i++)
			fputc(' ', f);
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 ? '?' : *s, f);
	if (!right)
		for (size_t i = n; i < width; i++)
			fputc(' ', f);
}

/* Whether column i holds a word too long to keep whole (run ids, long host names, paths): in
 * HTML such cells may break anywhere, so that the table can shrink to the page, while the
 * others break between words only and keep "allreduce" in one piece. */
static int long_word(const struct sbr_table *t, size_t i)
{
	for (size_t r = 0; r < t->nrows; r++) {
		size_t run = 0;
		for (const char *c = t->cells[r * t->ncols + i]; *c; c++) {
			run = *c == ' ' || *c == '-' || *c == '/' || *c == ',' ? 0 : run + 1;
			if (run > 16)
				return 1;
		}
	}
	return 0;
}

int sbr_table_write(const struct sbr_table *t, FILE *f, enum sbr_format fmt)
{
	size_t nc = t->ncols;
	switch (fmt) {
	case SBR_MD:
		if (t->title) {
			fputs("### ", f);
			md_cell(f, t->title);
			fputs("\n\n", f);
		}
		for (size_t i = 0; i < nc; i++) {
			fputs("| ", f);
			md_cell(f, t->head[i]);
			fputc(' ', f);
		}
		fputs("|\n", f);
		for (size_t i = 0; i < nc; i++)
			fputs(t->right[i] ? "|---:" : "|---", f);
		fputs("|\n", f);
		for (size_t r = 0; r < t->nrows; r++) {
			for (size_t i = 0; i < nc; i++) {
				fputs("| ", f);
				md_cell(f, t->cells[r * nc + i]);
				fputc(' ', f);
			}
			fputs("|\n", f);
		}
		if (t->note) {
			fputc('\n', f);
			md_cell(f, t->note);
			fputc('\n', f);
		}
		fputc('\n', f);
		break;
	case SBR_CSV:
		/* CSV readers want the header row first: the title is left out, and several
		 * tables are separated by an empty line. */
		for (size_t i = 0; i < nc; i++) {
			if (i)
				fputc(',', f);
			csv_cell(f, t->head[i]);
		}
		fputs("\r\n", f);
		for (size_t r = 0; r < t->nrows; r++) {
			for (size_t i = 0; i < nc; i++) {
				if (i)
					fputc(',', f);
				csv_cell(f, t->cells[r * nc + i]);
			}
			fputs("\r\n", f);
		}
		break;
	case SBR_HTML:
		/* The wrapper scrolls a table too wide for the page (many runs side by side)
		 * instead of widening the page. */
		fputs("<div class=\"tw\"><table>\n", f);
		if (t->title) {
			fputs("<caption>", f);
			sbr_html_escape(f, t->title);
			fputs("</caption>\n", f);
		}
		fputs("<thead><tr>", f);
		for (size_t i = 0; i < nc; i++) {
			fputs("<th>", f);
			sbr_html_escape(f, t->head[i]);
			fputs("</th>", f);
		}
		fputs("</tr></thead>\n<tbody>\n", f);
		for (size_t r = 0; r < t->nrows; r++) {
			fputs(t->mark[r] ? "<tr class=\"warn\">" : "<tr>", f);
			for (size_t i = 0; i < nc; i++) {
				fputs(t->right[i]       ? "<td class=\"n\">"
				      : long_word(t, i) ? "<td class=\"w\">"
				                        : "<td>",
				      f);
				sbr_html_escape(f, t->cells[r * nc + i]);
				fputs("</td>", f);
			}
			fputs("</tr>\n", f);
		}
		fputs("</tbody></table></div>\n", f);
		if (t->note) {
			fputs("<p class=\"note\">", f);
			sbr_html_escape(f, t->note);
			fputs("</p>\n", f);
		}
		break;
	default: {
		size_t *w = calloc(nc ? nc : 1, sizeof *w);
		if (!w)
			return SB_ENOMEM;
		for (size_t i = 0; i < nc; i++) {
			w[i] = strlen(t->head[i]);
			for (size_t r = 0; r < t->nrows; r++) {
				size_t l = strlen(t->cells[r * nc + i]);
				if (l > w[i])
					w[i] = l;
			}
		}
		if (t->title) {
			fputs("# ", f);
			text_cell(f, t->title, 0, 0);
			fputc('\n', f);
		}
		for (size_t i = 0; i < nc; i++) {
			fputs(i ? "  " : "", f);
			text_cell(f, t->head[i], w[i], t->right[i]);
		}
		fputc('\n', f);
		for (size_t r = 0; r < t->nrows; r++) {
			for (size_t i = 0; i < nc; i++) {
				fputs(i ? "  " : "", f);
				text_cell(f, t->cells[r * nc + i], w[i], t->right[i]);
			}
			fputc('\n', f);
		}
		if (t->note) {
			fputs("# ", f);
			text_cell(f, t->note, 0, 0);
			fputc('\n', f);
		}
		fputc('\n', f);
		free(w);
	}
	}
	return 0;
}

void sbr_html_begin(FILE *f, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", f);
	sbr_html_escape(f, title);
	/* Cells with long words (run ids, timestamps) may break anywhere (td.w, see long_word),
	 * which lets a table shrink to the page; numbers never break. Plots take the content
	 * width up to their drawn size. */
	fputs(
	    "</title>\n<style>\n"
	    "body{font-family:sans-serif;margin:1.5em auto;padding:0 1.5em;max-width:1400px;"
	    "color:#222;line-height:1.35}\n"
	    "h2{margin-top:1.6em;border-bottom:1px solid #ddd}\n"
	    "div.tw{max-width:100%;overflow-x:auto;margin:0.5em 0 1.5em}\n"
	    "table{border-collapse:collapse;font-size:0.875em}\n"
	    "caption{text-align:left;font-weight:bold;padding:0.3em 0}\n"
	    "th,td{border:1px solid #ccc;padding:0.2em 0.5em;vertical-align:top}\n"
	    "th{background:#f0f0f0}\n"
	    "td{overflow-wrap:break-word}\ntd.w{overflow-wrap:anywhere;min-width:6em}\n"
	    "td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
	    "tr.warn td{background:#fff3cd}\n"
	    "p.note{color:#555;font-size:90%}\np.warn{background:#fff3cd;padding:0.4em 0.6em}\n"
	    "svg.plot{display:block;width:100%;max-width:900px;height:auto;margin:0.5em 0 1.5em}\n"
	    "</style>\n</head>\n<body>\n<h1>",
	    f);
	sbr_html_escape(f, title);
	fputs("</h1>\n", f);
}

void sbr_html_end(FILE *f)
{
	fputs("</body>\n</html>\n", f);
}

void sbr_html_heading(FILE *f, const char *text)
{
	fputs("<h2>", f);
	sbr_html_escape(f, text);
	fputs("</h2>\n", f);
}

void sbr_html_para(FILE *f, const char *text)
{
	fputs("<p>", f);
	sbr_html_escape(f, text);
	fputs("</p>\n", f);
}

void sbr_fmt(char *buf, size_t len, double v, int digits)
{
	if (!isfinite(v))
		snprintf(buf, len, "-");
	else if (v != 0 && (fabs(v) >= 1e7 || fabs(v) < 1e-3))
		snprintf(buf, len, "%.*e", digits - 1, v);
	else {
		/* Fixed notation with `digits` significant digits. */
		int mag = v == 0 ? 0 : (int)floor(log10(fabs(v)));
		int dec = digits - 1 - mag;
		snprintf(buf, len, "%.*f", dec < 0 ? 0 : dec, v);
	}
}
