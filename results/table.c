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
		t->cap = nc;
	}
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
		fputs("<table>\n", f);
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
			fputs("<tr>", f);
			for (size_t i = 0; i < nc; i++) {
				fputs(t->right[i] ? "<td class=\"n\">" : "<td>", f);
				sbr_html_escape(f, t->cells[r * nc + i]);
				fputs("</td>", f);
			}
			fputs("</tr>\n", f);
		}
		fputs("</tbody></table>\n", f);
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
	fputs("</title>\n<style>\n"
	      "body{font-family:sans-serif;margin:1.5em;color:#222}\n"
	      "table{border-collapse:collapse;margin:0.5em 0 1.5em}\n"
	      "caption{text-align:left;font-weight:bold;padding:0.3em 0}\n"
	      "th,td{border:1px solid #ccc;padding:0.2em 0.6em}\n"
	      "th{background:#f0f0f0}\ntd.n{text-align:right;font-variant-numeric:tabular-nums}\n"
	      "p.note{color:#555;font-size:90%}\nsvg{display:block;margin:0.5em 0 1.5em}\n"
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

/* Size labels for a log axis of bytes: 1, 32, 1K, 32K, 1M... */
static void size_label(char *buf, size_t len, double v)
{
	static const char *const u[] = {"", "K", "M", "G", "T"};
	int k = 0;
	while (v >= 1024 && k < 4) {
		v /= 1024;
		k++;
	}
	snprintf(buf, len, "%g%s", v, u[k]);
}

void sbr_svg_plot(FILE *f, const char *title, const char *xlabel, const char *ylabel,
                  const struct sbr_plot_line *lines, size_t nlines, int logy)
{
	static const char *const colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
	                                     "#9467bd", "#8c564b", "#e377c2", "#17becf"};
	const double W = 720, H = 380, L = 70, R = 190, T = 30, B = 50;
	double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
	for (size_t l = 0; l < nlines; l++)
		for (size_t i = 0; i < lines[l].n; i++) {
			double x = lines[l].x[i], y = lines[l].y[i];
			if (!(x > 0) || !isfinite(y) || (logy && !(y > 0)))
				continue;
			x0 = fmin(x0, x), x1 = fmax(x1, x), y0 = fmin(y0, y), y1 = fmax(y1, y);
		}
	if (!(x0 <= x1))
		return; /* nothing to plot */
	double lx0 = floor(log2(x0)), lx1 = ceil(log2(x1));
	if (lx1 <= lx0)
		lx1 = lx0 + 1;
	double ly0, ly1;
	if (logy) {
		ly0 = floor(log10(y0)), ly1 = ceil(log10(y1));
		if (ly1 <= ly0)
			ly1 = ly0 + 1;
	} else {
		ly0 = 0, ly1 = y1 > 0 ? y1 * 1.1 : 1;
	}
#define PX(x) (L + (log2(x) - lx0) / (lx1 - lx0) * (W - L - R))
#define PY(y) (H - B - ((logy ? log10(y) : (y)) - ly0) / (ly1 - ly0) * (H - T - B))
	fprintf(f,
	        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" "
	        "viewBox=\"0 0 %g %g\" font-family=\"sans-serif\" font-size=\"11\">\n",
	        W, H, W, H);
	fprintf(f, "<text x=\"%g\" y=\"18\" font-size=\"13\" font-weight=\"bold\">", L);
	sbr_html_escape(f, title);
	fputs("</text>\n", f);
	fprintf(f,
	        "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" "
	        "stroke=\"#888\"/>\n",
	        L, T, W - L - R, H - T - B);
	/* x ticks: every power of 2 that is a power of 32 or at the ends. */
	int step = (int)ceil((lx1 - lx0) / 10);
	for (double e = lx0; e <= lx1; e += step) {
		double x = L + (e - lx0) / (lx1 - lx0) * (W - L - R);
		char lab[32];
		size_label(lab, sizeof lab, pow(2, e));
		fprintf(f,
		        "<line x1=\"%.1f\" y1=\"%g\" x2=\"%.1f\" y2=\"%g\" stroke=\"#eee\"/>"
		        "<text x=\"%.1f\" y=\"%g\" text-anchor=\"middle\">%s</text>\n",
		        x, T, x, H - B, x, H - B + 14, lab);
	}
	if (logy)
		for (double e = ly0; e <= ly1; e++) {
			double y = H - B - (e - ly0) / (ly1 - ly0) * (H - T - B);
			fprintf(
			    f,
			    "<line x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" stroke=\"#eee\"/>"
			    "<text x=\"%g\" y=\"%.1f\" text-anchor=\"end\">1e%g</text>\n",
			    L, y, W - R, y, L - 4, y + 4, e);
		}
	else
		for (int k = 0; k <= 4; k++) {
			double v = ly0 + (ly1 - ly0) * k / 4, y = H - B - (H - T - B) * k / 4.0;
			char lab[32];
			sbr_fmt(lab, sizeof lab, v, 3);
			fprintf(
			    f,
			    "<line x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" stroke=\"#eee\"/>"
			    "<text x=\"%g\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
			    L, y, W - R, y, L - 4, y + 4, lab);
		}
	fprintf(f, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">", L + (W - L - R) / 2, H - 12);
	sbr_html_escape(f, xlabel);
	fprintf(f,
	        "</text>\n<text x=\"14\" y=\"%g\" transform=\"rotate(-90 14 %g)\" "
	        "text-anchor=\"middle\">",
	        T + (H - T - B) / 2, T + (H - T - B) / 2);
	sbr_html_escape(f, ylabel);
	fputs("</text>\n", f);
	for (size_t l = 0; l < nlines; l++) {
		const char *c = colors[l % 8];
		fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\" points=\"",
		        c);
		for (size_t i = 0; i < lines[l].n; i++) {
			double x = lines[l].x[i], y = lines[l].y[i];
			if (x > 0 && isfinite(y) && (!logy || y > 0))
				fprintf(f, "%.1f,%.1f ", PX(x), PY(y));
		}
		fputs("\"/>\n", f);
		for (size_t i = 0; i < lines[l].n; i++) {
			double x = lines[l].x[i], y = lines[l].y[i];
			if (x > 0 && isfinite(y) && (!logy || y > 0))
				fprintf(f,
				        "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>",
				        PX(x), PY(y), c);
		}
		fprintf(f,
		        "\n<rect x=\"%g\" y=\"%g\" width=\"12\" height=\"3\" fill=\"%s\"/>"
		        "<text x=\"%g\" y=\"%g\">",
		        W - R + 10, T + 8 + 16.0 * (double)l, c, W - R + 26,
		        T + 12 + 16.0 * (double)l);
		sbr_html_escape(f, lines[l].name);
		fputs("</text>\n", f);
	}
	fputs("</svg>\n", f);
#undef PX
#undef PY
}
