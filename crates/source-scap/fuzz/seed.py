#!/usr/bin/env python3
"""Builds seed corpora for the fuzz targets from the conformance captures.

    python3 seed.py [CONFORMANCE_DIR]   # writes corpus/{blocks,block_bodies,events}/
"""
import glob
import gzip
import hashlib
import os
import struct
import sys

conf = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../../../shared/conformance")
out = os.path.join(os.path.dirname(__file__), "corpus")
KINDS = {0x0A0D0D0A: 0, 0x201: 1, 0x202: 2, 0x207: 2, 0x209: 2, 0x210: 2, 0x211: 2, 0x212: 2, 0x213: 2,
         0x214: 2, 0x215: 2, 0x203: 3, 0x218: 3, 0x206: 4, 0x220: 4, 0x205: 5, 0x219: 5}
PL_VERSION = {0x202: 1, 0x207: 2, 0x209: 3, 0x210: 4, 0x211: 5, 0x212: 6, 0x213: 7, 0x214: 8, 0x215: 9}
EV = {0x204: (False, False), 0x216: (True, False), 0x208: (False, True), 0x217: (True, True)}


def put(target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


for path in sorted(glob.glob(conf + "/falco-regression/trace_files/*.scap") + glob.glob(conf + "/scap/**/*.scap", recursive=True)):
    raw = open(path, "rb").read()
    data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    off, events, cut = 0, 0, None
    while off + 8 <= len(data):
        bt, bl = struct.unpack_from("<II", data, off)
        body = data[off + 8: off + bl - 4]
        if bt in KINDS:
            ver = PL_VERSION.get(bt, 2 if bt in (0x218, 0x220, 0x219) else 1)
            put("block_bodies", bytes([KINDS[bt] | (ver << 3)]) + body[:16384])
        if bt in EV:
            v2, flags = EV[bt]
            sel = 6 | (0x08 if v2 else 0) | (0x10 if flags else 0)
            if events < 40:
                put("block_bodies", bytes([sel]) + body)
                ev = body[6:] if flags else body[2:]
                put("events", (b"\x00" if v2 else b"\x01") + ev)
            events += 1
            if events == 12:
                cut = off + bl
        off += bl
    # The header blocks and the first events: small enough for the fuzzer to mutate quickly.
    if cut:
        put("blocks", data[:cut])
print("seeds in", out)
