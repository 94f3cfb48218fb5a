/*
 * report.c - the tables petrel-bench prints, and the closing comparison
 * with the targets.
 */
#include <stdio.h>
#include <string.h>

#include "bench_run.h"

#define MAX_TARGETS 64

typedef struct target {
    char what[80];
    double measured;
    double target;
    char unit[8];
} target;

static target targets[MAX_TARGETS];
static int target_count;

void report_title(const char *title)
{
    printf("\n== %s\n", title);
}

void report_columns(const char *unit, bool with_floor)
{
    printf("%-31s %-7s %-27s %-27s %8s", "row", "side", "Petrel median (min-max)",
           "OpenSSL median (min-max)", "speed");
    if (with_floor) {
        printf(" %8s %8s", "floor", "+parse");
    }
    printf("   target   [%s]\n", unit);
}

static void fmt_stat(char *out, size_t cap, bench_stat st)
{
    if (st.median >= 100) {
        snprintf(out, cap, "%.0f (%.0f-%.0f)", st.median, st.min, st.max);
    } else {
        snprintf(out, cap, "%.1f (%.1f-%.1f)", st.median, st.min, st.max);
    }
}

void report_row(const char *label, const char *side, bench_stat petrel, bench_stat openssl,
                bool rate, const double *floor, double target_ratio)
{
    char a[40];
    char b[40];
    fmt_stat(a, sizeof(a), petrel);
    fmt_stat(b, sizeof(b), openssl);
    double ratio = rate ? petrel.median / openssl.median : openssl.median / petrel.median;
    printf("%-31s %-7s %-27s %-27s %7.2fx", label, side, a, b, ratio);
    if (floor != NULL) {
        printf(" %8.1f %8.1f", floor[0], floor[1]);
    }
    if (target_ratio > 0) {
        printf("   >= %.2fx %s", target_ratio, ratio >= target_ratio ? "met" : "MISSED");
        char what[80];
        snprintf(what, sizeof(what), "%s, %s", label, side);
        report_target(what, ratio, target_ratio, "x");
    }
    printf("\n");
    fflush(stdout);
}

void report_target(const char *what, double measured, double target_value, const char *unit)
{
    if (target_count == MAX_TARGETS) {
        return;
    }
    target *t = &targets[target_count++];
    snprintf(t->what, sizeof(t->what), "%s", what);
    snprintf(t->unit, sizeof(t->unit), "%s", unit);
    t->measured = measured;
    t->target = target_value;
}

void report_summary(void)
{
    report_title("Targets (speed = OpenSSL time / Petrel time; memory = Petrel / OpenSSL)");
    for (int i = 0; i < target_count; i++) {
        const target *t = &targets[i];
        bool upper = strcmp(t->unit, "<=") == 0;
        bool met = upper ? t->measured <= t->target : t->measured >= t->target;
        if (upper) {
            printf("%-46s measured %6.3f   target <= %.3f   %s\n", t->what, t->measured, t->target,
                   met ? "met" : "MISSED");
        } else {
            printf("%-46s measured %6.2fx  target >= %.2fx  %s (%+.0f%%)\n", t->what, t->measured,
                   t->target, met ? "met" : "MISSED", 100.0 * (t->measured / t->target - 1.0));
        }
    }
}
