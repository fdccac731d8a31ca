"""An independent reader of rewind trace files, written from docs/format.md alone.

It shares no code with rewind: the container (header, frames, CRC-32C, trailer), the
protobuf wire format and the chunk columns are all decoded here with the standard
library (zstd through libzstd via ctypes, or the `zstd` command). Its purpose is to
prove that docs/format.md is enough to read a trace; tests/e2e/test_format_doc.py
compares what it reads with `rewind events --json`, and bench/record uses it for trace
sizes and counts.

    python3 pyreader.py TRACE            # summary
    python3 pyreader.py TRACE --events   # one JSON object per record

    t = Trace("trace.rwd")
    t.metadata["argv"], t.end["events"], t.codes[3]["qualname"], t.crashes
    for rec in t.records(): ...
"""

import ctypes
import ctypes.util
import json
import struct
import subprocess
import sys

# ---- container constants (docs/format.md, "Container") ----------------------------

MAGIC = b"RWTRACE\0"
FORMAT_VERSION = 1
HEADER_LEN = 32
FRAME_HEADER_LEN = 24
TRAILER_LEN = 16
FRAME_MAGIC = b"RWFR"
TRAILER_MAGIC = b"RWIX"
FRAME_MAX = 256 << 20
FRAME_METADATA, FRAME_DEFINITIONS, FRAME_CHUNK, FRAME_INDEX, FRAME_END, FRAME_CRASH = 1, 2, 3, 4, 5, 6
FRAME_INPUTS = 7
CODEC_RAW, CODEC_ZSTD = 0, 1

KIND_NAMES = {0: "call", 1: "line", 2: "return", 3: "exception", 4: "c_call",
              5: "c_return", 6: "c_exception", 16: "alloc_raw", 17: "alloc_mem",
              18: "alloc_obj", 19: "free_raw", 20: "free_mem", 21: "free_obj",
              22: "thread", 23: "audit", 24: "uncaught", 25: "gen", 26: "startup_reuse", 27: "drop"}
CALL, LINE, RETURN, EXCEPTION, C_CALL, C_RETURN, C_EXCEPTION = range(7)
ALLOCS = (16, 17, 18)
FREES = (19, 20, 21)
THREAD, AUDIT, UNCAUGHT, GEN, STARTUP_REUSE, DROP = 22, 23, 24, 25, 26, 27


class FormatError(Exception):
    """The file is not a valid trace (or not one this reader understands)."""


# ---- CRC-32C (Castagnoli): reflected polynomial 0x82F63B78 ---------------------------

def _crc_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc_table()


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    table = _CRC_TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


# ---- zstd --------------------------------------------------------------------------

_zstd = None


def _libzstd():
    global _zstd
    if _zstd is None:
        name = ctypes.util.find_library("zstd") or "libzstd.so.1"
        try:
            lib = ctypes.CDLL(name)
            lib.ZSTD_decompress.restype = ctypes.c_size_t
            lib.ZSTD_decompress.argtypes = [ctypes.c_void_p, ctypes.c_size_t,
                                            ctypes.c_void_p, ctypes.c_size_t]
            lib.ZSTD_isError.restype = ctypes.c_uint
            lib.ZSTD_isError.argtypes = [ctypes.c_size_t]
            _zstd = lib
        except OSError:
            _zstd = False
    return _zstd


def zstd_decompress(data, raw_len):
    lib = _libzstd()
    if lib:
        out = ctypes.create_string_buffer(max(raw_len, 1))
        n = lib.ZSTD_decompress(out, raw_len, data, len(data))
        if lib.ZSTD_isError(n) or n != raw_len:
            raise FormatError("zstd payload does not decompress to its raw length")
        return out.raw[:raw_len]
    p = subprocess.run(["zstd", "-d", "-c", "-q"], input=data, capture_output=True)
    if p.returncode != 0 or len(p.stdout) != raw_len:
        raise FormatError("zstd payload does not decompress to its raw length")
    return p.stdout


# ---- protobuf wire format -----------------------------------------------------------

def _varint(buf, i):
    shift = result = 0
    while True:
        if i >= len(buf):
            raise FormatError("truncated varint")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
        if shift >= 70:
            raise FormatError("varint too long")


def wire_fields(buf):
    """Yields (field_number, wire_type, value) of a message: an int for varints and
    fixed-width fields, bytes for length-delimited ones."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(buf, i)
        elif wt == 1:
            if i + 8 > len(buf):
                raise FormatError("truncated fixed64")
            v = int.from_bytes(buf[i:i + 8], "little")
            i += 8
        elif wt == 2:
            n, i = _varint(buf, i)
            if i + n > len(buf):
                raise FormatError("truncated length-delimited field")
            v = bytes(buf[i:i + n])
            i += n
        elif wt == 5:
            if i + 4 > len(buf):
                raise FormatError("truncated fixed32")
            v = int.from_bytes(buf[i:i + 4], "little")
            i += 4
        else:
            raise FormatError(f"wire type {wt} not used by rewind")
        yield num, wt, v


def _zigzag(v):
    return (v >> 1) ^ -(v & 1)


def _signed(v, bits):
    v &= (1 << 64) - 1
    if v >= 1 << 63:
        v -= 1 << 64
    return v if bits == 64 else max(min(v, 2**31 - 1), -2**31)


def _scalar(kind, v):
    if kind in ("uint32", "uint64", "enum"):
        return v
    if kind == "int32":
        return _signed(v, 32)
    if kind == "int64":
        return _signed(v, 64)
    if kind in ("sint32", "sint64"):
        return _zigzag(v)
    if kind == "bool":
        return v != 0
    if kind == "double":
        return struct.unpack("<d", v.to_bytes(8, "little"))[0]
    if kind == "string":
        return v.decode("utf-8", "replace")
    if kind == "bytes":
        return v
    raise AssertionError(kind)


VARINT_KINDS = ("uint32", "uint64", "int32", "int64", "sint32", "sint64", "bool", "enum")


def decode(schema, buf):
    """Decodes a message with schema {number: (name, kind, repeated)}; kind is a scalar
    type name or another schema (a nested message). Absent fields get proto3 defaults;
    unknown fields are skipped."""
    out = {}
    for name, kind, rep in schema.values():
        if rep:
            out[name] = []
        elif isinstance(kind, dict):
            out[name] = None
        elif kind in ("string",):
            out[name] = ""
        elif kind == "bytes":
            out[name] = b""
        elif kind == "double":
            out[name] = 0.0
        elif kind == "bool":
            out[name] = False
        else:
            out[name] = 0
    for num, wt, v in wire_fields(buf):
        if num not in schema:
            continue
        name, kind, rep = schema[num]
        if isinstance(kind, dict):
            if wt != 2:
                raise FormatError(f"field {name}: expected a message")
            val = decode(kind, v)
            if rep:
                out[name].append(val)
            else:
                out[name] = val
        elif rep and wt == 2 and kind in VARINT_KINDS:  # packed
            j = 0
            while j < len(v):
                x, j = _varint(v, j)
                out[name].append(_scalar(kind, x))
        else:
            val = _scalar(kind, v)
            if rep:
                out[name].append(val)
            else:
                out[name] = val
    return out


# ---- the schema of format/rewind.proto, as docs/format.md lists it ---------------------

def _s(*fields):
    return {num: (name, kind, rep) for num, name, kind, rep in fields}


R, S = True, False
ENV_VAR = _s((1, "name", "string", S), (2, "value", "string", S), (3, "redacted", "bool", S),
             (4, "value_len", "uint32", S))
RECORD_OPTIONS = _s((1, "lines", "bool", S), (2, "allocations", "bool", S),
                    (3, "c_calls", "bool", S), (4, "flush_ms", "uint32", S),
                    (5, "chunk_records", "uint32", S), (6, "zstd_level", "int32", S),
                    (7, "time_shift", "uint32", S), (8, "line_times", "bool", S))
METADATA = _s((1, "format_version", "uint32", S), (2, "tool_version", "string", S),
              (3, "argv", "string", R), (4, "cwd", "string", S),
              (5, "python_version", "string", S), (6, "python_executable", "string", S),
              (7, "platform", "string", S), (8, "hostname", "string", S),
              (9, "start_unix_ns", "int64", S), (10, "start_tick", "uint64", S),
              (11, "ns_per_tick", "double", S), (12, "hash_seed", "uint64", S),
              (13, "pid", "int64", S), (14, "env", ENV_VAR, R),
              (15, "options", RECORD_OPTIONS, S), (16, "run_kind", "string", S),
              (17, "run_target", "string", S), (18, "redact_patterns", "string", R),
              (19, "calib_ns_per_event", "double", S), (20, "started_by", "string", S),
              (21, "parent_pid", "int64", S), (22, "parent_trace", "string", S),
              (23, "python_build", "string", S), (24, "python_program", "string", S),
              (25, "python_flags", "string", R), (26, "aslr_off", "bool", S),
              (27, "inputs", "bool", S), (28, "chaos_seed", "uint64", S),
              (29, "tool_build", "string", S), (30, "features", "string", R))
FILE_DEF = _s((1, "id", "uint32", S), (2, "path", "string", S), (3, "source", "bytes", S),
              (4, "has_source", "bool", S))
CODE_DEF = _s((1, "id", "uint32", S), (2, "file", "uint32", S), (3, "name", "string", S),
              (4, "qualname", "string", S), (5, "first_line", "uint32", S),
              (6, "flags", "uint32", S), (7, "arg_names", "string", R),
              (8, "lines", "uint32", R), (9, "parent", "uint32", S))
CFUNC_DEF = _s((1, "id", "uint32", S), (2, "label", "string", S), (3, "name", "string", S),
               (4, "module", "string", S))
THREAD_DEF = _s((1, "id", "uint32", S), (2, "ident", "uint64", S), (3, "native_id", "uint64", S),
                (4, "name", "string", S), (5, "is_main", "bool", S),
                (6, "input_stream", "uint32", S))
NAME_DEF = _s((1, "id", "uint32", S), (2, "text", "string", S))
DEFINITIONS = _s((1, "files", FILE_DEF, R), (2, "codes", CODE_DEF, R),
                 (3, "cfuncs", CFUNC_DEF, R), (4, "threads", THREAD_DEF, R),
                 (5, "names", NAME_DEF, R))
STACK_FRAME = _s((1, "code", "uint32", S), (2, "is_c", "bool", S), (3, "line", "uint32", S),
                 (4, "call_pos", "uint64", S), (5, "call_tick", "uint64", S))
THREAD_STACK = _s((1, "thread", "uint32", S), (2, "frames", STACK_FRAME, R))
CHUNK = _s((1, "first_event", "uint64", S), (2, "event_count", "uint64", S),
           (3, "record_count", "uint64", S), (4, "first_tick", "uint64", S),
           (5, "thread", "uint32", S), (6, "keyframe", THREAD_STACK, R),
           (7, "kinds", "bytes", S), (8, "time_delta", "uint64", R),
           (9, "call_code", "uint32", R), (10, "call_line", "sint32", R),
           (11, "line_delta", "sint32", R), (12, "cfunc", "uint32", R),
           (13, "exc_type", "uint32", R), (14, "exc_message", "bytes", R),
           (15, "alloc_size", "uint64", R), (16, "addr_delta", "sint64", R),
           (17, "addr_low", "uint32", R), (18, "switch_thread", "uint32", R),
           (19, "audit_name", "uint32", R), (20, "audit_args", "bytes", R),
           (21, "alloc_ref", "uint32", R), (22, "free_ref", "uint32", R),
           (23, "untimed_lines", "bool", S), (24, "gen_frame", "uint64", R), (25, "drop_spot", "uint64", R))
INDEX_ENTRY = _s((1, "type", "uint32", S), (2, "offset", "uint64", S),
                 (3, "stored_len", "uint32", S), (4, "first_event", "uint64", S),
                 (5, "event_count", "uint64", S), (6, "record_count", "uint64", S),
                 (7, "first_tick", "uint64", S), (8, "last_tick", "uint64", S),
                 (9, "line_filter", "bytes", S), (10, "fingerprint", "bytes", S))
INDEX = _s((1, "frames", INDEX_ENTRY, R), (2, "total_events", "uint64", S),
           (3, "total_records", "uint64", S), (4, "fingerprint_group", "uint32", S))
TRACEBACK_ENTRY = _s((1, "code", "uint32", S), (2, "line", "uint32", S))
EXEC_INFO = _s((1, "path", "string", S), (2, "argv", "string", R), (3, "trace", "string", S),
               (4, "not_followed", "string", S))
CHILD_RUN = _s((1, "pid", "int32", S), (2, "pos", "uint64", S), (3, "trace", "string", S),
               (4, "not_followed", "string", S), (5, "command", "string", S))
RUN_END = _s((1, "exit_status", "int32", S), (2, "term_signal", "int32", S),
             (3, "end_unix_ns", "int64", S), (4, "end_tick", "uint64", S),
             (5, "events", "uint64", S), (6, "records", "uint64", S),
             (7, "kind_counts", "uint64", R), (8, "uncaught_type", "string", S),
             (9, "uncaught_message", "string", S), (10, "uncaught_pos", "uint64", S),
             (11, "uncaught_traceback", TRACEBACK_ENTRY, R), (12, "threads", THREAD_DEF, R),
             (13, "lost", "string", S), (14, "dropped_frees", "uint64", S),
             (15, "stop_reason", "string", S), (16, "exit_message", "string", S),
             (17, "exec", EXEC_INFO, S), (18, "children", CHILD_RUN, R))
CRASH_FRAME = _s((1, "code", "uint32", S), (2, "filename", "string", S), (3, "name", "string", S),
                 (4, "line", "int32", S))
CRASH_THREAD = _s((1, "thread", "uint32", S), (2, "ident", "uint64", S), (3, "current", "bool", S),
                  (4, "frames", CRASH_FRAME, R), (5, "truncated", "bool", S))
CRASH_C_FRAME = _s((1, "pc", "uint64", S), (2, "symbol", "string", S), (3, "offset", "uint64", S),
                   (4, "module", "string", S), (5, "module_base", "uint64", S),
                   (6, "signal_frame", "bool", S))
CRASH_INSN = _s((1, "address", "uint64", S), (2, "bytes", "bytes", S),
                (3, "mnemonic", "string", S), (4, "operands", "string", S),
                (5, "faulting", "bool", S))
CRASH_KINDS = {0: "fatal_signal", 1: "timeout", 2: "dump", 3: "terminated"}
CRASH_REPORT = _s((1, "kind", "enum", S), (2, "signal", "int32", S),
                  (3, "signal_name", "string", S), (4, "si_code", "int32", S),
                  (5, "fault_addr", "uint64", S), (6, "pc", "uint64", S),
                  (7, "thread", "uint32", S), (8, "thread_ident", "uint64", S),
                  (9, "threads", CRASH_THREAD, R), (10, "c_frames", CRASH_C_FRAME, R),
                  (11, "instructions", CRASH_INSN, R), (12, "text", "string", S),
                  (13, "unix_ns", "int64", S), (14, "timeout_ms", "uint64", S),
                  (15, "note", "string", S))
INPUT = _s((1, "thread", "uint32", S), (2, "seq", "uint64", S), (3, "position", "uint64", S),
           (4, "call", "uint32", S), (5, "result", "sint64", S), (6, "err", "int32", S),
           (7, "flags", "uint32", S), (8, "key", "bytes", S), (9, "data", "bytes", S))
INPUTS = _s((1, "inputs", INPUT, R))
INPUT_INSTALL, INPUT_TRUNCATED, INPUT_SCRUBBED = 1, 2, 4


# ---- the container ------------------------------------------------------------------

class Frame:
    """One frame of the file: where it is and its header fields."""

    def __init__(self, offset, type_, codec, stored_len, raw_len, payload_crc):
        self.offset, self.type, self.codec = offset, type_, codec
        self.stored_len, self.raw_len, self.payload_crc = stored_len, raw_len, payload_crc

    @property
    def end(self):
        return self.offset + FRAME_HEADER_LEN + self.stored_len


class Trace:
    """A trace file opened for reading: metadata, definitions, END, and its chunks.

    Uses the footer (trailer -> INDEX frame) when it is valid, else scans frames from
    the header and stops at the first damaged one (self.recovered then says why)."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        self.path = path
        self.recovered = None   # None, or why the frame scan stopped
        self.frames = []        # Frame objects of METADATA, DEFINITIONS, CHUNK, END, CRASH,
                                # INPUTS
        self.metadata = None
        self.end = None
        self.crashes = []       # CrashReport dicts, plus "pos": the events before each
        self.files, self.codes, self.cfuncs = {}, {}, {}
        self.threads, self.names = {}, {}
        self._events_seen = 0   # events of the chunks taken so far (for crash positions)
        self.line_filters = {}  # chunk frame offset -> IndexEntry.line_filter
        self.fingerprints = {}  # chunk frame offset -> IndexEntry.fingerprint, as ints
        self.fingerprint_group = 0
        self._read_header()
        try:
            self._load_from_index()
        except FormatError as why:
            self.frames, self.end, self.metadata, self.crashes = [], None, None, []
            self._events_seen = 0
            self.files, self.codes, self.cfuncs = {}, {}, {}
            self.threads, self.names = {}, {}
            self.line_filters, self.fingerprints, self.fingerprint_group = {}, {}, 0
            self._scan(str(why))
        if self.metadata is None:
            raise FormatError("no metadata frame")
        opts = self.metadata["options"] or {}
        self.time_shift = opts.get("time_shift", 0)

    # -- header, frames, trailer

    def _read_header(self):
        d = self.data
        if len(d) < HEADER_LEN or d[:8] != MAGIC:
            raise FormatError("not a rewind trace (bad magic)")
        version, header_len, flags = struct.unpack_from("<HHI", d, 8)
        (crc,) = struct.unpack_from("<I", d, 28)
        if crc != crc32c(d[:28]):
            raise FormatError("not a rewind trace, or its header is damaged")
        if version != FORMAT_VERSION:
            raise FormatError(f"format version {version}, this reader reads {FORMAT_VERSION}")
        if header_len != HEADER_LEN:
            raise FormatError("damaged file header")
        (self.file_id,) = struct.unpack_from("<Q", d, 16)

    def frame_at(self, off):
        d = self.data
        if off + FRAME_HEADER_LEN > len(d):
            raise FormatError(f"frame header at offset {off} runs past the end of the file")
        magic = d[off:off + 4]
        type_, codec, reserved, stored, raw, pcrc, hcrc = struct.unpack_from("<BBHIIII", d, off + 4)
        if magic != FRAME_MAGIC:
            raise FormatError(f"bad frame magic at offset {off}")
        if hcrc != crc32c(d[off:off + 20]):
            raise FormatError(f"bad frame header CRC at offset {off}")
        if reserved or codec not in (CODEC_RAW, CODEC_ZSTD) or stored > FRAME_MAX or raw > FRAME_MAX:
            raise FormatError(f"bad frame header at offset {off}")
        if off + FRAME_HEADER_LEN + stored > len(d):
            raise FormatError(f"frame at offset {off} runs past the end of the file")
        return Frame(off, type_, codec, stored, raw, pcrc)

    def payload(self, fr):
        """The frame's payload, CRC-checked and decompressed."""
        start = fr.offset + FRAME_HEADER_LEN
        stored = self.data[start:start + fr.stored_len]
        if crc32c(stored) != fr.payload_crc:
            raise FormatError(f"bad payload CRC in frame at offset {fr.offset}")
        if fr.codec == CODEC_RAW:
            if fr.stored_len != fr.raw_len:
                raise FormatError(f"raw frame at offset {fr.offset} with two lengths")
            return stored
        return zstd_decompress(stored, fr.raw_len)

    def _take(self, fr, entry=None):
        """Loads a METADATA, DEFINITIONS, END or CRASH frame; remembers every known frame.
        entry is the frame's index entry, when it was found through the index."""
        if fr.type == FRAME_METADATA:
            if self.metadata is not None:
                raise FormatError("second metadata frame")
            self.metadata = decode(METADATA, self.payload(fr))
        elif fr.type == FRAME_DEFINITIONS:
            self._add_definitions(decode(DEFINITIONS, self.payload(fr)))
        elif fr.type == FRAME_END:
            self.end = decode(RUN_END, self.payload(fr))
        elif fr.type == FRAME_CRASH:
            report = decode(CRASH_REPORT, self.payload(fr))
            report["kind"] = CRASH_KINDS.get(report["kind"], report["kind"])
            report["pos"] = entry["first_event"] if entry else self._events_seen
            self.crashes.append(report)
        elif fr.type == FRAME_INPUTS:
            pass  # decoded on demand (inputs())
        elif fr.type == FRAME_CHUNK:
            # Records decode on demand; only the count is needed now, for crash positions.
            self._events_seen += entry["event_count"] if entry else self._chunk_event_count(fr)
            if entry and entry["line_filter"]:
                self.line_filters[fr.offset] = entry["line_filter"]
            if entry and entry["fingerprint"]:
                fp = entry["fingerprint"]
                self.fingerprints[fr.offset] = list(struct.unpack(f"<{len(fp) // 8}Q", fp))
        else:
            return  # unknown types are skipped
        self.frames.append(fr)

    def _chunk_event_count(self, fr):
        for num, _, v in wire_fields(self.payload(fr)):
            if num == 2:  # Chunk.event_count
                return v
        return 0

    def _add_definitions(self, defs):
        for table, key in ((self.files, "files"), (self.codes, "codes"),
                           (self.cfuncs, "cfuncs"), (self.threads, "threads"),
                           (self.names, "names")):
            for item in defs[key]:
                if item["id"] != len(table) + 1:
                    raise FormatError(f"{key} id {item['id']} out of order")
                table[item["id"]] = item

    def _load_from_index(self):
        d = self.data
        if len(d) < HEADER_LEN + TRAILER_LEN:
            raise FormatError("no trailer")
        t = len(d) - TRAILER_LEN
        index_off, crc = struct.unpack_from("<QI", d, t)
        if d[t + 12:] != TRAILER_MAGIC or crc != crc32c(d[t:t + 8]):
            raise FormatError("no valid trailer")
        fr = self.frame_at(index_off)
        if fr.type != FRAME_INDEX or fr.end != t:
            raise FormatError("trailer does not point at the index")
        index = decode(INDEX, self.payload(fr))
        self.fingerprint_group = index["fingerprint_group"]
        for e in index["frames"]:
            self._take(self.frame_at(e["offset"]), e)

    def _scan(self, why_index):
        off = HEADER_LEN
        d = self.data
        self.recovered = why_index
        while off < len(d):
            if len(d) - off == TRAILER_LEN and d[-4:] == TRAILER_MAGIC:
                break
            try:
                fr = self.frame_at(off)
                if fr.type == FRAME_INDEX:
                    off = fr.end
                    continue
                self._take(fr)
                if fr.type == FRAME_CHUNK:
                    decode(CHUNK, self.payload(fr))  # a chunk counts only if it decodes
            except FormatError as why:
                if not self.frames:
                    raise
                self.recovered = f"{why} (frames before offset {off} recovered)"
                break
            off = fr.end

    # -- line filters

    @staticmethod
    def filter_may_have(filt, code, line):
        """docs/format.md, "Line filter": False when the chunk whose filter this is has
        certainly no LINE event at (code, line)."""
        n = len(filt)
        if n < 64 or n > 4096 or n & (n - 1):
            return True  # no filter
        m = (1 << 64) - 1
        h = (((code << 32) | line) * 0x9e3779b97f4a7c15) & m
        h ^= h >> 29
        h = (h * 0xbf58476d1ce4e5b9) & m
        h ^= h >> 32
        for i in range(3):
            b = (h >> (21 * i)) % (8 * n)
            if not filt[b // 8] & (1 << (b % 8)):
                return False
        return True

    # -- records

    def chunks(self):
        return [fr for fr in self.frames if fr.type == FRAME_CHUNK]

    def inputs(self):
        """Every input record (docs/format.md, "Inputs"), in the order they were logged:
        the INPUTS frames in file order, each record as a dict of INPUT's fields."""
        for fr in self.frames:
            if fr.type == FRAME_INPUTS:
                yield from decode(INPUTS, self.payload(fr))["inputs"]

    def records(self):
        """Yields every record of the trace in global order (see decode_chunk)."""
        for fr in self.chunks():
            yield from self.decode_chunk(decode(CHUNK, self.payload(fr)))

    def decode_chunk(self, c):
        """Yields the records of one decoded Chunk message as dicts: kind (name), pos,
        thread, and per kind: tick (events), code/line/depth (call, line: the frame's;
        return: the frame's code), cfunc (c_*), name + text (exception, uncaught, audit),
        size (alloc_*), addr (alloc_*, free_*)."""
        shift = self.time_shift
        stacks = {}    # thread id -> list of [code, is_c, line, call_pos, call_tick]
        orphan = {}    # thread id -> line base when no Python frame is on top
        for ts in c["keyframe"]:
            stacks[ts["thread"]] = [[f["code"], f["is_c"], f["line"], f["call_pos"],
                                     f["call_tick"]] for f in ts["frames"]]
        thread = c["thread"]
        untimed = c["untimed_lines"]  # LINE events take the previous event's tick
        pos = c["first_event"]
        q = c["first_tick"] >> shift
        cols = {name: iter(c[name]) for name in
                ("time_delta", "call_code", "call_line", "line_delta", "cfunc", "exc_type",
                 "exc_message", "alloc_size", "alloc_ref", "free_ref", "addr_delta",
                 "addr_low", "switch_thread", "audit_name", "audit_args", "gen_frame",
                 "drop_spot")}
        # Address state (docs/format.md, "Addresses"), reset at every chunk start.
        allocs = []          # every ALLOC address so far, in order
        recent = []          # the last 32 FREE addresses, most recent first
        last = [0] * 34      # per size class: last explicitly coded ALLOC address
        prev = {"alloc": 0, "free": 0, "j": 0}
        gen = 0              # the last GEN record's frame, for the CALL after it

        def take(col):
            try:
                return next(cols[col])
            except StopIteration:
                raise FormatError(f"chunk at event {c['first_event']}: column {col} too short")

        def explicit(pred):
            v = take("addr_delta")
            a = (((pred >> 3) + (v >> 1)) << 3) & (2**64 - 1)
            if v & 1:
                a |= take("addr_low")
            return a

        def alloc_address(size):
            k = take("alloc_ref")
            if k:
                if k > len(recent):
                    raise FormatError("alloc_ref out of range")
                a = recent.pop(k - 1)
            else:
                cls = (size + 15) // 16 if size <= 512 else 33
                if not last[cls]:
                    pred = prev["alloc"]
                else:
                    pred = last[cls] + (16 * cls if cls < 33 else 0)
                a = explicit(pred)
                last[cls] = a
            prev["alloc"] = a
            allocs.append(a)
            return a

        def free_address():
            v = take("free_ref")
            if v:
                j = prev["j"] + _zigzag(v - 1)
                if not 1 <= j <= len(allocs):
                    raise FormatError("free_ref out of range")
                a = allocs[-j]
                prev["j"] = j
            else:
                a = explicit(prev["free"])
                prev["free"] = a
            recent.insert(0, a)
            del recent[32:]
            return a

        if len(c["kinds"]) != c["record_count"]:
            raise FormatError("record_count disagrees with the kinds column")
        for k in c["kinds"]:
            st = stacks.setdefault(thread, [])
            rec = {"kind": KIND_NAMES.get(k, "?"), "pos": pos, "thread": thread}
            if k < 16:
                if not (k == LINE and untimed):
                    q += take("time_delta")
                rec["tick"] = q << shift
            if k == CALL:
                code = take("call_code")
                if code not in self.codes:
                    raise FormatError(f"call of unknown code id {code}")
                line = self.codes[code]["first_line"] + take("call_line")
                st.append([code, False, line, pos, q << shift])
                rec.update(code=code, line=line, depth=len(st))
                if gen:
                    rec["gen"] = gen
                    gen = 0
            elif k == LINE:
                delta = take("line_delta")
                if st and not st[-1][1]:
                    st[-1][2] += delta
                    rec.update(code=st[-1][0], line=st[-1][2], depth=len(st))
                else:
                    orphan[thread] = orphan.get(thread, 0) + delta
                    rec.update(code=0, line=orphan[thread], depth=len(st))
            elif k == RETURN:
                rec["depth"] = len(st)
                if st and not st[-1][1]:
                    f = st.pop()
                    rec.update(code=f[0], line=f[2], call_pos=f[3])
                else:
                    rec.update(code=0)
            elif k == EXCEPTION or k == UNCAUGHT:
                rec.update(name=self.name(take("exc_type")),
                           text=take("exc_message").decode("utf-8", "replace"))
            elif k == C_CALL:
                fn = take("cfunc")
                if fn not in self.cfuncs:
                    raise FormatError(f"c_call of unknown function id {fn}")
                st.append([fn, True, 0, pos, q << shift])
                rec.update(cfunc=fn, depth=len(st))
            elif k in (C_RETURN, C_EXCEPTION):
                rec["depth"] = len(st)
                if st and st[-1][1]:
                    f = st.pop()
                    rec.update(cfunc=f[0], call_pos=f[3])
                else:
                    rec.update(cfunc=0, depth=0)
            elif k in ALLOCS:
                rec["size"] = take("alloc_size")
                rec["addr"] = alloc_address(rec["size"])
            elif k in FREES:
                rec["addr"] = free_address()
            elif k == THREAD:
                thread = take("switch_thread")
                rec["thread"] = thread
            elif k == AUDIT:
                rec.update(name=self.name(take("audit_name")),
                           text=take("audit_args").decode("utf-8", "replace"))
            elif k == GEN:
                gen = rec["addr"] = take("gen_frame")
            elif k == STARTUP_REUSE:
                pass  # no payload: marks the ALLOC_OBJ after it
            elif k == DROP:
                rec["addr"] = take("drop_spot")
            else:
                raise FormatError(f"unknown record kind {k}")
            if k < 16:
                pos += 1
            yield rec
        if pos - c["first_event"] != c["event_count"]:
            raise FormatError("event_count disagrees with the kinds column")

    def name(self, name_id):
        if name_id == 0:
            return ""
        if name_id not in self.names:
            raise FormatError(f"unknown name id {name_id}")
        return self.names[name_id]["text"]


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[-6], file=sys.stderr)
        return 2
    t = Trace(argv[1])
    if "--events" in argv[2:]:
        for rec in t.records():
            print(json.dumps(rec))
        return 0
    end = t.end or {}
    print(json.dumps({"argv": t.metadata["argv"], "python": t.metadata["python_version"],
                      "chunks": len(t.chunks()), "events": end.get("events"),
                      "records": end.get("records"), "exit_status": end.get("exit_status"),
                      "files": len(t.files), "codes": len(t.codes), "threads": len(t.threads),
                      "recovered": t.recovered}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
