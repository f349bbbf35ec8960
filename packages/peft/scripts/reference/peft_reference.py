"""PEFT-format reference for @tessera/peft, in plain PyTorch (peft and transformers are not installed
here, so the adapter layout is written by hand exactly as PEFT's save_pretrained writes it).

Regenerate (Debian's PyTorch 1.13: apt-get install python3-torch), from the repository root:

    /usr/bin/python3 packages/peft/scripts/reference/peft_reference.py

For each case it loads the tiny Llama of packages/models/test/fixtures/tiny-llama, attaches LoRA (and
DoRA) adapters to q_proj/v_proj/o_proj with seeded non-zero A, B (and magnitude), and writes under
packages/peft/test/fixtures/<case>/:
    adapter_config.json           PEFT's fields and defaults
    adapter_model.safetensors     keys base_model.model.<path>.lora_A.weight / lora_B.weight /
                                  lora_magnitude_vector (DoRA), F32
    expected.safetensors          input_ids, attention_mask (I32) and the adapted model's logits (F32)
Format version 1; deterministic (byte-identical on re-runs).

The reverse direction: `--verify DIR` reads an adapter Tessera wrote (adapter_config.json,
adapter_model.safetensors and expected.safetensors with Tessera's logits) and checks that this
PyTorch implementation of PEFT's LoRA/DoRA reproduces those logits (exit 1 otherwise).
"""
import json
import math
import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "packages", "models", "scripts", "reference"))
import llama_reference as ref  # noqa: E402

FIXTURES = os.path.join(HERE, "..", "..", "test", "fixtures")
LLAMA = os.path.join(ROOT, "packages", "models", "test", "fixtures", "tiny-llama")

DT = {"F32": (torch.float32, 4), "I32": (torch.int32, 4), "I64": (torch.int64, 8)}


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        dtype, _ = DT[info["dtype"]]
        data = bytearray(blob[8 + n + b : 8 + n + e])
        out[name] = torch.frombuffer(data, dtype=dtype).reshape(info["shape"]) if e > b else torch.zeros(info["shape"], dtype=dtype)
    return out


class LoraLinear(torch.nn.Module):
    """PEFT's lora.Linear forward (dropout 0): base(x) + B(A(x))·s, or DoRA's rescaled form."""

    def __init__(self, base, a, b, scaling, magnitude=None):
        super().__init__()
        self.base, self.a, self.b, self.scaling, self.magnitude = base, a, b, scaling, magnitude

    def forward(self, x):
        result = self.base(x)
        lora = (x @ self.a.T) @ self.b.T
        if self.magnitude is None:
            return result + lora * self.scaling
        weight = self.base.weight + self.scaling * (self.b @ self.a)
        weight_norm = torch.linalg.norm(weight, dim=1).detach()
        mag_norm_scale = (self.magnitude / weight_norm).view(1, -1)
        base_no_bias = x @ self.base.weight.T
        return result + (mag_norm_scale - 1) * base_no_bias + mag_norm_scale * lora * self.scaling


def load_llama():
    cfg = json.load(open(os.path.join(LLAMA, "config.json")))
    model = ref.ForCausalLM(cfg)
    weights = read_safetensors(os.path.join(LLAMA, "model.safetensors"))
    model.load_state_dict(weights, strict=False)
    return model, cfg


def attach(model, config, tensors):
    """Wraps each targeted Linear with the adapter tensors found under PEFT's keys."""
    alpha, r = config["lora_alpha"], config["r"]
    scaling = alpha / math.sqrt(r) if config.get("use_rslora") else alpha / r
    for path, module in list(model.named_modules()):
        key = f"base_model.model.{path}"
        if f"{key}.lora_A.weight" not in tensors:
            continue
        parent = model.get_submodule(path.rsplit(".", 1)[0])
        mag = tensors.get(f"{key}.lora_magnitude_vector")
        wrapped = LoraLinear(module, tensors[f"{key}.lora_A.weight"].float(), tensors[f"{key}.lora_B.weight"].float(), scaling, mag)
        setattr(parent, path.rsplit(".", 1)[1], wrapped)


def peft_config(r, alpha, targets, dora):
    return {
        "alpha_pattern": {},
        "auto_mapping": None,
        "base_model_name_or_path": None,
        "bias": "none",
        "fan_in_fan_out": False,
        "inference_mode": True,
        "init_lora_weights": True,
        "layers_pattern": None,
        "layers_to_transform": None,
        "lora_alpha": alpha,
        "lora_dropout": 0.0,
        "modules_to_save": None,
        "peft_type": "LORA",
        "r": r,
        "rank_pattern": {},
        "revision": None,
        "target_modules": sorted(targets),
        "task_type": "CAUSAL_LM",
        "use_dora": dora,
        "use_rslora": False,
    }


def batch(cfg):
    g = torch.Generator().manual_seed(7)
    ids = torch.randint(3, cfg["vocab_size"], (2, 6), generator=g)
    mask = torch.ones(2, 6, dtype=torch.int64)
    return ids, mask


def build(case, dora):
    torch.manual_seed(0)
    model, cfg = load_llama()
    g = torch.Generator().manual_seed(11 if dora else 10)
    r, alpha, targets = 4, 8, ["q_proj", "v_proj", "o_proj"]
    tensors = {}
    for path, module in model.named_modules():
        if path.split(".")[-1] in targets:
            key = f"base_model.model.{path}"
            a = torch.randn(r, module.in_features, generator=g) / math.sqrt(module.in_features)
            b = 0.2 * torch.randn(module.out_features, r, generator=g)
            tensors[f"{key}.lora_A.weight"] = a
            tensors[f"{key}.lora_B.weight"] = b
            if dora:
                w = module.weight.detach() + (alpha / r) * (b @ a)
                tensors[f"{key}.lora_magnitude_vector"] = torch.linalg.norm(w, dim=1) * (1 + 0.1 * torch.randn(module.out_features, generator=g))
    config = peft_config(r, alpha, targets, dora)
    attach(model, config, tensors)
    ids, mask = batch(cfg)
    with torch.no_grad():
        logits, _ = model(ids, mask)
    out = os.path.join(FIXTURES, case)
    os.makedirs(out, exist_ok=True)
    ref.write(os.path.join(out, "adapter_config.json"), (json.dumps(config, indent=2, sort_keys=True) + "\n").encode())
    ref.write(os.path.join(out, "adapter_model.safetensors"), ref.safetensors_bytes(tensors, {"format": "pt"}))
    expected = {"input_ids": ids.to(torch.int32), "attention_mask": mask.to(torch.int32), "logits": logits}
    ref.write(os.path.join(out, "expected.safetensors"), ref.safetensors_bytes(expected, {"format_version": "1"}))


def verify(directory):
    model, _ = load_llama()
    config = json.load(open(os.path.join(directory, "adapter_config.json")))
    tensors = read_safetensors(os.path.join(directory, "adapter_model.safetensors"))
    attach(model, config, tensors)
    expected = read_safetensors(os.path.join(directory, "expected.safetensors"))
    with torch.no_grad():
        logits, _ = model(expected["input_ids"].long(), expected["attention_mask"].long())
    err = (logits - expected["logits"]).abs().max().item()
    print(f"{directory}: max |logits - Tessera's| = {err:.3e}")
    return err < 1e-4


def main():
    torch.set_num_threads(1)
    if len(sys.argv) > 2 and sys.argv[1] == "--verify":
        sys.exit(0 if verify(sys.argv[2]) else 1)
    build("peft-llama-lora", dora=False)
    build("peft-llama-dora", dora=True)


if __name__ == "__main__":
    main()
