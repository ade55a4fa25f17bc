/* The result model's own functions (result.h). */
#include "result.h"

#include "bench.h"
#include "error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void sb_method_per_round(const struct sb_method *m, struct sb_method *mr)
{
	*mr = *m;
	if (m->rounds < 2)
		return;
	size_t k = (size_t)m->rounds;
	mr->min_iters = (m->min_iters + k - 1) / k;
	mr->min_time = m->min_time / (double)k;
	mr->max_time = m->max_time / (double)k;
	/* The cap shared out, but never below a fixed -n (which stays per round). */
	mr->max_iters = (m->max_iters + k - 1) / k;
	if (mr->max_iters < m->iters)
		mr->max_iters = m->iters;
}

int sb_metric_add(struct sb_metrics *m, const char *name, const char *unit, double value)
{
	if (m->n == m->cap) {
		size_t nc = m->cap ? 2 * m->cap : 8;
		struct sb_metric *v = realloc(m->v, nc * sizeof *v);
		if (!v)
			return SB_ENOMEM;
		m->v = v;
		m->cap = nc;
	}
	m->v[m->n++] = (struct sb_metric){.name = name, .unit = unit, .value = value};
	return 0;
}

void sb_metrics_free(struct sb_metrics *m)
{
	free(m->v);
	memset(m, 0, sizeof *m);
}

double sb_metric_get(const struct sb_metrics *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i].name, name) == 0)
			return m->v[i].value;
	return NAN;
}

void sb_point_result_free(struct sb_point_result *r)
{
	free(r->samples);
	free(r->dev_samples);
	free(r->alt_samples);
	free(r->rounds);
	json_decref(r->detail);
	json_decref(r->series);
	r->series = NULL;
	sb_metrics_free(&r->metrics);
	r->samples = r->dev_samples = r->alt_samples = NULL;
	r->rounds = NULL;
	r->detail = NULL;
}

long long sb_param_int(const struct sb_point *pt, const char *key)
{
	json_t *v = pt->params ? json_object_get(pt->params, key) : NULL;
	return json_is_boolean(v) ? json_is_true(v) : (long long)json_number_value(v);
}

double sb_param_double(const struct sb_point *pt, const char *key)
{
	return pt->params ? json_number_value(json_object_get(pt->params, key)) : 0.0;
}

const char *sb_param_str(const struct sb_point *pt, const char *key)
{
	return pt->params ? json_string_value(json_object_get(pt->params, key)) : NULL;
}

void sb_points_free(struct sb_point *pts, size_t n)
{
	for (size_t i = 0; pts && i < n; i++)
		json_decref(pts[i].params);
	free(pts);
}
