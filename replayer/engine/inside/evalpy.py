# The Python side of an evaluation at a stop (server.c runs it in the throwaway fork):
# pdb's commands p, pp, whatis, args, retval, source, !stmt, the condition of a
# breakpoint and interact, with pdb's exact texts (Lib/pdb.py of 3.11: _getval,
# _error_exc, _msg_val_func, do_whatis, do_args, do_retval, do_source, _print_lines,
# default, displayhook; bdb.effective for conditions).
#
# run(frame, op, text, extra, sources, carried) -> (raised, text): op is client.h's
# rw_engine_op; extra is {'__return__': v} at a return event, {'__exception__': (t, v)}
# at an exception event (as pdb sets them in the frame's locals); carried is CARRY's
# text: "ID BASE64" lines, each a pickled dict ("m:BASE64": marshalled) of those taken
# by KEEP at an earlier stop, put in the frame's locals first when ID is "*" or
# id(frame); sources maps a file's path to its recorded text (linecache, for
# source). Output the evaluation prints goes into text: as printed (its last newline
# too) for EXEC, SOURCE and INTERACT_*, without the last newline for the others (a
# value, pdb's message()). Its
# imports (fresh copies of any module the stop is in the middle of importing) are made
# when first needed, through _import (server.c: with the inputs paused), and need(op)
# makes the ones op uses before it runs: an expression may use what they bring
# (reprlib for pdb's --Return-- line) although imports of its own are refused in
# RW_IN_EVAL.
#
# gen_evalpy.py compiles this file when rewind is built: evalpy.h (in the build tree)
# holds its code object, marshalled, which a stop's zygote loads in well under a
# millisecond where compiling the text took 11-15 ms in the zygote (its first writes
# are copy-on-write faults), and the text, compiled instead when the interpreter's
# magic number is not the build's.
import sys, io
P, PP, WHATIS, EXEC, ARGS, RETVAL, SOURCE, TRUTH, IBEGIN, ILINE, IEND, CARRY, KEEP = range(13)
_mods = {}
def _mod(name):
    # The helpers' modules, imported when first needed (_import: the C side's, with
    # the inputs paused). A stop in the middle of an import (a module's body running)
    # leaves that module half made in sys.modules, and a helper that imports it would
    # fail: the helpers get fresh copies of their own, the program's half-made ones
    # are put back after.
    m = _mods.get(name)
    if m is None:
        # The import system holds a lock for each module it is importing
        # (importlib._bootstrap._module_locks): a few names, where a scan of
        # sys.modules touched every module (copy-on-write faults in the zygote).
        locks = getattr(sys.modules.get('_frozen_importlib'), '_module_locks', None)
        half = {}
        for k in list(locks) if locks is not None else list(sys.modules):
            v = sys.modules.get(k)
            if v is not None and getattr(getattr(v, '__spec__', None), '_initializing', False):
                half[k] = v
        for k in half:
            del sys.modules[k]
        try:
            m = _mods[name] = _import(name)
        finally:
            sys.modules.update(half)
    return m
_NEEDS = {PP: ('pprint',), SOURCE: ('inspect', 'linecache'), KEEP: ('marshal', 'binascii'),
          IBEGIN: ('code',), EXEC: ('reprlib',)}
def need(op, carried):
    # What op uses, imported before it runs (the stop's zygote keeps them for the
    # questions after; an expression may use them: reprlib for --Return--).
    for name in _NEEDS.get(op, ()) + (('marshal', 'binascii') if carried else ()):
        _mod(name)
class _Err(Exception):
    pass
def _exc_text():
    exc_info = sys.exc_info()[:2]
    return _mod('traceback').format_exception_only(*exc_info)[-1].strip()
_console = None
def run(frame, op, text, extra, sources, carried):
    global _console
    out = io.StringIO()
    saved = sys.stdout, sys.stderr, sys.displayhook
    sys.stdout = sys.stderr = out
    def message(s):
        print(s, file=out)
    def displayhook(obj):
        if obj is not None:
            message(repr(obj))
    sys.displayhook = displayhook
    raised = 0
    err = None
    try:
        g = frame.f_globals
        l = frame.f_locals
        for line in carried.splitlines():
            fid, _, b = line.partition(' ')
            if fid != '*' and fid != str(id(frame)):
                continue
            try:
                if b[:2] == 'm:':
                    old = _mod('marshal').loads(_mod('binascii').a2b_base64(b[2:]))
                else:
                    old = _mod('_pickle').loads(_mod('binascii').a2b_base64(b))
            except Exception:
                continue
            if type(old) is dict:
                for k, v in old.items():
                    if k in ('__exception__', '__return__'):
                        l[k] = v
        for k, v in extra.items():
            l[k] = v
        def getval(arg):
            try:
                return eval(arg, g, l)
            except:
                raise _Err(_exc_text())
        try:
            if op in (P, PP):
                val = getval(text)
                try:
                    message(repr(val) if op == P else _mod('pprint').pformat(val))
                except:
                    raise _Err(_exc_text())
            elif op == WHATIS:
                value = getval(text)
                c = None
                try:
                    c = value.__func__.__code__
                except Exception:
                    pass
                if c:
                    message('Method %s' % c.co_name)
                else:
                    try:
                        c = value.__code__
                    except Exception:
                        pass
                    if c:
                        message('Function %s' % c.co_name)
                    elif value.__class__ is type:
                        message('Class %s.%s' % (value.__module__, value.__qualname__))
                    else:
                        message(type(value))
            elif op == ARGS:
                co = frame.f_code
                n = co.co_argcount + co.co_kwonlyargcount
                if co.co_flags & 0x04: n = n+1  # inspect.CO_VARARGS
                if co.co_flags & 0x08: n = n+1  # inspect.CO_VARKEYWORDS
                for i in range(n):
                    name = co.co_varnames[i]
                    if name in l:
                        message('%s = %r' % (name, l[name]))
                    else:
                        message('%s = *** undefined ***' % (name,))
            elif op == RETVAL:
                if '__return__' in l:
                    message(repr(l['__return__']))
                else:
                    raise _Err('Not yet returned!')
            elif op == SOURCE:
                for path, lines in sources.items():
                    _mod('linecache').cache[path] = (len(lines), None, lines, path)
                obj = getval(text)
                try:
                    lines, lineno = _mod('inspect').getsourcelines(obj)
                except (OSError, TypeError) as e:
                    raise _Err(str(e))
                for lineno, line in enumerate(lines, lineno):
                    s = str(lineno).rjust(3)
                    if len(s) < 4:
                        s += ' '
                    s += ' '
                    message(s + '\t' + line.rstrip())
            elif op == EXEC:
                line = text[1:] if text[:1] == '!' else text
                try:
                    c = compile(line + '\n', '<stdin>', 'single')
                    exec(c, g, l)
                except:
                    raise _Err(_exc_text())
            elif op == TRUTH:
                try:
                    val = eval(text, g, l)
                except:
                    raise _Err(_exc_text())
                message('1' if val else '0')
            elif op == KEEP:
                if not extra:
                    raise _Err('nothing to keep at this stop')
                # marshal (built in: nothing to import) for what it can hold (None,
                # numbers, strings: most return values), else pickle.
                try:
                    try:
                        tag, data = 'm:', _mod('marshal').dumps(dict(extra))
                    except ValueError:
                        tag, data = '', _mod('_pickle').dumps(dict(extra))
                    message('%d %s%s' % (id(frame), tag, _mod('binascii').b2a_base64(data, newline=False).decode()))
                except:
                    raise _Err(_exc_text())
            elif op == IBEGIN:
                ns = {**g, **l}
                _console = _mod('code').InteractiveConsole(ns)
                _console.write('*interactive*\n')
            elif op == ILINE:
                if _console is None:
                    raise _Err('no interactive console')
                if _console.push(text):
                    raised = 2
            elif op == IEND:
                if _console is not None:
                    _console.write('now exiting InteractiveConsole...\n')
                _console = None
        except _Err as e:
            raised = 1
            err = e.args[0]
    finally:
        sys.stdout, sys.stderr, sys.displayhook = saved
    s = out.getvalue()
    if raised == 1:
        s = s + err
    elif op in (P, PP, WHATIS, ARGS, RETVAL, TRUTH, KEEP) and s.endswith('\n'):
        s = s[:-1]
    return raised, s
