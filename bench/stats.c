/*
 * stats.c - median and range of a set of samples.
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

bench_stat bench_stat_of(const double *values, size_t count)
{
    bench_stat st = {0, 0, 0};
    if (count == 0) {
        return st;
    }
    double *v = malloc(count * sizeof(double));
    if (v == NULL) {
        return st;
    }
    memcpy(v, values, count * sizeof(double));
    qsort(v, count, sizeof(double), cmp_double);
    st.min = v[0];
    st.max = v[count - 1];
    st.median = count % 2 == 1 ? v[count / 2] : (v[count / 2 - 1] + v[count / 2]) / 2.0;
    free(v);
    return st;
}
