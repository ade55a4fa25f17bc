/* Log-log plots as inline SVG for the HTML pages (show, report). A reader should get a plot at
 * a glance, so: ticks in the units the tables beside it use (us, GB/s; sizes as 8 B, 1 KiB),
 * at powers of ten or 1-2-5 (sizes at powers of two), a legend, measured points as circles
 * (class "pt", each with a tooltip; no other element of a plot is a <circle>, so a test can
 * count them), fitted curves as lines, and an extrapolated region shaded with its interval
 * band. The SVG scales with the page (viewBox, width 100%). Every string is escaped. */
#ifndef SBR_PLOT_H
#define SBR_PLOT_H

#include <stddef.h>
#include <stdio.h>

/* What an axis measures, and so how its ticks read. Values are always given in base units
 * (bytes, seconds, bytes per second, a count); the axis shows them in its unit. */
enum sbr_axis_kind {
	SBR_AXIS_COUNT, /* plain numbers: 1, 10, 100, 1k, 10k, 1M (ranks, batch sizes) */
	SBR_AXIS_BYTES, /* powers of two: 8 B, 1 KiB, 1 MiB */
	SBR_AXIS_SECONDS, /* in "ns", "us", "ms" or "s" */
	SBR_AXIS_RATE, /* bytes per second, in "GB/s" (10^9, as the tables) or "MB/s" */
};

struct sbr_axis {
	const char *label; /* "message size", "time per iteration" */
	enum sbr_axis_kind kind;
	/* SECONDS and RATE: the unit of the whole axis, named in its label as the tables name it
	 * ("time per iteration (us)"). NULL: each tick carries its own unit ("100 us", "1 ms"),
	 * for ranges too wide for one (RATE: GB/s). */
	const char *unit;
	double min, max; /* a range to show at least, in base units (0: the data's alone) */
};

/* How a series is drawn (flags). */
enum {
	SBR_PLOT_POINTS = 1, /* a circle per point */
	SBR_PLOT_LINE = 2, /* a line through the points */
	SBR_PLOT_DASHED = 4, /* the line dashed (an extrapolation, or a run given twice) */
	SBR_PLOT_HOLLOW = 8, /* circles open, so a series drawn over another shows both */
	SBR_PLOT_BAND = 16, /* the interval lo..hi as a shaded band (else as bars on points) */
};

/* A curve given as a function: y and its interval (lo, hi; NAN for none) at x. 0, or nonzero
 * where it has no value (the point is left out). */
typedef int (*sbr_plot_fn)(void *ctx, double x, double *y, double *lo, double *hi);

/* One series: n points (x, y), or a function sampled over [x0, x1] (x NULL, fn set). Points
 * with a value that is not positive and finite are left out (log axes). lo and hi (may be
 * NULL): an interval per point. */
struct sbr_series {
	const char *name; /* in the legend and the tooltips; NULL: not in the legend */
	int color; /* index into the palette (taken modulo its size) */
	unsigned style; /* SBR_PLOT_* */
	const double *x, *y, *lo, *hi;
	size_t n;
	sbr_plot_fn fn;
	void *ctx;
	double x0, x1;
};

struct sbr_plot {
	const char *title;
	const char *id; /* the svg's data-plot attribute, to find it in a page (may be NULL) */
	struct sbr_axis x, y;
	const struct sbr_series *series;
	size_t nseries;
	/* x from which the values are extrapolated: that part of the plot is shaded and says so
	 * (0: none). */
	double extrap_from;
};

/* Write the plot as one <svg> element. Nothing when no series has a point to show. 0, or
 * SB_ENOMEM. */
int sbr_plot_svg(FILE *f, const struct sbr_plot *p);

/* A value formatted as a tick of the axis would read: "64 KiB", "12.5 us", "3.2 GB/s", "1k". */
void sbr_plot_format(char *buf, size_t len, const struct sbr_axis *a, double v);

#endif
