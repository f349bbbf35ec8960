"""Reference trajectories of torch.optim.AdamW and torch.optim.SGD for @tessera/optim's tests.

Run: /usr/bin/python3 (Debian's, which has python3-torch) scripts/reference/optim_reference.py > test/fixtures/optim-reference.json
Format version 1. Needs PyTorch (Debian: apt-get install python3-torch). Deterministic: the
parameters and gradients are fixed formulas, not random draws.
"""
import json
import math

import torch

torch.set_default_dtype(torch.float64)


def initial():
    w = torch.tensor([[math.sin(i + 3 * j) for j in range(3)] for i in range(2)])
    b = torch.tensor([0.5, -0.25])
    return w, b


def grads(step, w, b):
    # Gradients of a fixed smooth loss, so every step sees different values.
    gw = torch.cos(w * (step + 1)) + 0.1 * w
    gb = torch.tanh(b * (step + 2)) - 0.3
    return gw, gb


def run(make_opt, steps=3, clip=None):
    w, b = initial()
    w.requires_grad_(True)
    b.requires_grad_(True)
    opt = make_opt([w, b])
    out = []
    for step in range(steps):
        opt.zero_grad()
        gw, gb = grads(step, w.detach(), b.detach())
        w.grad = gw.clone()
        b.grad = gb.clone()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_([w, b], clip)
        opt.step()
        out.append({"w": w.detach().flatten().tolist(), "b": b.detach().tolist()})
    return out


cases = {
    "adamw": run(lambda p: torch.optim.AdamW(p, lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)),
    "adamw_wd0_clip": run(lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.0), clip=0.5),
    "sgd_momentum": run(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01)),
    "sgd_nesterov": run(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
}
print(json.dumps({"version": 1, "torch": torch.__version__, "cases": cases}, indent=1))
