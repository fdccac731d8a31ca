/* Temporary: weak stand-ins for format's INPUTS frames (rw_writer_input, the inputs
 * iterator) until they land on main, so that the recorder links now that the file
 * wrappers use the input core. The real definitions (format/writer.c, format/inputs.c)
 * override these. Delete this file at the merge of "inputs: INPUTS frames".
 */
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
    return rw_err_set(err, RW_EIO, "this build does not read INPUTS frames yet");
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
