/* The memory timeline as an SVG line chart (memplot.h): current traced memory per
 * time bucket, axes labelled with tracemalloc's sizes and durations. */
#include "memplot.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

rw_code rw_mem_plot_svg(const char *path, const rw_mem_timeline *t, const char *title,
                         rw_err *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return rw_err_set(err, RW_EIO, "%s: cannot create: %s", path, strerror(errno));
    const double W = 800, H = 360, L = 90, R = 20, T = 40, B = 50;
    const double pw = W - L - R, ph = H - T - B;
    uint64_t ymax = 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->max[i] > ymax)
            ymax = t->max[i];
    double ytop = ymax ? (double)ymax * 1.05 : 1;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            W, H, W, H);
    fprintf(f, "<text x=\"%.0f\" y=\"22\" font-size=\"14\" text-anchor=\"middle\">", W / 2);
    for (const char *c = title; *c; c++) {
        if (*c == '<')
            fputs("&lt;", f);
        else if (*c == '&')
            fputs("&amp;", f);
        else if (*c == '>')
            fputs("&gt;", f);
        else
            fputc(*c, f);
    }
    fprintf(f, "</text>\n");
    for (int k = 0; k <= 4; k++) {
        double v = ytop * k / 4, y = T + ph - ph * k / 4;
        char lab[32];
        rw_mem_format_size(v, 0, lab, sizeof lab);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n"
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                L, y, L + pw, y, L - 6, y + 4, lab);
        double x = L + pw * k / 4;
        char tl[32];
        rw_mem_format_time(t->span_ns * k / 4, tl, sizeof tl);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", x,
                T + ph + 18, tl);
    }
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n"
               "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n",
            L, T, L, T + ph, L, T + ph, L + pw, T + ph);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">time since start</text>\n",
            L + pw / 2, H - 10);
    fprintf(f, "<text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" "
               "transform=\"rotate(-90 16 %.1f)\">current traced memory</text>\n",
            T + ph / 2, T + ph / 2);
    fprintf(f, "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"");
    for (size_t i = 0; i < t->n; i++) {
        double x0 = L + pw * (double)i / (double)t->n;
        double x1 = L + pw * (double)(i + 1) / (double)t->n;
        double y = T + ph - ph * (double)t->max[i] / ytop;
        fprintf(f, "%.1f,%.1f %.1f,%.1f ", x0, y, x1, y);
    }
    fprintf(f, "\"/>\n</svg>\n");
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return rw_err_set(err, RW_EIO, "%s: write failed: %s", path, strerror(errno));
    return RW_OK;
}
