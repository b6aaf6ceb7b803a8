#!/usr/bin/env python3
"""Scores predictions against a labelled corpus: precision, recall, F1, F2 per type and overall.

A prediction is a true positive when it has the type of a labelled entity not matched yet and
their spans overlap by at least half of their union (so `(555) 123-4567` against a label
without the parentheses still counts); everything else is a false positive, and every label
left unmatched a false negative.
Usage: compliance-score.py CORPUS.jsonl PREDICTIONS.jsonl MIN_SCORE  -> JSON on stdout
"""
import json, sys

TYPES = ["EMAIL", "PHONE", "DATE_OF_BIRTH", "URL", "US_SSN", "IP_ADDRESS", "IBAN", "CREDIT_CARD"]
gold = [json.loads(l)["entities"] for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
pred = [json.loads(l)["entities"] for l in open(sys.argv[2], encoding="utf-8") if l.strip()]
threshold = float(sys.argv[3])
assert len(gold) == len(pred), f"{len(gold)} documents but {len(pred)} prediction lines"
counts = {t: [0, 0, 0] for t in TYPES}  # tp, fp, fn
for labels, predicted in zip(gold, pred):
    predicted = [p for p in predicted if p["score"] >= threshold and p["type"] in counts]
    used = set()
    for p in predicted:
        hit = None
        for index, g in enumerate(labels):
            if index in used or g["type"] != p["type"]: continue
            overlap = min(g["end"], p["end"]) - max(g["start"], p["start"])
            union = max(g["end"], p["end"]) - min(g["start"], p["start"])
            if overlap > 0 and overlap * 2 >= union: hit = index; break
        if hit is None: counts[p["type"]][1] += 1
        else: used.add(hit); counts[p["type"]][0] += 1
    for index, g in enumerate(labels):
        if index not in used: counts[g["type"]][2] += 1

def metrics(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    f2 = 5 * p * r / (4 * p + r) if p + r else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r, "f1": f1, "f2": f2}

result = {t: metrics(*counts[t]) for t in TYPES}
result["overall"] = metrics(*[sum(counts[t][i] for t in TYPES) for i in range(3)])
print(json.dumps(result))
