"""Rewrites rewind traces for tests of damaged input: frames in file order, each
payload editable as protobuf wire fields, written back as a valid file (RAW frames,
CRCs, a rebuilt index and trailer), so that only the damage a test makes is there.

    frames, header = tracerewrite.load("t.rwd")   # [Frame(type, payload, entry)], no INDEX
    fields = tracerewrite.fields(frames[3].payload)
    ...edit the list of [num, wire_type, value]...
    frames[3].payload = tracerewrite.encode(fields)
    tracerewrite.save(header, frames, "bad.rwd")

Built on pyreader.py (written from docs/format.md); only the standard library.
"""

import struct

import pyreader as pr


class Frame:
    """A frame to write: its type, raw payload and (for a frame the index listed) the
    wire fields of its IndexEntry, or None for a frame a test added."""

    def __init__(self, type_, payload, entry=None):
        self.type, self.payload, self.entry = type_, payload, entry


def _varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def fields(buf):
    """The wire fields of a message as a list of [num, wire_type, value]."""
    return [list(f) for f in pr.wire_fields(buf)]


def encode(fs):
    """The message of wire fields fs (as fields() returns them)."""
    out = bytearray()
    for num, wt, v in fs:
        out += _varint(num << 3 | wt)
        if wt == 0:
            out += _varint(v)
        elif wt == 1:
            out += v.to_bytes(8, "little")
        elif wt == 2:
            out += _varint(len(v)) + v
        elif wt == 5:
            out += v.to_bytes(4, "little")
    return bytes(out)


def packed(buf):
    """The varints of a packed repeated field."""
    vals, i = [], 0
    while i < len(buf):
        v, i = pr._varint(buf, i)
        vals.append(v)
    return vals


def pack(vals):
    return b"".join(_varint(v) for v in vals)


class Header(bytes):
    """A file header that also carries the index's own fields other than its entries
    and totals (Index.fingerprint_group), for save to write them back."""
    index_extra = ()


def load(path):
    """The frames of a closed trace in file order (the INDEX frame left out) and its
    file header."""
    t = pr.Trace(path)
    if t.recovered:
        raise pr.FormatError(f"{path}: no valid index ({t.recovered})")
    entries = {}
    t_end = len(t.data) - pr.TRAILER_LEN
    (index_off,) = struct.unpack_from("<Q", t.data, t_end)
    index = t.payload(t.frame_at(index_off))
    extra = []
    for num, wt, v in pr.wire_fields(index):
        if num == 1:
            e = fields(v)
            off = next(x[2] for x in e if x[0] == 2)
            entries[off] = e
        elif num not in (2, 3):
            extra.append([num, wt, v])
    frames, off = [], pr.HEADER_LEN
    while off < index_off:
        fr = t.frame_at(off)
        frames.append(Frame(fr.type, t.payload(fr), entries.get(off)))
        off = fr.end
    header = Header(t.data[:pr.HEADER_LEN])
    header.index_extra = extra
    return frames, header


def save(header, frames, out_path):
    """Writes header, frames (RAW) and an index of them with a trailer to out_path."""
    data = bytearray(header)
    index = []
    for fr in frames:
        off = len(data)
        p = fr.payload
        h = pr.FRAME_MAGIC + struct.pack("<BBHIII", fr.type, pr.CODEC_RAW, 0, len(p), len(p),
                                         pr.crc32c(p))
        data += h + struct.pack("<I", pr.crc32c(h)) + p
        e = [list(x) for x in fr.entry] if fr.entry else [[1, 0, fr.type]]
        e = [x for x in e if x[0] not in (2, 3)]
        e += [[2, 0, off], [3, 0, len(p)]]
        e.sort(key=lambda x: x[0])
        index.append([1, 2, encode(e)])
    total_events = sum(next((x[2] for x in f.entry if x[0] == 5), 0)
                       for f in frames if f.entry and f.type == pr.FRAME_CHUNK)
    total_records = sum(next((x[2] for x in f.entry if x[0] == 6), 0)
                        for f in frames if f.entry and f.type == pr.FRAME_CHUNK)
    index += [[2, 0, total_events], [3, 0, total_records]]
    index += [list(x) for x in getattr(header, "index_extra", ())]
    p = encode(index)
    off = len(data)
    h = pr.FRAME_MAGIC + struct.pack("<BBHIII", pr.FRAME_INDEX, pr.CODEC_RAW, 0, len(p), len(p),
                                     pr.crc32c(p))
    data += h + struct.pack("<I", pr.crc32c(h)) + p
    t = struct.pack("<Q", off)
    data += t + struct.pack("<I", pr.crc32c(t)) + pr.TRAILER_MAGIC
    with open(out_path, "wb") as f:
        f.write(data)
