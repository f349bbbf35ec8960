#!/usr/bin/env python3
"""GPT-2 and BERT reference fixtures for @tessera/models, in plain PyTorch (transformers is not installed).

The modules below transcribe transformers' modeling_gpt2 (GPT2LMHeadModel, eager attention) and
modeling_bert (BertForSequenceClassification / BertForTokenClassification, eager attention) in
eval mode (no dropout). For each tiny random model the script writes a Hugging Face folder
(config.json + model.safetensors, F32, stdlib writer) under packages/models/test/fixtures/<name>/
and reference.safetensors holding, for one fixed batch with padding and -100 labels:

    input_ids, attention_mask, labels   I32
    logits, loss                        F32
    grad.<hf name>                      F32: gradient of the loss
    adamw.<hf name>                     F32: the parameter after 3 torch.optim.AdamW steps on the batch
    adamw_losses                        F32: the loss before each step

AdamW: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0.01 on parameters of rank >= 2 whose
name neither ends in "bias" nor contains "norm" (Hugging Face Trainer's no-decay rule; GPT-2's
ln_* weights are rank 1, so they are excluded too), 0 elsewhere.

Reproduce byte for byte (seeded, CPU, single thread):
    cd packages/models && /usr/bin/python3 scripts/reference/gpt2_bert_reference.py [--out DIR]
"""
import argparse
import json
import math
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

FORMAT_VERSION = "1"
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


# ---------------------------------------------------------------- GPT-2 (modeling_gpt2)
def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Conv1D(nn.Module):
    """transformers.pytorch_utils.Conv1D: weight stored (in, out); y = x @ W + b."""

    def __init__(self, nf, nx):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x):
        return torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight).view(x.size()[:-1] + (self.weight.size(-1),))


class GPT2Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_head = cfg["n_head"]
        self.c_attn = Conv1D(3 * cfg["n_embd"], cfg["n_embd"])
        self.c_proj = Conv1D(cfg["n_embd"], cfg["n_embd"])

    def forward(self, x, mask):
        b, t, c = x.shape
        d = c // self.n_head
        q, k, v = self.c_attn(x).split(c, dim=2)
        q, k, v = (z.view(b, t, self.n_head, d).transpose(1, 2) for z in (q, k, v))
        w = torch.matmul(q, k.transpose(-1, -2)) / torch.full([], d**0.5, dtype=q.dtype)
        causal = torch.tril(torch.ones(t, t, dtype=torch.bool))[None, None]
        w = torch.where(causal, w, torch.full([], torch.finfo(w.dtype).min, dtype=w.dtype))
        w = w + mask
        w = F.softmax(w, dim=-1)
        o = torch.matmul(w, v).transpose(1, 2).reshape(b, t, c)
        return self.c_proj(o)


class GPT2MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        inner = cfg.get("n_inner") or 4 * cfg["n_embd"]
        self.c_fc = Conv1D(inner, cfg["n_embd"])
        self.c_proj = Conv1D(cfg["n_embd"], inner)

    def forward(self, x):
        return self.c_proj(gelu_new(self.c_fc(x)))


class GPT2Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        eps = cfg["layer_norm_epsilon"]
        self.ln_1 = nn.LayerNorm(cfg["n_embd"], eps=eps)
        self.attn = GPT2Attention(cfg)
        self.ln_2 = nn.LayerNorm(cfg["n_embd"], eps=eps)
        self.mlp = GPT2MLP(cfg)

    def forward(self, x, mask):
        x = x + self.attn(self.ln_1(x), mask)
        return x + self.mlp(self.ln_2(x))


class GPT2Model(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.wte = nn.Embedding(cfg["vocab_size"], cfg["n_embd"])
        self.wpe = nn.Embedding(cfg["n_positions"], cfg["n_embd"])
        self.h = nn.ModuleList([GPT2Block(cfg) for _ in range(cfg["n_layer"])])
        self.ln_f = nn.LayerNorm(cfg["n_embd"], eps=cfg["layer_norm_epsilon"])


class GPT2LMHeadModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.transformer = GPT2Model(cfg)

    def forward(self, ids, attention_mask, labels):
        b, t = ids.shape
        tr = self.transformer
        # GPT-2 positions are 0..T-1 regardless of padding (position_ids default).
        h = tr.wte(ids) + tr.wpe(torch.arange(t)[None])
        mask = (1.0 - attention_mask[:, None, None, :].to(h.dtype)) * torch.finfo(h.dtype).min
        for block in tr.h:
            h = block(h, mask)
        h = tr.ln_f(h)
        logits = h @ tr.wte.weight.t()  # tied lm_head
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), labels[:, 1:].reshape(-1), ignore_index=-100)
        return logits, loss


# ---------------------------------------------------------------- BERT (modeling_bert)
class BertEmbeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        h = cfg["hidden_size"]
        self.word_embeddings = nn.Embedding(cfg["vocab_size"], h, padding_idx=cfg.get("pad_token_id", 0))
        self.position_embeddings = nn.Embedding(cfg["max_position_embeddings"], h)
        self.token_type_embeddings = nn.Embedding(cfg["type_vocab_size"], h)
        self.LayerNorm = nn.LayerNorm(h, eps=cfg["layer_norm_eps"])

    def forward(self, ids, token_type_ids):
        t = ids.shape[1]
        e = self.word_embeddings(ids) + self.token_type_embeddings(token_type_ids) + self.position_embeddings(torch.arange(t)[None])
        return self.LayerNorm(e)


class BertSelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        h = cfg["hidden_size"]
        self.n_head = cfg["num_attention_heads"]
        self.query = nn.Linear(h, h)
        self.key = nn.Linear(h, h)
        self.value = nn.Linear(h, h)

    def forward(self, x, mask):
        b, t, c = x.shape
        d = c // self.n_head
        q, k, v = (lin(x).view(b, t, self.n_head, d).transpose(1, 2) for lin in (self.query, self.key, self.value))
        w = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d) + mask
        w = F.softmax(w, dim=-1)
        return torch.matmul(w, v).transpose(1, 2).reshape(b, t, c)


class BertDenseNorm(nn.Module):
    """BertSelfOutput / BertOutput: dense, then LayerNorm(. + residual)."""

    def __init__(self, cfg, inner):
        super().__init__()
        self.dense = nn.Linear(inner, cfg["hidden_size"])
        self.LayerNorm = nn.LayerNorm(cfg["hidden_size"], eps=cfg["layer_norm_eps"])

    def forward(self, x, residual):
        return self.LayerNorm(self.dense(x) + residual)


class BertAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self = BertSelfAttention(cfg)
        self.output = BertDenseNorm(cfg, cfg["hidden_size"])

    def forward(self, x, mask):
        return self.output(self.self(x, mask), x)


class BertIntermediate(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg["hidden_size"], cfg["intermediate_size"])

    def forward(self, x):
        return F.gelu(self.dense(x))  # hidden_act "gelu": the exact erf form


class BertLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.attention = BertAttention(cfg)
        self.intermediate = BertIntermediate(cfg)
        self.output = BertDenseNorm(cfg, cfg["intermediate_size"])

    def forward(self, x, mask):
        a = self.attention(x, mask)
        return self.output(self.intermediate(a), a)


class BertEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(cfg) for _ in range(cfg["num_hidden_layers"])])


class BertPooler(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg["hidden_size"], cfg["hidden_size"])

    def forward(self, h):
        return torch.tanh(self.dense(h[:, 0]))


class BertModel(nn.Module):
    def __init__(self, cfg, pooler):
        super().__init__()
        self.embeddings = BertEmbeddings(cfg)
        self.encoder = BertEncoder(cfg)
        self.pooler = BertPooler(cfg) if pooler else None

    def forward(self, ids, attention_mask, token_type_ids):
        h = self.embeddings(ids, token_type_ids)
        mask = (1.0 - attention_mask[:, None, None, :].to(h.dtype)) * torch.finfo(h.dtype).min
        for layer in self.encoder.layer:
            h = layer(h, mask)
        return h, (self.pooler(h) if self.pooler is not None else None)


class BertForSequenceClassification(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.bert = BertModel(cfg, pooler=True)
        self.classifier = nn.Linear(cfg["hidden_size"], cfg["num_labels"])

    def forward(self, ids, attention_mask, token_type_ids, labels):
        _, pooled = self.bert(ids, attention_mask, token_type_ids)
        logits = self.classifier(pooled)
        return logits, F.cross_entropy(logits.view(-1, logits.size(-1)), labels.view(-1), ignore_index=-100)


class BertForTokenClassification(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.bert = BertModel(cfg, pooler=False)  # HF builds it with add_pooling_layer=False
        self.classifier = nn.Linear(cfg["hidden_size"], cfg["num_labels"])

    def forward(self, ids, attention_mask, token_type_ids, labels):
        h, _ = self.bert(ids, attention_mask, token_type_ids)
        logits = self.classifier(h)
        return logits, F.cross_entropy(logits.view(-1, logits.size(-1)), labels.view(-1), ignore_index=-100)


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
GPT2 = {
    "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": 48, "n_embd": 32, "n_layer": 2, "n_head": 4,
    "n_positions": 16, "n_inner": None, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new", "initializer_range": 0.02,
    "bos_token_id": 1, "eos_token_id": 2, "tie_word_embeddings": True,
}
BERT = {
    "model_type": "bert", "vocab_size": 48, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
    "intermediate_size": 64, "hidden_act": "gelu", "max_position_embeddings": 16, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
    "initializer_range": 0.02, "pad_token_id": 0, "position_embedding_type": "absolute",
}
SPECS = {
    "tiny-gpt2": {"cls": GPT2LMHeadModel, "config": GPT2, "seed": 11, "task": "lm"},
    "tiny-bert-seq": {
        "cls": BertForSequenceClassification, "seed": 12, "task": "seq",
        "config": {**BERT, "architectures": ["BertForSequenceClassification"], "num_labels": 3, "id2label": {"0": "A", "1": "B", "2": "C"}, "label2id": {"A": 0, "B": 1, "C": 2}},
    },
    "tiny-bert-token": {
        "cls": BertForTokenClassification, "seed": 13, "task": "token",
        "config": {**BERT, "architectures": ["BertForTokenClassification"], "num_labels": 5, "id2label": {str(i): "L%d" % i for i in range(5)}, "label2id": {"L%d" % i: i for i in range(5)}},
    },
}


def init_weights(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm.weight" in name or ".ln_" in name and name.endswith("weight"):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif p.dim() == 2 and "embeddings" in name or name.endswith("wte.weight") or name.endswith("wpe.weight"):
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            else:
                fan_in = p.shape[0] if "c_" in name.split(".")[-2] else p.shape[1]  # Conv1D stores (in, out)
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(fan_in))


def make_batch(cfg, seed, task):
    g = torch.Generator().manual_seed(100 + seed)
    b, t = 3, 8
    ids = torch.randint(3, cfg["vocab_size"], (b, t), generator=g)
    mask = torch.ones(b, t, dtype=torch.int64)
    mask[1, 5:] = 0  # right padding
    types = torch.zeros(b, t, dtype=torch.int64)
    if task == "lm":
        mask[2, :2] = 0  # left padding
        ids[mask == 0] = 0
        labels = ids.clone()
        labels[mask == 0] = -100
        labels[0, 2] = -100
        labels[2, 2] = -100  # predicted from a padding position, whose logits are implementation-defined
        for i in range(b):
            for j in range(t - 1):
                assert mask[i, j] == 1 or labels[i, j + 1] == -100
    else:
        mask[2, 6:] = 0
        ids[mask == 0] = 0
        types[:, 4:] = 1  # a second segment
        types[mask == 0] = 0
        if task == "seq":
            labels = torch.tensor([2, 0, 1])
        else:
            labels = torch.randint(0, cfg["num_labels"], (b, t), generator=g)
            labels[mask == 0] = -100
            labels[0, 0] = -100  # like [CLS]
    return ids, mask, types, labels


def no_decay(name, p):
    return p.dim() < 2 or name.endswith("bias") or "norm" in name.lower()


def run(model, task, ids, mask, types, labels):
    if task == "lm":
        return model(ids, mask, labels)
    return model(ids, mask, types, labels)


def build(out, name, spec):
    cfg, seed, task = spec["config"], spec["seed"], spec["task"]
    model = spec["cls"](cfg)
    init_weights(model, seed)
    params = dict(model.named_parameters())
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    for f in os.listdir(folder):
        os.remove(os.path.join(folder, f))
    write(os.path.join(folder, "config.json"), (json.dumps(cfg, indent=2, sort_keys=True) + "\n").encode())
    write(os.path.join(folder, "model.safetensors"), safetensors_bytes(params, {"format": "pt"}))

    ids, mask, types, labels = make_batch(cfg, seed, task)
    ref = {"input_ids": ids.int(), "attention_mask": mask.int(), "token_type_ids": types.int(), "labels": labels.int()}
    logits, loss = run(model, task, ids, mask, types, labels)
    loss.backward()
    ref["logits"] = logits
    ref["loss"] = loss.reshape(1)
    for k, p in params.items():
        ref["grad." + k] = p.grad.clone()

    decay = [p for k, p in params.items() if not no_decay(k, p)]
    other = [p for k, p in params.items() if no_decay(k, p)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": other, "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        _, step_loss = run(model, task, ids, mask, types, labels)
        losses.append(float(step_loss))
        step_loss.backward()
        opt.step()
    for k, p in params.items():
        ref["adamw." + k] = p.detach().clone()
    ref["adamw_losses"] = torch.tensor(losses, dtype=torch.float32)
    meta = {
        "format_version": FORMAT_VERSION,
        "generator": "packages/models/scripts/reference/gpt2_bert_reference.py",
        "torch": torch.__version__,
        "adamw": "lr=1e-3 betas=(0.9,0.999) eps=1e-8 weight_decay=0.01 except biases, norm weights and rank<2 (HF no-decay rule); 3 steps on the batch",
    }
    write(os.path.join(folder, "reference.safetensors"), safetensors_bytes(ref, meta))
    print(f"{name}: loss {float(loss):.6f}, losses {losses}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(here, "..", "..", "test", "fixtures"), help="fixtures folder")
    args = parser.parse_args()
    for name, spec in SPECS.items():
        build(args.out, name, spec)


if __name__ == "__main__":
    main()
