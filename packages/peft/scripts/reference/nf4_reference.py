"""NF4 reference for @tessera/peft: bitsandbytes' quantize_4bit(quant_type="nf4", blocksize=64,
compress_statistics=True) transcribed into plain PyTorch f32 (bitsandbytes is not installed here).

Regenerate (Debian's PyTorch 1.13: apt-get install python3-torch), from the repository root:

    /usr/bin/python3 packages/peft/scripts/reference/nf4_reference.py [--out FILE]

It writes packages/peft/test/fixtures/nf4-bitsandbytes/reference.safetensors (format version 1,
byte-identical on re-runs) holding:

    dynamic_map                 F32 [256]  create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8)
                                           exactly as bitsandbytes builds it (torch.linspace in f32)
    <case>.weight               F32        the input weight
    <case>.packed               U8         4-bit codes, two per byte, the even element in the high nibble
    <case>.absmax               F32        the exact f32 absmax of each block of 64 (before compression)
    <case>.absmax_q             U8         the absmaxes minus their mean, 8-bit quantised (nested absmax codes)
    <case>.absmax2              F32        the f32 absmax of each block of 256 of those (state2.absmax)
    <case>.offset               F32 [1]    the mean subtracted (quant_state.offset)
    <case>.dequantized          F32        dequantize_4bit's output

The algorithm follows bitsandbytes' CUDA path (csrc kQuantizeBlockwise / dQuantizeNF4 / dQuantize,
functional.quantize_4bit, quantize_blockwise, dequantize_blockwise, dequantize_4bit):
  1. absmax = max |w| per block of 64; the codes are chosen with the EXACT f32 absmax: x = w * (1 / absmax)
     in f32, then dQuantizeNF4's decision tree over its 15 f32 thresholds (strict '>'; NaN from an
     all-zero block falls to code 0). A partial last block is padded with 0.0 (its nibble is stored).
  2. offset = absmax.mean(); absmax -= offset; quantize_blockwise(absmax, code=dynamic map, blocksize=256):
     absmax2 = max |a| per 256, x = a * (1 / absmax2) in f32, dQuantize<0>'s binary search over the code
     with f32 midpoints (upper + val) * 0.5f.
  3. dequantize: absmax' = code[absmax_q] * absmax2 + offset, w' = NF4[nibble] * absmax', every step in f32.
The mean: bitsandbytes takes torch's f32 mean, whose last bit depends on the reduction order of the
device (CUDA tree, CPU cascade by vector width). This script stores the correctly rounded mean of the
f32 absmaxes (summed in f64, divided, rounded once to f32), which is what Tessera computes; the
metadata says for each case whether torch's CPU f32 mean here agrees.
"""
import json
import os
import struct
import sys

import numpy as np
import torch

FORMAT_VERSION = "1"
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "test", "fixtures", "nf4-bitsandbytes", "reference.safetensors")

f32 = np.float32


def create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8):
    """bitsandbytes.functional.create_dynamic_map, line for line."""
    data = []
    non_sign_bits = total_bits - (1 if signed else 1)
    additional_items = 2 ** (non_sign_bits - max_exponent_bits) - 1
    for i in range(max_exponent_bits):
        fraction_items = int(
            2 ** (i + non_sign_bits - max_exponent_bits) + 1
            if signed
            else 2 ** (i + non_sign_bits - max_exponent_bits + 1) + 1
        )
        boundaries = torch.linspace(0.1, 1, fraction_items)
        means = (boundaries[:-1] + boundaries[1:]) / 2.0
        data += ((10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
        if signed:
            data += (-(10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
    if additional_items > 0:
        boundaries = torch.linspace(0.1, 1, additional_items + 1)
        means = (boundaries[:-1] + boundaries[1:]) / 2.0
        data += ((10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
        if signed:
            data += (-(10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
    data.append(0)
    data.append(1.0)
    assert len(data) == 2**total_bits
    data.sort()
    return torch.tensor(data, dtype=torch.float32)


# dQuantizeNF4's thresholds, as the f32 literals of the CUDA source.
T = [f32(v) for v in (
    0.03979014977812767, 0.3893125355243683, 0.6427869200706482, 0.8614784181118011, 0.5016634166240692,
    0.2035212516784668, 0.2920137718319893, 0.1202552504837513, -0.33967943489551544, -0.13791173323988914,
    -0.045525018125772476, -0.23460740596055984, -0.6106329262256622, -0.4599952697753906, -0.8480964004993439,
)]


def d_quantize_nf4(x):
    """csrc dQuantizeNF4, branch for branch (x is an f32)."""
    if x > T[0]:
        if x > T[1]:
            if x > T[2]:
                return 0b1111 if x > T[3] else 0b1110
            return 0b1101 if x > T[4] else 0b1100
        if x > T[5]:
            return 0b1011 if x > T[6] else 0b1010
        return 0b1001 if x > T[7] else 0b1000
    if x > T[8]:
        if x > T[9]:
            return 0b0111 if x > T[10] else 0b0110
        return 0b0101 if x > T[11] else 0b0100
    if x > T[12]:
        return 0b0011 if x > T[13] else 0b0010
    return 0b0001 if x > T[14] else 0b0000


def d_quantize(code, x):
    """csrc dQuantize<0> (non-stochastic), f32 throughout."""
    pivot, upper_pivot, lower_pivot = 127, 255, 0
    lower, upper = f32(-1.0), f32(1.0)
    val = code[pivot]
    i = 64
    while i > 0:
        if x > val:
            lower_pivot, lower = pivot, val
            pivot += i
        else:
            upper_pivot, upper = pivot, val
            pivot -= i
        val = code[pivot]
        i >>= 1
    if upper_pivot == 255:
        upper = code[upper_pivot]
    if lower_pivot == 0:
        lower = code[lower_pivot]
    if x > val:
        midpoint = f32((upper + val) * f32(0.5))
        return upper_pivot if x > midpoint else pivot
    midpoint = f32((lower + val) * f32(0.5))
    return lower_pivot if x < midpoint else pivot


def blockwise_absmax(a, block):
    n = a.shape[0]
    blocks = -(-n // block)
    padded = np.zeros(blocks * block, dtype=f32)
    padded[:n] = a
    return padded.reshape(blocks, block), np.abs(padded.reshape(blocks, block)).max(axis=1).astype(f32)


NF4 = [f32(v) for v in (
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
    -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
    0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
    0.7229568362236023, 1.0,
)]


def quantize_nf4(w, code):
    flat = w.reshape(-1).numpy().astype(f32)
    n = flat.shape[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        # 1. codes from the exact absmax (kQuantizeBlockwise: local_abs_max = 1.0f / absmax; x = w * local_abs_max).
        blocks, absmax = blockwise_absmax(flat, 64)
        inv = (f32(1.0) / absmax).astype(f32)
        scaled = (blocks * inv[:, None]).astype(f32).reshape(-1)
        nibbles = [d_quantize_nf4(x) for x in scaled]
        if len(nibbles) % 2:
            nibbles.append(0)
        packed = np.array([(nibbles[2 * k] << 4) | nibbles[2 * k + 1] for k in range(len(nibbles) // 2)], dtype=np.uint8)
        packed = packed[: (n + 1) // 2]
        # 2. double quantisation of the absmaxes.
        offset = f32(absmax.astype(np.float64).sum() / absmax.shape[0])
        torch_mean = f32(torch.from_numpy(absmax).mean().item())
        centred = (absmax - offset).astype(f32)
        groups, absmax2 = blockwise_absmax(centred, 256)
        inv2 = (f32(1.0) / absmax2).astype(f32)
        scaled2 = (groups * inv2[:, None]).astype(f32).reshape(-1)[: absmax.shape[0]]
        absmax_q = np.array([d_quantize(code, x) for x in scaled2], dtype=np.uint8)
        # 3. dequantize_blockwise + offset, then dequantize_4bit.
        group_of = np.arange(absmax.shape[0]) // 256
        absmax_deq = ((code[absmax_q] * absmax2[group_of]).astype(f32) + offset).astype(f32)
        nib = np.array(nibbles[:n])
        levels = np.array(NF4, dtype=f32)[nib]
        deq = (levels * absmax_deq[np.arange(n) // 64]).astype(f32)
    return {
        "packed": torch.from_numpy(packed),
        "absmax": torch.from_numpy(absmax),
        "absmax_q": torch.from_numpy(absmax_q),
        "absmax2": torch.from_numpy(absmax2),
        "offset": torch.tensor([offset], dtype=torch.float32),
        "dequantized": torch.from_numpy(deq).reshape(w.shape),
    }, bool(torch_mean == offset)


def cases():
    g = torch.Generator().manual_seed(0)
    out = {}
    # QLoRA's usual input: N(0, 0.02) weights; 300 x 70 = 21000 values, 329 blocks (the last partial),
    # 2 groups of 256 blocks (the last partial).
    out["normal"] = (torch.randn(300, 70, generator=g) * 0.02).float()
    # An odd count (the last byte's low nibble is padding) and a single partial block.
    out["odd"] = torch.randn(3, 7, generator=g).float()
    # Rows of very different magnitudes, an all-zero block (absmax 0: bitsandbytes' 1/0 gives NaN codes)
    # and a block of absmax 1 holding every NF4 threshold exactly (ties go to the lower code).
    w = torch.randn(12, 64, generator=g) * torch.logspace(-4, 2, 12).unsqueeze(1)
    w[3] = 0
    thresholds = torch.tensor([float(t) for t in T], dtype=torch.float32)
    w[5] = 0.5
    w[5, :15] = thresholds
    w[5, 15:30] = -thresholds
    w[5, 30] = 1.0
    out["mixed"] = w.float()
    return out


DTYPES = {torch.float32: "F32", torch.uint8: "U8"}


def safetensors_bytes(tensors, metadata):
    header = {}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        data = t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    header["__metadata__"] = metadata
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def main():
    global OUT
    if sys.argv[1:2] == ["--out"]:
        OUT = sys.argv[2]  # test/nf4-reference.test.ts regenerates into a scratch folder
    torch.set_num_threads(1)
    code_t = create_dynamic_map()
    code = code_t.numpy().astype(f32)
    tensors = {"dynamic_map": code_t}
    agree = {}
    for name, w in cases().items():
        q, same = quantize_nf4(w, code)
        tensors[name + ".weight"] = w
        for k, v in q.items():
            tensors[f"{name}.{k}"] = v
        agree[name] = same
        err = (q["dequantized"].double() - w.double()).pow(2).mean().sqrt().item()
        print(f"{name}: {w.numel()} values, RMS error {err:.6e}, torch f32 mean == correctly rounded mean: {same}")
    meta = {
        "format_version": FORMAT_VERSION,
        "generator": "packages/peft/scripts/reference/nf4_reference.py",
        "torch": torch.__version__,
        "torch_f32_mean_agrees": json.dumps(agree, sort_keys=True),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    tmp = OUT + ".tmp"
    with open(tmp, "wb") as f:
        f.write(safetensors_bytes(tensors, meta))
    os.replace(tmp, OUT)


if __name__ == "__main__":
    main()
