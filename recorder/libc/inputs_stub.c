/* TEMPORARY (issue 14, branch i14-netproc): weak stand-ins for format's INPUTS writer
 * and reader, declared in format/writer.h and format/inputs.h but not yet landed, so
 * that the wrappers link. The real definitions override these; delete this file when
 * "inputs: INPUTS frames" is merged. */
#include "inputs.h"
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
    (void)out;
    return rw_err_set(err, RW_EVERSION, "this build cannot read INPUTS frames yet");
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
