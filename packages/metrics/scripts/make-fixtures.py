"""Regenerates test/fixtures/*.json from the Python reference implementations.

Run with Debian's Python (apt-get install python3-sklearn python3-nltk):
    /usr/bin/python3 scripts/make-fixtures.py
Tests read the committed JSON and never need Python.
"""
import json
import random
import sys

import nltk
import sklearn
from nltk.translate.bleu_score import SmoothingFunction, corpus_bleu
from sklearn.metrics import classification_report

FORMAT_VERSION = 1
OUT = 'test/fixtures'


def sklearn_cases():
    rng = random.Random(1234)
    cases = []
    for k in range(40):
        n_classes = rng.randint(2, 6)
        labels = [f'c{j}' for j in range(n_classes)] if k % 2 else list(range(n_classes))
        n = rng.randint(1, 60)
        y_true = [rng.choice(labels) for _ in range(n)]
        # Predictions agree often enough for non-trivial scores, with classes sometimes never predicted.
        y_pred = [t if rng.random() < 0.6 else rng.choice(labels[: max(1, n_classes - 1)]) for t in y_true]
        opts = {}
        if k % 5 == 3:
            opts['labels'] = sorted(set(y_true) | set(y_pred), key=str)[:-1] or None
        if k % 7 == 4:
            opts['zero_division'] = 1
        digits = 4 if k % 3 == 0 else 2
        kwargs = {k2: v for k2, v in opts.items() if v is not None}
        text = classification_report(y_true, y_pred, digits=digits, **kwargs)
        d = classification_report(y_true, y_pred, output_dict=True, **kwargs)
        cases.append({'yTrue': y_true, 'yPred': y_pred, 'options': kwargs, 'digits': digits, 'text': text, 'dict': {str(a): b for a, b in d.items()}})
    return cases


def nltk_bleu_cases():
    # Whitespace-tokenised inputs (sacreBLEU tokenize='none'); with every n-gram order matched at
    # least once, NLTK's unsmoothed corpus BLEU is the same quantity as sacreBLEU's.
    rng = random.Random(99)
    vocab = 'the a cat dog sat on mat and ran fast slow red blue big small house'.split()
    cases = []
    while len(cases) < 20:
        hyps, refs = [], []
        for _ in range(rng.randint(1, 5)):
            ref_set = []
            base = [rng.choice(vocab) for _ in range(rng.randint(5, 14))]
            for _ in range(rng.randint(1, 3)):
                r = [w if rng.random() < 0.8 else rng.choice(vocab) for w in base]
                ref_set.append(r)
            hyp = [w if rng.random() < 0.75 else rng.choice(vocab) for w in base]
            if rng.random() < 0.5:
                hyp = hyp[: max(4, len(hyp) - rng.randint(0, 3))]
            hyps.append(hyp)
            refs.append(ref_set)
        score = corpus_bleu(refs, hyps)
        if score <= 0.01:
            continue
        cases.append({'hypotheses': [' '.join(h) for h in hyps], 'references': [[' '.join(r) for r in rs] for rs in refs], 'bleu': score * 100})
    return cases


def nltk_smoothed_bleu_cases():
    # Short hypotheses where some n-gram order has no match: NLTK's method3 (NIST geometric
    # smoothing, 1 / (2^k * total)) is the rule sacreBLEU calls 'exp'.
    rng = random.Random(7)
    vocab = 'the a cat dog sat on mat ran'.split()
    cases = []
    while len(cases) < 20:
        hyps, refs = [], []
        for _ in range(rng.randint(1, 3)):
            ref = [rng.choice(vocab) for _ in range(rng.randint(4, 8))]
            hyp = [w if rng.random() < 0.5 else rng.choice(vocab) for w in ref][: rng.randint(4, len(ref))]
            hyps.append(hyp)
            refs.append([ref])
        score = corpus_bleu(refs, hyps, smoothing_function=SmoothingFunction().method3)
        cases.append({'hypotheses': [' '.join(h) for h in hyps], 'references': [[' '.join(r) for r in rs] for rs in refs], 'bleu': score * 100})
    return cases


def porter_words():
    # English-ish words from Python's standard library sources, plus the examples of Porter's paper;
    # stems from NLTK's PorterStemmer in its default mode (the one rouge-score uses).
    import glob
    import re
    from nltk.stem.porter import PorterStemmer
    words = set()
    for path in sorted(glob.glob('/usr/lib/python3.11/*.py')):
        with open(path, encoding='utf-8', errors='ignore') as f:
            words.update(w.lower() for w in re.findall(r'[A-Za-z]{3,}', f.read()))
    paper = 'caresses ponies ties caress cats feed agreed plastered bled motoring sing conflated troubled sized hopping tanned falling hissing fizzed failing filing happy sky relational conditional rational valenci hesitanci digitizer conformabli radicalli differentli vileli analogousli vietnamization predication operator feudalism decisiveness hopefulness callousness formaliti sensitiviti sensibiliti triplicate formative formalize electriciti electrical hopeful goodness revival allowance inference airliner gyroscopic adjustable defensible irritant replacement adjustment dependent adoption homologou communism activate angulariti homologous effective bowdlerize probate rate cease controll roll dying lying skies news innings generously enjoy spied flies'.split()
    rng = random.Random(5)
    sample = sorted(rng.sample(sorted(words), 4000)) + paper
    stemmer = PorterStemmer()
    return [[w, stemmer.stem(w)] for w in sample]


def main():
    meta = {'formatVersion': FORMAT_VERSION, 'python': sys.version.split()[0], 'sklearn': sklearn.__version__, 'nltk': nltk.__version__}
    with open(f'{OUT}/sklearn-classification-report.json', 'w') as f:
        json.dump({**meta, 'cases': sklearn_cases()}, f, indent=1)
    with open(f'{OUT}/nltk-corpus-bleu.json', 'w') as f:
        json.dump({**meta, 'cases': nltk_bleu_cases()}, f, indent=1)
    with open(f'{OUT}/nltk-corpus-bleu-exp-smoothing.json', 'w') as f:
        json.dump({**meta, 'cases': nltk_smoothed_bleu_cases()}, f, indent=1)
    with open(f'{OUT}/nltk-porter.json', 'w') as f:
        json.dump({**meta, 'cases': porter_words()}, f)


main()
