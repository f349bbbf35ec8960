"""Writes test/fixtures/reference.safetensors with the standard library only, following the layout
of the reference (Rust) writer: tensors ordered by dtype (larger first, the crate's Dtype order)
then name; compact JSON header with __metadata__ first; header padded with spaces to 8 bytes.

Run: python3 scripts/make-fixture.py   (format version 1; deterministic)
"""
import json
import struct
from pathlib import Path

# name -> (dtype, shape, struct format, values)
tensors = {
    "model.embed.weight": ("F32", [2, 3], "<6f", [0.5, -1.25, 2.0, 3.5, -0.125, 1e-3]),
    "model.norm.weight": ("F64", [2], "<2d", [1.0 / 3.0, -2.5]),
    "ids": ("I64", [3], "<3q", [1, -2, 2**40]),
    "half": ("F16", [2], "<2H", [0x3C00, 0xC000]),  # 1.0, -2.0
    "brain": ("BF16", [2], "<2H", [0x3F80, 0x4040]),  # 1.0, 3.0
    "mask": ("BOOL", [4], "<4B", [1, 0, 0, 1]),
    "counts": ("I32", [2, 2], "<4i", [7, -8, 9, 2**31 - 1]),
    "bytes": ("U8", [3], "<3B", [0, 128, 255]),
    "small": ("I16", [1], "<1h", [-300]),
    "tiny": ("I8", [2], "<2b", [-128, 127]),
    "empty": ("F32", [0, 4], "<0f", []),
}
RUST_ORDER = ["BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"]
order = sorted(tensors, key=lambda n: (-RUST_ORDER.index(tensors[n][0]), n))

header = {"__metadata__": {"format": "pt", "source": "tessera fixture"}}
data = b""
for name in order:
    dtype, shape, fmt, values = tensors[name]
    blob = struct.pack(fmt, *values)
    header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(blob)]}
    data += blob
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * ((8 - len(h) % 8) % 8)
out = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "reference.safetensors"
out.write_bytes(struct.pack("<Q", len(h)) + h + data)
print(out, out.stat().st_size)
