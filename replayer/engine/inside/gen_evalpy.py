"""Writes evalpy.h from evalpy.py (replayer/CMakeLists.txt runs it at build time with the
Python 3.11 that rewind links): the helper's text as a C string, its code object
marshalled, and the magic number of the bytecode it was compiled for.

    gen_evalpy.py evalpy.py evalpy.h"""
import importlib.util
import marshal
import sys


def c_string(text):
    out = []
    for line in text.splitlines(keepends=True):
        esc = line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        out.append('"' + esc + '"')
    return "\n".join(out) or '""'


def main():
    src_path, out_path = sys.argv[1], sys.argv[2]
    with open(src_path, encoding="utf-8") as f:
        text = f.read()
    # "<string>": the name PyRun_String gave it before; the helper's errors show no
    # file name anyway.
    code = marshal.dumps(compile(text, "<string>", "exec", dont_inherit=True))
    magic = int.from_bytes(importlib.util.MAGIC_NUMBER, "little")
    rows = [", ".join(str(b) for b in code[i:i + 24]) for i in range(0, len(code), 24)]
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("/* Made by replayer/engine/inside/gen_evalpy.py from evalpy.py: do not edit. */\n"
                "#ifndef RW_ENGINE_EVALPY_H\n#define RW_ENGINE_EVALPY_H\n\n"
                f"#define RW_ENGINE_EVALPY_MAGIC {magic}L\n\n"
                "static const char rw_engine_evalpy[] =\n" + c_string(text) + ";\n\n"
                "static const unsigned char rw_engine_evalpy_code[] = {\n" +
                ",\n".join(rows) + "};\n\n#endif\n")


if __name__ == "__main__":
    main()
