"""Reference fixtures for the Llama family of @tessera/models, computed with plain PyTorch.

Regenerate from the repository root (Debian's PyTorch 1.13, `apt-get install python3-torch`):

    /usr/bin/python3 packages/models/scripts/reference/llama_reference.py [--out DIR] [NAME ...]

It writes, for each model below, a Hugging Face model folder under
packages/models/test/fixtures/<name>/ (config.json and model.safetensors, or shards with
model.safetensors.index.json for tiny-qwen3) and reference.safetensors with what the tests compare:

    input_ids, attention_mask, labels   I32 (B, T): the batch (row 1 right-padded, row 2 left-padded,
                                        some -100 labels)
    logits                              F32 (B, T, V)
    loss                                F32 [1]: Hugging Face's shifted causal LM loss (mean)
    grad.<hf name>                      F32: d loss / d parameter, for every parameter
    adamw.<hf name>                     F32: the parameter after 3 torch.optim.AdamW steps on the batch
                                        (lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01 with
                                        Hugging Face's rule: no decay for biases, norm weights and any
                                        parameter of rank < 2)
    adamw_losses                        F32 [3]: the loss before each of those steps
    generate.prompt, generate.tokens    I32: a prompt (1, P) and its greedy continuation (8 tokens)

The file's __metadata__ holds format_version "1". The model code is transformers' modeling_llama /
modeling_mistral / modeling_qwen2 / modeling_qwen3 (eager attention) transcribed into plain PyTorch, since transformers
is not installed here: RMSNorm in f32 then cast back, rotate-half RoPE with f32 tables and Llama 3
frequency scaling, grouped-query attention by repeat_kv, the additive causal + padding (+ Mistral's
sliding window) mask filled with finfo.min, SwiGLU MLP, optional tied embeddings, Embedding(padding_idx=pad_token_id).

Weights are not HF's init (N(0, 0.02) makes every logit nearly equal, so greedy decoding would sit on
near-ties): Linear weights ~ N(0, 1/in), biases ~ N(0, 0.01), embeddings ~ N(0, 1) (N(0, 0.16) when tied), norm weights
~ 1 + N(0, 0.01). Everything is seeded and single-threaded, so two runs write byte-identical files
(check with `sha256sum packages/models/test/fixtures/*/*` before and after).
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

FORMAT_VERSION = "1"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures")

MODELS = {
    "tiny-llama": {
        "config": {
            "architectures": ["LlamaForCausalLM"],
            "model_type": "llama",
            "vocab_size": 64,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": 8,
            "hidden_act": "silu",
            "max_position_embeddings": 128,
            "initializer_range": 0.02,
            "rms_norm_eps": 1e-5,
            "rope_theta": 10000.0,
            # original_max_position_embeddings 16 puts head_dim 8's wavelengths (6.3, 63, 628, 6283)
            # in every branch of the Llama 3 rule: one smoothed, three divided by factor.
            "rope_scaling": {
                "rope_type": "llama3",
                "factor": 8.0,
                "low_freq_factor": 1.0,
                "high_freq_factor": 4.0,
                "original_max_position_embeddings": 16,
            },
            "attention_bias": True,
            "mlp_bias": False,
            "tie_word_embeddings": False,
            "bos_token_id": 1,
            "eos_token_id": 2,
            "pad_token_id": 0,
            "torch_dtype": "float32",
        },
        "seed": 1,
        "shards": 1,
    },
    "tiny-qwen2": {
        "config": {
            "architectures": ["Qwen2ForCausalLM"],
            "model_type": "qwen2",
            "vocab_size": 64,
            "hidden_size": 32,
            "intermediate_size": 48,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 1,
            "hidden_act": "silu",
            "max_position_embeddings": 64,
            "initializer_range": 0.02,
            "rms_norm_eps": 1e-6,
            "rope_theta": 1000000.0,
            "use_sliding_window": False,
            "sliding_window": 64,
            "tie_word_embeddings": True,
            "bos_token_id": 1,
            "eos_token_id": 2,
            "torch_dtype": "float32",
        },
        "seed": 2,
        "shards": 1,
    },
    "tiny-qwen3": {
        "config": {
            "architectures": ["Qwen3ForCausalLM"],
            "model_type": "qwen3",
            "vocab_size": 64,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": 16,
            "hidden_act": "silu",
            "max_position_embeddings": 64,
            "initializer_range": 0.02,
            "rms_norm_eps": 1e-6,
            "rope_theta": 1000000.0,
            "attention_bias": False,
            "use_sliding_window": False,
            "tie_word_embeddings": False,
            "bos_token_id": 1,
            "eos_token_id": [2, 3],
            "torch_dtype": "float32",
        },
        "seed": 3,
        "shards": 2,
    },
    # Sliding window 3 over 8-token rows (and 13 positions while generating): most queries lose keys.
    "tiny-mistral": {
        "config": {
            "architectures": ["MistralForCausalLM"],
            "model_type": "mistral",
            "vocab_size": 64,
            "hidden_size": 32,
            "intermediate_size": 48,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": 8,
            "hidden_act": "silu",
            "max_position_embeddings": 64,
            "initializer_range": 0.02,
            "rms_norm_eps": 1e-5,
            "rope_theta": 10000.0,
            "sliding_window": 3,
            "tie_word_embeddings": False,
            "bos_token_id": 1,
            "eos_token_id": 2,
            "torch_dtype": "float32",
        },
        "seed": 6,
        "shards": 1,
    },
}


# ---------------------------------------------------------------- model (transformers, transcribed)
class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        x = x.to(torch.float32)
        variance = x.pow(2).mean(-1, keepdim=True)
        x = x * torch.rsqrt(variance + self.eps)
        return self.weight * x.to(dtype)


def inverse_frequencies(cfg, dim):
    base = cfg.get("rope_theta", 10000.0)
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    rs = cfg.get("rope_scaling")
    if rs and rs.get("rope_type", rs.get("type")) == "llama3":
        # transformers' _compute_llama3_parameters
        factor = rs["factor"]
        low_freq_factor = rs["low_freq_factor"]
        high_freq_factor = rs["high_freq_factor"]
        old_context_len = rs["original_max_position_embeddings"]
        low_freq_wavelen = old_context_len / low_freq_factor
        high_freq_wavelen = old_context_len / high_freq_factor
        wavelen = 2 * math.pi / inv_freq
        inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
        smooth_factor = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
        smoothed = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
        is_medium = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
        inv_freq = torch.where(is_medium, smoothed, inv_freq_llama)
    return inv_freq


def rotary_cos_sin(inv_freq, position_ids, dtype):
    b = position_ids.shape[0]
    inv = inv_freq[None, :, None].float().expand(b, -1, 1)
    pos = position_ids[:, None, :].float()
    freqs = (inv @ pos).transpose(1, 2)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


def repeat_kv(x, n_rep):
    b, h, s, d = x.shape
    if n_rep == 1:
        return x
    return x[:, :, None, :, :].expand(b, h, n_rep, s, d).reshape(b, h * n_rep, s, d)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        t = cfg["model_type"]
        h = cfg["hidden_size"]
        self.heads = cfg["num_attention_heads"]
        self.kv_heads = cfg.get("num_key_value_heads", self.heads)
        self.head_dim = cfg.get("head_dim") or h // self.heads
        qkv_bias = True if t == "qwen2" else cfg.get("attention_bias", False)
        o_bias = False if t in ("qwen2", "qwen3") else cfg.get("attention_bias", False)
        self.q_proj = nn.Linear(h, self.heads * self.head_dim, bias=qkv_bias)
        self.k_proj = nn.Linear(h, self.kv_heads * self.head_dim, bias=qkv_bias)
        self.v_proj = nn.Linear(h, self.kv_heads * self.head_dim, bias=qkv_bias)
        self.o_proj = nn.Linear(self.heads * self.head_dim, h, bias=o_bias)
        if t == "qwen3":
            self.q_norm = RMSNorm(self.head_dim, cfg["rms_norm_eps"])
            self.k_norm = RMSNorm(self.head_dim, cfg["rms_norm_eps"])
        self.qk_norm = t == "qwen3"

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        shape = (b, t, -1, self.head_dim)
        q = self.q_proj(x).view(shape)
        k = self.k_proj(x).view(shape)
        if self.qk_norm:
            q = self.q_norm(q)
            k = self.k_norm(k)
        q = q.transpose(1, 2)
        k = k.transpose(1, 2)
        v = self.v_proj(x).view(shape).transpose(1, 2)
        cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = repeat_kv(k, self.heads // self.kv_heads)
        v = repeat_kv(v, self.heads // self.kv_heads)
        w = torch.matmul(q, k.transpose(2, 3)) * self.head_dim**-0.5 + mask
        w = F.softmax(w, dim=-1, dtype=torch.float32).to(q.dtype)
        out = torch.matmul(w, v).transpose(1, 2).reshape(b, t, -1)
        return self.o_proj(out)


class Mlp(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        h, i = cfg["hidden_size"], cfg["intermediate_size"]
        bias = cfg.get("mlp_bias", False) if cfg["model_type"] == "llama" else False
        self.gate_proj = nn.Linear(h, i, bias=bias)
        self.up_proj = nn.Linear(h, i, bias=bias)
        self.down_proj = nn.Linear(i, h, bias=bias)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self_attn = Attention(cfg)
        self.mlp = Mlp(cfg)
        self.input_layernorm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.post_attention_layernorm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])

    def forward(self, x, cos, sin, mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class Model(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], cfg["hidden_size"], cfg.get("pad_token_id"))
        self.layers = nn.ModuleList([DecoderLayer(cfg) for _ in range(cfg["num_hidden_layers"])])
        self.norm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])


class ForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.model = Model(cfg)
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        if cfg.get("tie_word_embeddings"):
            self.lm_head.weight = self.model.embed_tokens.weight
        head_dim = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
        self.register_buffer("inv_freq", inverse_frequencies(cfg, head_dim), persistent=False)

    def forward(self, input_ids, attention_mask=None, labels=None):
        b, t = input_ids.shape
        x = self.model.embed_tokens(input_ids)
        position_ids = torch.arange(t)[None, :].expand(b, t)  # transformers' default: cache_position
        cos, sin = rotary_cos_sin(self.inv_freq, position_ids, x.dtype)
        mask = causal_mask(attention_mask, b, t, x.dtype, sliding_window(self.cfg))
        for layer in self.model.layers:
            x = layer(x, cos, sin, mask)
        logits = self.lm_head(self.model.norm(x))
        loss = None
        if labels is not None:
            # transformers' ForCausalLMLoss: f32 logits, labels shifted left, -100 ignored, mean.
            shift_labels = F.pad(labels, (0, 1), value=-100)[..., 1:]
            loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), shift_labels.reshape(-1), ignore_index=-100)
        return logits, loss


def sliding_window(cfg):
    # Mistral windows every layer; Qwen2/3 only with use_sliding_window (not used by these fixtures).
    if cfg["model_type"] == "mistral":
        return cfg.get("sliding_window", 4096)
    assert not cfg.get("use_sliding_window"), "per-layer windows (max_window_layers) are not transcribed"
    return None


def causal_mask(attention_mask, b, t, dtype, window=None):
    # transformers' _prepare_4d_causal_attention_mask_with_cache_position (no cache: S = T); with a
    # sliding window, query i also loses keys j <= i - window (its sliding_attend_mask).
    min_value = torch.finfo(dtype).min
    mask = torch.full((t, t), min_value, dtype=dtype).triu(1)
    if window is not None:
        i = torch.arange(t)
        too_far = i[None, :] <= i[:, None] - window
        mask = mask.masked_fill(too_far, min_value)
    mask = mask[None, None, :, :].expand(b, 1, -1, -1).clone()
    if attention_mask is not None:
        padding = (mask + attention_mask[:, None, None, :].to(dtype)) == 0
        mask = mask.masked_fill(padding, min_value)
    return mask


# ---------------------------------------------------------------- safetensors (stdlib writer)
DTYPES = {torch.float32: "F32", torch.int32: "I32"}


def safetensors_bytes(tensors, metadata=None):
    header = {}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        data = t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


# ---------------------------------------------------------------- fixtures
def init_weights(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif name == "model.embed_tokens.weight":
                # Tied to the output head, N(0, 1) rows would make logits ~ N(0, hidden): too peaked.
                std = 0.4 if model.cfg.get("tie_word_embeddings") else 1.0
                p.copy_(std * torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(p.shape[1]))


def make_batch(cfg, seed):
    g = torch.Generator().manual_seed(100 + seed)
    v = cfg["vocab_size"]
    pad = cfg.get("pad_token_id")
    pad_id = pad if pad is not None else 0
    b, t = 3, 8
    ids = torch.randint(3, v, (b, t), generator=g)
    if pad is not None:
        ids[0, 3] = pad  # the pad id as a real token: Embedding(padding_idx) gives its row no gradient
    mask = torch.ones(b, t, dtype=torch.int64)
    mask[1, 5:] = 0  # right padding
    mask[2, :2] = 0  # left padding
    ids[mask == 0] = pad_id
    labels = ids.clone()
    labels[mask == 0] = -100
    labels[0, 2] = -100
    labels[0, 6] = -100
    labels[2, 2] = -100  # predicted from a padding position, whose logits are implementation-defined
    # The loss must not read logits at padding positions (they differ between attention kernels).
    for i in range(b):
        for j in range(t - 1):
            assert mask[i, j] == 1 or labels[i, j + 1] == -100
    return ids, mask, labels


def no_decay(name, p):
    return p.dim() < 2 or name.endswith("bias") or "norm" in name.lower()


def greedy(model, prompt, n):
    ids = prompt.clone()
    margins = []
    with torch.no_grad():
        for _ in range(n):
            logits, _ = model(ids)
            last = logits[0, -1]
            top = torch.topk(last, 2).values
            margins.append(float(top[0] - top[1]))
            ids = torch.cat([ids, last.argmax().view(1, 1)], dim=1)
    return ids[0, prompt.shape[1] :], min(margins)


def build(name, spec):
    cfg = spec["config"]
    seed = spec["seed"]
    model = ForCausalLM(cfg)
    init_weights(model, seed)
    params = dict(model.named_parameters())  # tied lm_head.weight is deduplicated, as in HF's files
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    for f in os.listdir(folder):
        os.remove(os.path.join(folder, f))
    write(os.path.join(folder, "config.json"), (json.dumps(cfg, indent=2, sort_keys=True) + "\n").encode())
    names = list(params)
    if spec["shards"] == 1:
        write(os.path.join(folder, "model.safetensors"), safetensors_bytes(params, {"format": "pt"}))
    else:
        n = spec["shards"]
        per = math.ceil(len(names) / n)
        weight_map = {}
        total = 0
        for s in range(n):
            part = {k: params[k] for k in names[s * per : (s + 1) * per]}
            fname = "model-%05d-of-%05d.safetensors" % (s + 1, n)
            write(os.path.join(folder, fname), safetensors_bytes(part, {"format": "pt"}))
            for k, p in part.items():
                weight_map[k] = fname
                total += p.numel() * 4
        index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
        write(os.path.join(folder, "model.safetensors.index.json"), (json.dumps(index, indent=2) + "\n").encode())

    ids, mask, labels = make_batch(cfg, seed)
    ref = {"input_ids": ids.int(), "attention_mask": mask.int(), "labels": labels.int()}
    logits, loss = model(ids, mask, labels)
    loss.backward()
    ref["logits"] = logits
    ref["loss"] = loss.reshape(1)
    for k, p in params.items():
        ref["grad." + k] = p.grad.clone()

    decay = [p for k, p in params.items() if not no_decay(k, p)]
    other = [p for k, p in params.items() if no_decay(k, p)]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.01}, {"params": other, "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.999), eps=1e-8
    )
    losses = []
    for _ in range(3):
        opt.zero_grad()
        _, step_loss = model(ids, mask, labels)
        losses.append(float(step_loss))
        step_loss.backward()
        opt.step()
    for k, p in params.items():
        ref["adamw." + k] = p.detach().clone()
    ref["adamw_losses"] = torch.tensor(losses, dtype=torch.float32)

    # Greedy continuation with the weights as saved (reload them: the AdamW steps changed them).
    fresh = ForCausalLM(cfg)
    init_weights(fresh, seed)
    prompt = ids[0:1, :5]
    tokens, margin = greedy(fresh, prompt, 8)
    assert margin > 1e-3, f"{name}: greedy margin {margin} is too small to compare token for token; change the seed"
    ref["generate.prompt"] = prompt.int()
    ref["generate.tokens"] = tokens.int()
    meta = {
        "format_version": FORMAT_VERSION,
        "generator": "packages/models/scripts/reference/llama_reference.py",
        "torch": torch.__version__,
        "adamw": "lr=1e-3 betas=(0.9,0.999) eps=1e-8 weight_decay=0.01 except biases, norm weights and rank<2 (HF no-decay rule); 3 steps on the batch",
        "greedy_min_margin": "%.6f" % margin,
    }
    write(os.path.join(folder, "reference.safetensors"), safetensors_bytes(ref, meta))
    print(f"{name}: loss {float(loss):.6f}, losses {losses}, greedy {tokens.tolist()} (min top-2 margin {margin:.4f})")


def main():
    global OUT
    torch.set_num_threads(1)
    torch.manual_seed(0)
    args = sys.argv[1:]
    if args[:1] == ["--out"]:
        OUT = args[1]  # test/llama-reference-script.test.ts regenerates into a scratch folder
        args = args[2:]
    for name in args or list(MODELS):
        build(name, MODELS[name])


if __name__ == "__main__":
    main()
