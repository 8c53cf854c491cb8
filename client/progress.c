/* progress.c — see progress.h. */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>

#include "daemon.h"

#define BAR_WIDTH 30

struct td_progress {
    uint64_t total;
    const char *what;
    bool enabled;
    bool drawn;
    int64_t start_us;
    int64_t last_draw_us;
};

td_progress *td_progress_new(uint64_t total, const char *what, bool enabled)
{
    td_progress *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->total = total;
    self->what = what ? what : "items";
    self->enabled = enabled;
    self->start_us = td_mono_us();
    return self;
}

double td_progress_elapsed(const td_progress *self)
{
    return (double)(td_mono_us() - self->start_us) / 1e6;
}

double td_progress_rate(const td_progress *self, uint64_t done)
{
    double s = td_progress_elapsed(self);
    return s > 0 ? (double)done / s : 0.0;
}

static void s_duration(char *buf, size_t size, double s)
{
    if (s < 0 || s > 360000)
        snprintf(buf, size, "--:--");
    else if (s >= 3600)
        snprintf(buf, size, "%d:%02d:%02d", (int)s / 3600, (int)s / 60 % 60, (int)s % 60);
    else
        snprintf(buf, size, "%02d:%02d", (int)s / 60, (int)s % 60);
}

void td_progress_update(td_progress *self, uint64_t done)
{
    if (!self || !self->enabled)
        return;
    int64_t now = td_mono_us();
    if (self->drawn && now - self->last_draw_us < 100000 && done != self->total)
        return;
    self->last_draw_us = now;
    self->drawn = true;
    double rate = td_progress_rate(self, done);
    if (self->total) {
        uint64_t shown = done > self->total ? self->total : done;
        int fill = (int)(shown * BAR_WIDTH / self->total);
        char bar[BAR_WIDTH + 1];
        for (int i = 0; i < BAR_WIDTH; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[BAR_WIDTH] = '\0';
        char eta[16];
        s_duration(eta, sizeof eta, rate > 0 ? (double)(self->total - shown) / rate : -1);
        fprintf(stderr, "\r[%s] %3d%% %llu/%llu %s  %.0f/s  ETA %s \033[K", bar,
                (int)(shown * 100 / self->total), (unsigned long long)done,
                (unsigned long long)self->total, self->what, rate, eta);
    } else {
        char el[16];
        s_duration(el, sizeof el, td_progress_elapsed(self));
        fprintf(stderr, "\r%llu %s  %.0f/s  %s \033[K", (unsigned long long)done, self->what,
                rate, el);
    }
    fflush(stderr);
}

void td_progress_destroy(td_progress **self_p)
{
    if (!self_p || !*self_p)
        return;
    if ((*self_p)->drawn) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
    }
    free(*self_p);
    *self_p = NULL;
}
