#include "plot.h"

#include "sbr.h"
#include "table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The viewBox: drawn at this size on a wide page, scaled down on a narrow one. Font sizes are
 * in the same units, 13 reads as 13 px at full width. */
#define W 900.0
#define H 500.0
#define ML 84.0 /* left margin: y tick labels and the y label */
#define MT 44.0 /* top: the title */
#define MB 62.0 /* bottom: x tick labels and the x label */
#define CHAR_W 7.2 /* width of a character at font size 13, a sans-serif's average */
#define SAMPLES 96 /* points of a curve given as a function */
#define MAX_TICKS_X 10
#define MAX_TICKS_Y 8

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                      "#9467bd", "#8c564b", "#e377c2", "#17becf"};

static const struct unit {
	const char *name;
	double scale;
} time_units[] = {{"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3}, {"s", 1}},
  rate_units[] = {{"MB/s", 1e6}, {"GB/s", 1e9}, {"TB/s", 1e12}};

static const struct unit *find_unit(const struct unit *u, size_t n, const char *name)
{
	for (size_t i = 0; name && i < n; i++)
		if (strcmp(u[i].name, name) == 0)
			return &u[i];
	return NULL;
}

/* The axis' own unit, or NULL when each tick picks one (SECONDS without a unit). */
static const struct unit *axis_unit(const struct sbr_axis *a)
{
	if (a->kind == SBR_AXIS_SECONDS)
		return find_unit(time_units, 4, a->unit);
	if (a->kind == SBR_AXIS_RATE) {
		const struct unit *u = find_unit(rate_units, 3, a->unit);
		return u ? u : &rate_units[1];
	}
	return NULL;
}

/* A number as a tick reads: up to 4 significant digits, and 1e6 rather than 1e+06. */
static void number(char *buf, size_t len, double v)
{
	double a = fabs(v);
	if (v != 0 && (a >= 1e6 || a < 1e-3)) {
		int e = (int)floor(log10(a));
		double m = v / pow(10, e);
		if (fabs(m) >= 9.995) /* rounding carried into the next power */
			m /= 10, e++;
		snprintf(buf, len, "%.3ge%d", m, e);
	} else {
		snprintf(buf, len, "%.4g", v);
	}
}

void sbr_plot_format(char *buf, size_t len, const struct sbr_axis *a, double v)
{
	char n[32];
	if (!isfinite(v)) {
		snprintf(buf, len, "-");
		return;
	}
	switch (a->kind) {
	case SBR_AXIS_BYTES: {
		static const char *const u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
		int k = 0;
		while (fabs(v) >= 1024 && k < 5)
			v /= 1024, k++;
		snprintf(buf, len, "%.4g %s", v, u[k]);
		return;
	}
	case SBR_AXIS_COUNT: {
		static const char *const u[] = {"", "k", "M", "G", "T"};
		int k = 0;
		while (fabs(v) >= 1000 && k < 4)
			v /= 1000, k++;
		snprintf(buf, len, "%.4g%s", v, u[k]);
		return;
	}
	case SBR_AXIS_SECONDS:
	case SBR_AXIS_RATE: {
		const struct unit *u = axis_unit(a);
		if (u) {
			number(n, sizeof n, v / u->scale);
			snprintf(buf, len, "%s", n);
			return;
		}
		/* Per tick: the largest unit the value reaches (10 ms, not 10000 us). */
		u = &time_units[0];
		for (size_t i = 1; i < 4; i++)
			if (fabs(v) >= time_units[i].scale * (1 - 1e-9))
				u = &time_units[i];
		number(n, sizeof n, v / u->scale);
		snprintf(buf, len, "%s %s", n, u->name);
		return;
	}
	}
	number(buf, len, v);
}

/* A tooltip's value: the axis' format, with the unit even where the axis names it once. */
static void tip_value(char *buf, size_t len, const struct sbr_axis *a, double v)
{
	sbr_plot_format(buf, len, a, v);
	const struct unit *u = axis_unit(a);
	if (u) {
		size_t l = strlen(buf);
		snprintf(buf + l, len - l, " %s", u->name);
	}
}

static void axis_label(FILE *f, const struct sbr_axis *a)
{
	sbr_html_escape(f, a->label);
	const struct unit *u = axis_unit(a);
	if (u) {
		fputs(" (", f);
		sbr_html_escape(f, u->name);
		fputc(')', f);
	}
}

/* Ticks of a log axis from 10^lo to 10^hi (log10 of the range shown). Sizes at powers of two
 * (every 1, 2, 5, 10... doublings, so that the powers of 1024 are among them); other numbers
 * at the densest of 1..9, 1-2-5, every decade, every 2, 3, 5, 10 decades that gives no more
 * than max ticks. Returns their count (at most cap); *level: which of those steps (0 densest). */
static size_t ticks(const struct sbr_axis *a, double lo, double hi, size_t max, double *t,
                    size_t cap, int *level)
{
	size_t n = 0;
	if (a->kind == SBR_AXIS_BYTES) {
		static const int steps[] = {1, 2, 5, 10, 20, 30, 50, 100};
		double e0 = ceil(lo / log10(2) - 1e-9), e1 = floor(hi / log10(2) + 1e-9);
		for (size_t s = 0; s < sizeof steps / sizeof *steps; s++) {
			n = 0;
			for (double e = ceil(e0 / steps[s]) * steps[s]; e <= e1 && n < cap;
			     e += steps[s])
				t[n++] = pow(2, e);
			*level = (int)s;
			if (n <= max)
				break;
		}
		return n;
	}
	static const double m19[] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, m125[] = {1, 2, 5}, m1[] = {1};
	static const struct {
		const double *m;
		size_t nm;
		int every; /* decades */
	} sets[] = {{m19, 9, 1}, {m125, 3, 1}, {m1, 1, 1},  {m1, 1, 2},
	            {m1, 1, 3},  {m1, 1, 5},   {m1, 1, 10}, {m1, 1, 20}};
	for (size_t s = 0; s < sizeof sets / sizeof *sets; s++) {
		int ev = sets[s].every;
		n = 0;
		for (double d = floor(lo / ev) * ev; d <= hi && n < cap; d += ev)
			for (size_t i = 0; i < sets[s].nm && n < cap; i++) {
				double v = sets[s].m[i] * pow(10, d), l = log10(v);
				if (l >= lo - 1e-9 && l <= hi + 1e-9)
					t[n++] = v;
			}
		*level = (int)s;
		/* Every digit labelled only within about a decade: beyond, they crowd at the top
		 * of each decade (1-2-5 then, with the minor lines at the other digits). */
		if (s == 0 && hi - lo > 1.05)
			continue;
		if (n <= max)
			break;
	}
	return n;
}

/* Widen the range shown (log10, padded already) out to the nearest ticks where they are close
 * (8% of the span): an axis that ends on a labelled tick reads at once, one that ends at 1.17
 * leaves the reader to guess its bottom. Not when the ticks would thin out for it. */
static void snap(const struct sbr_axis *a, double *lo, double *hi, size_t max)
{
	double t[64], reach = 0.08 * (*hi - *lo), below = -INFINITY, above = INFINITY;
	int level, wide;
	ticks(a, *lo, *hi, max, t, 64, &level);
	size_t n = ticks(a, *lo - reach, *hi + reach, max + 2, t, 64, &wide);
	for (size_t i = 0; i < n; i++) {
		double l = log10(t[i]);
		if (l <= *lo && l > below)
			below = l;
		if (l >= *hi && l < above)
			above = l;
	}
	double nlo = isfinite(below) ? below : *lo, nhi = isfinite(above) ? above : *hi;
	ticks(a, nlo, nhi, max, t, 64, &wide);
	if (wide == level) {
		*lo = nlo;
		*hi = nhi;
	}
}

/* A series' points, sampled when it is a function. */
struct pts {
	const double *x, *y, *lo, *hi;
	size_t n;
	double *buf; /* owned: the samples of a function */
};

static int ok_xy(const struct pts *p, size_t i)
{
	return p->x[i] > 0 && isfinite(p->x[i]) && p->y[i] > 0 && isfinite(p->y[i]);
}

static int ok_band(const struct pts *p, size_t i)
{
	return p->lo && p->hi && p->x[i] > 0 && isfinite(p->x[i]) && p->lo[i] > 0 &&
	       isfinite(p->lo[i]) && p->hi[i] > 0 && isfinite(p->hi[i]);
}

static int sample(const struct sbr_series *s, struct pts *p)
{
	memset(p, 0, sizeof *p);
	if (!s->fn) {
		*p = (struct pts){s->x, s->y, s->lo, s->hi, s->n, NULL};
		return 0;
	}
	if (!(s->x0 > 0 && s->x1 >= s->x0 && isfinite(s->x1)))
		return 0;
	double *b = malloc(4 * SAMPLES * sizeof *b);
	if (!b)
		return SB_ENOMEM;
	double *x = b, *y = b + SAMPLES, *lo = b + 2 * SAMPLES, *hi = b + 3 * SAMPLES;
	for (size_t i = 0; i < SAMPLES; i++) {
		x[i] = s->x0 * pow(s->x1 / s->x0, (double)i / (SAMPLES - 1));
		lo[i] = hi[i] = NAN;
		if (s->fn(s->ctx, x[i], &y[i], &lo[i], &hi[i]) != 0)
			y[i] = NAN;
	}
	*p = (struct pts){x, y, lo, hi, SAMPLES, b};
	return 0;
}

static void widen(double *lo, double *hi, double v)
{
	if (v > 0 && isfinite(v)) {
		double l = log10(v);
		*lo = fmin(*lo, l);
		*hi = fmax(*hi, l);
	}
}

/* The range shown (log10): the data's, at least min_span decades, padded so that no point
 * sits on the frame. */
static void settle(double *lo, double *hi, double min_span)
{
	if (*hi - *lo < min_span) {
		double c = (*lo + *hi) / 2;
		*lo = c - min_span / 2;
		*hi = c + min_span / 2;
	}
	double pad = (*hi - *lo) * 0.04;
	*lo -= pad;
	*hi += pad;
}

/* A legend's text: long names are cut (at a character, not inside one) with an ellipsis. */
static void legend_text(FILE *f, const char *name, size_t max_chars)
{
	size_t len = strlen(name);
	if (len <= max_chars) {
		sbr_html_escape(f, name);
		return;
	}
	size_t cut = max_chars - 1;
	while (cut > 0 && ((unsigned char)name[cut] & 0xC0) == 0x80)
		cut--;
	char *s = malloc(cut + 1);
	if (!s)
		return;
	memcpy(s, name, cut);
	s[cut] = '\0';
	sbr_html_escape(f, s);
	fputs("\xe2\x80\xa6", f);
	free(s);
}

int sbr_plot_svg(FILE *f, const struct sbr_plot *p)
{
	struct pts *pt = calloc(p->nseries ? p->nseries : 1, sizeof *pt);
	if (!pt)
		return SB_ENOMEM;
	int rc = 0;
	double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
	size_t shown = 0, legend = 0, name_chars = 0;
	for (size_t s = 0; s < p->nseries && rc == 0; s++) {
		rc = sample(&p->series[s], &pt[s]);
		for (size_t i = 0; i < pt[s].n; i++) {
			if (ok_xy(&pt[s], i)) {
				widen(&xlo, &xhi, pt[s].x[i]);
				widen(&ylo, &yhi, pt[s].y[i]);
				shown++;
			}
			if (ok_band(&pt[s], i)) {
				widen(&xlo, &xhi, pt[s].x[i]);
				widen(&ylo, &yhi, pt[s].lo[i]);
				widen(&ylo, &yhi, pt[s].hi[i]);
			}
		}
		if (p->series[s].name) {
			legend++;
			size_t l = strlen(p->series[s].name);
			name_chars = l > name_chars ? l : name_chars;
		}
	}
	if (rc || shown == 0) {
		for (size_t s = 0; s < p->nseries; s++)
			free(pt[s].buf);
		free(pt);
		return rc;
	}
	widen(&xlo, &xhi, p->x.min);
	widen(&xlo, &xhi, p->x.max);
	widen(&ylo, &yhi, p->y.min);
	widen(&ylo, &yhi, p->y.max);
	settle(&xlo, &xhi, p->x.kind == SBR_AXIS_BYTES ? 0.61 : 0.5);
	settle(&ylo, &yhi, p->y.kind == SBR_AXIS_BYTES ? 0.61 : 0.5);
	snap(&p->x, &xlo, &xhi, MAX_TICKS_X);
	snap(&p->y, &ylo, &yhi, MAX_TICKS_Y);

	/* The legend takes the right margin, as wide as its longest name (cut at 36). */
	size_t max_chars = 36, chars = name_chars < max_chars ? name_chars : max_chars;
	double legend_w = legend ? fmax(110, 40 + CHAR_W * (double)chars) : 0;
	double R = legend_w + 20, PW = W - ML - R, PH = H - MT - MB;
#define PX(v) (ML + (log10(v) - xlo) / (xhi - xlo) * PW)
#define PY(v) (MT + PH - (log10(v) - ylo) / (yhi - ylo) * PH)

	fputs("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\"", f);
	if (p->id) {
		fputs(" data-plot=\"", f);
		sbr_html_escape(f, p->id);
		fputc('"', f);
	}
	fprintf(f,
	        " viewBox=\"0 0 %g %g\" width=\"%g\" height=\"%g\" "
	        "style=\"width:100%%;max-width:%gpx;height:auto\" font-family=\"sans-serif\" "
	        "font-size=\"13\" role=\"img\" aria-label=\"",
	        W, H, W, H, W);
	sbr_html_escape(f, p->title);
	fputs("\">\n", f);
	fprintf(f, "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"#fff\"/>\n", ML, MT,
	        PW, PH);

	/* The extrapolated part: shaded, and labelled at its top. */
	if (p->extrap_from > 0 && log10(p->extrap_from) < xhi) {
		double x = log10(p->extrap_from) <= xlo ? ML : PX(p->extrap_from);
		fprintf(f,
		        "<g class=\"extrap\"><rect x=\"%.1f\" y=\"%g\" width=\"%.1f\" "
		        "height=\"%g\" fill=\"#f1f1f1\"/><line x1=\"%.1f\" y1=\"%g\" x2=\"%.1f\" "
		        "y2=\"%g\" stroke=\"#999\" stroke-dasharray=\"4 3\"/><text x=\"%.1f\" "
		        "y=\"%g\" fill=\"#666\" font-size=\"12\">extrapolated</text></g>\n",
		        x, MT, ML + PW - x, PH, x, MT, x, MT + PH, x + 6, MT + 15);
	}

	/* Grid and ticks. */
	double tx[64], ty[64];
	int lvx, lvy;
	size_t ntx = ticks(&p->x, xlo, xhi, MAX_TICKS_X, tx, 64, &lvx),
	       nty = ticks(&p->y, ylo, yhi, MAX_TICKS_Y, ty, 64, &lvy);
	char lab[64];
	/* Light minor lines at 2..9 of each decade when the ticks are 1-2-5 or decades: a log
	 * scale reads by them. */
	for (int axis = 0; axis < 2; axis++) {
		const struct sbr_axis *a = axis ? &p->y : &p->x;
		double lo = axis ? ylo : xlo, hi = axis ? yhi : xhi;
		if (a->kind == SBR_AXIS_BYTES || hi - lo > 6 || (axis ? lvy : lvx) == 0)
			continue;
		fputs("<g stroke=\"#f3f3f3\">", f);
		for (double d = floor(lo); d <= hi; d++)
			for (int m = 2; m <= 9; m++) {
				double v = m * pow(10, d), l = log10(v);
				if (l <= lo || l >= hi)
					continue;
				if (axis)
					fprintf(
					    f,
					    "<line x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\"/>",
					    ML, PY(v), ML + PW, PY(v));
				else
					fprintf(
					    f,
					    "<line x1=\"%.1f\" y1=\"%g\" x2=\"%.1f\" y2=\"%g\"/>",
					    PX(v), MT, PX(v), MT + PH);
			}
		fputs("</g>\n", f);
	}
	fputs("<g class=\"grid\" stroke=\"#ddd\">", f);
	for (size_t i = 0; i < ntx; i++)
		fprintf(f, "<line x1=\"%.1f\" y1=\"%g\" x2=\"%.1f\" y2=\"%g\"/>", PX(tx[i]), MT,
		        PX(tx[i]), MT + PH);
	for (size_t i = 0; i < nty; i++)
		fprintf(f, "<line x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\"/>", ML, PY(ty[i]),
		        ML + PW, PY(ty[i]));
	fputs("</g>\n", f);
	for (size_t i = 0; i < ntx; i++) {
		sbr_plot_format(lab, sizeof lab, &p->x, tx[i]);
		fprintf(f, "<text class=\"tick x\" x=\"%.1f\" y=\"%g\" text-anchor=\"middle\">",
		        PX(tx[i]), MT + PH + 18);
		sbr_html_escape(f, lab);
		fputs("</text>\n", f);
	}
	for (size_t i = 0; i < nty; i++) {
		sbr_plot_format(lab, sizeof lab, &p->y, ty[i]);
		fprintf(f, "<text class=\"tick y\" x=\"%g\" y=\"%.1f\" text-anchor=\"end\">",
		        ML - 6, PY(ty[i]) + 4);
		sbr_html_escape(f, lab);
		fputs("</text>\n", f);
	}

	/* Bands under lines under points. */
	for (size_t s = 0; s < p->nseries; s++) {
		const struct sbr_series *se = &p->series[s];
		if (!(se->style & SBR_PLOT_BAND))
			continue;
		fprintf(f,
		        "<polygon class=\"band\" fill=\"%s\" fill-opacity=\"0.18\" "
		        "stroke=\"none\" points=\"",
		        palette[(size_t)se->color % 8]);
		for (size_t i = 0; i < pt[s].n; i++)
			if (ok_band(&pt[s], i))
				fprintf(f, "%.1f,%.1f ", PX(pt[s].x[i]), PY(pt[s].hi[i]));
		for (size_t i = pt[s].n; i-- > 0;)
			if (ok_band(&pt[s], i))
				fprintf(f, "%.1f,%.1f ", PX(pt[s].x[i]), PY(pt[s].lo[i]));
		fputs("\"/>\n", f);
	}
	for (size_t s = 0; s < p->nseries; s++) {
		const struct sbr_series *se = &p->series[s];
		if (!(se->style & SBR_PLOT_LINE))
			continue;
		fprintf(f,
		        "<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s "
		        "points=\"",
		        se->fn ? "fit" : "line", palette[(size_t)se->color % 8],
		        se->style & SBR_PLOT_DASHED ? " stroke-dasharray=\"8 5\"" : "");
		for (size_t i = 0; i < pt[s].n; i++)
			if (ok_xy(&pt[s], i))
				fprintf(f, "%.1f,%.1f ", PX(pt[s].x[i]), PY(pt[s].y[i]));
		fputs("\"/>\n", f);
	}
	for (size_t s = 0; s < p->nseries; s++) {
		const struct sbr_series *se = &p->series[s];
		if (!(se->style & SBR_PLOT_POINTS))
			continue;
		const char *c = palette[(size_t)se->color % 8];
		/* Open circles are larger, so that a run drawn over another leaves the other's
		 * dots visible inside its rings. */
		int hollow = (se->style & SBR_PLOT_HOLLOW) != 0;
		fprintf(f, "<g class=\"points\" stroke=\"%s\" fill=\"%s\">\n", c,
		        hollow ? "none" : c);
		for (size_t i = 0; i < pt[s].n; i++) {
			if (!ok_xy(&pt[s], i))
				continue;
			double x = PX(pt[s].x[i]), y = PY(pt[s].y[i]);
			/* The interval as a bar, where the series has one and it shows. */
			if (!(se->style & SBR_PLOT_BAND) && ok_band(&pt[s], i))
				fprintf(f,
				        "<line class=\"bar\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
				        "y2=\"%.1f\" stroke-width=\"1.5\"/>",
				        x, PY(pt[s].hi[i]), x, PY(pt[s].lo[i]));
			fprintf(f,
			        "<circle class=\"pt\" cx=\"%.1f\" cy=\"%.1f\" r=\"%g\" "
			        "stroke-width=\"1.8\"><title>",
			        x, y, hollow ? 6.5 : 4.0);
			if (se->name) {
				sbr_html_escape(f, se->name);
				fputs(": ", f);
			}
			tip_value(lab, sizeof lab, &p->x, pt[s].x[i]);
			sbr_html_escape(f, lab);
			fputs(", ", f);
			tip_value(lab, sizeof lab, &p->y, pt[s].y[i]);
			sbr_html_escape(f, lab);
			if (ok_band(&pt[s], i)) {
				fputs(" [", f);
				tip_value(lab, sizeof lab, &p->y, pt[s].lo[i]);
				sbr_html_escape(f, lab);
				fputs(", ", f);
				tip_value(lab, sizeof lab, &p->y, pt[s].hi[i]);
				sbr_html_escape(f, lab);
				fputc(']', f);
			}
			fputs("</title></circle>\n", f);
		}
		fputs("</g>\n", f);
	}
	fprintf(f,
	        "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" "
	        "stroke=\"#888\"/>\n",
	        ML, MT, PW, PH);

	/* Title and axis labels. */
	fprintf(f, "<text class=\"title\" x=\"%g\" y=\"26\" font-size=\"16\" font-weight=\"bold\">",
	        ML);
	sbr_html_escape(f, p->title);
	fprintf(f, "</text>\n<text class=\"label x\" x=\"%g\" y=\"%g\" text-anchor=\"middle\">",
	        ML + PW / 2, H - 16);
	axis_label(f, &p->x);
	fprintf(
	    f,
	    "</text>\n<text class=\"label y\" x=\"20\" y=\"%g\" transform=\"rotate(-90 20 %g)\" "
	    "text-anchor=\"middle\">",
	    MT + PH / 2, MT + PH / 2);
	axis_label(f, &p->y);
	fputs("</text>\n", f);

	/* The legend: each entry drawn as its series is (band, line and its dashes, marker). No
	 * <circle> here: the markers are paths, so that circles are the measured points alone. */
	fputs("<g class=\"legend\">\n", f);
	double lx = W - R + 14, ly = MT + 8;
	for (size_t s = 0; s < p->nseries; s++) {
		const struct sbr_series *se = &p->series[s];
		if (!se->name)
			continue;
		const char *c = palette[(size_t)se->color % 8];
		if (se->style & SBR_PLOT_BAND)
			fprintf(f,
			        "<rect x=\"%g\" y=\"%g\" width=\"26\" height=\"12\" fill=\"%s\" "
			        "fill-opacity=\"0.25\"/>",
			        lx, ly - 6, c);
		if (se->style & SBR_PLOT_LINE)
			fprintf(f,
			        "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"%s\" "
			        "stroke-width=\"2\"%s/>",
			        lx, ly, lx + 26, ly, c,
			        se->style & SBR_PLOT_DASHED ? " stroke-dasharray=\"8 5\"" : "");
		if (se->style & SBR_PLOT_POINTS)
			fprintf(
			    f,
			    "<path d=\"M%g %gm-4 0a4 4 0 1 0 8 0a4 4 0 1 0 -8 0\" stroke=\"%s\" "
			    "stroke-width=\"1.8\" fill=\"%s\"/>",
			    lx + 13, ly, c, se->style & SBR_PLOT_HOLLOW ? "none" : c);
		fprintf(f, "<text x=\"%g\" y=\"%g\">", lx + 34, ly + 4.5);
		legend_text(f, se->name, max_chars);
		fputs("</text>\n", f);
		ly += 20;
	}
	fputs("</g>\n</svg>\n", f);
#undef PX
#undef PY
	for (size_t s = 0; s < p->nseries; s++)
		free(pt[s].buf);
	free(pt);
	return 0;
}
