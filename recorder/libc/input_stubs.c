/* TEMPORARY (issue 14, engine branch): weak stand-ins for format/'s INPUTS frames
 * (rw_writer_input, rw_inputs_iter_*), which another helper is writing. Until they land
 * the records logged are dropped and a replay has none. Delete this file when
 * "inputs: INPUTS frames" is merged: the strong definitions replace these. */
#include "input.h"

#include "reader.h"
#include "writer.h"

__attribute__((weak)) void rw_writer_input(rw_writer *w, const rw_input *in)
{
    (void)w;
    (void)in;
}

__attribute__((weak)) rw_code rw_inputs_iter_open(const rw_reader *r, rw_inputs_iter **out,
                                                  rw_err *err)
{
    (void)r;
    *out = NULL;
    (void)err;
    return RW_OK;
}

__attribute__((weak)) int rw_inputs_iter_next(rw_inputs_iter *it, rw_input *in, rw_err *err)
{
    (void)it;
    (void)in;
    (void)err;
    return 0;
}

__attribute__((weak)) void rw_inputs_iter_free(rw_inputs_iter *it)
{
    (void)it;
}
