#!/usr/bin/env python3
"""Scores DocCompare's clause mode against the ground truth of doccompare-gen.py --contracts.

Usage: doccompare-score.py DATA_DIR RESULTS.jsonl
RESULTS.jsonl holds one line per pair from `docdiff-bench clauses OLD NEW ...`. Units are matched
to the truth by their first line. Prints precision and recall per category and checks the
targets: 100% recall of unchanged and of renumbered clauses (reported unchanged, and renumbered
flagged), at least 99% precision of changed clauses, every moved block reported as one move.
Exit status: 0 targets met, 3 a target missed, 1 no pair scored.
"""
import json
import os
import sys


def main():
    data_dir, results = sys.argv[1], sys.argv[2]
    tp = {}
    fp = {}
    fn = {}
    examples = {}
    pairs = 0
    seconds = 0.0

    def count(table, cat, n=1, example=None):
        table[cat] = table.get(cat, 0) + n
        if example and table is not tp:
            examples.setdefault((id(table), cat), []).append(example)

    for line in open(results):
        r = json.loads(line)
        base = r["old"][: -len(".old.txt")]
        truth = json.load(open(base + ".truth.json"))
        name = os.path.basename(base)
        pairs += 1
        seconds += r["seconds"]
        old_at = {u["line"]: k for k, u in enumerate(r["oldUnits"])}
        new_at = {u["line"]: k for k, u in enumerate(r["newUnits"])}
        t_old = {t["id"]: t for t in truth["old"]}
        t_new = {t["id"]: t for t in truth["new"]}
        by_pair = {}
        added, removed = set(), set()
        for c in r["changes"]:
            if c["status"] == "added":
                added.add(c["new"])
            elif c["status"] == "removed":
                removed.add(c["old"])
            else:
                by_pair[(c["old"], c["new"])] = c
        def host(units, line):
            """The engine unit holding `line` (the last one starting at or before it)."""
            best = None
            for k, u in enumerate(units):
                if u["line"] <= line:
                    best = k
            return best

        truth_pairs = {}
        for uid, t in t_old.items():
            if uid in t_new:
                lab = t_new[uid]["label"] if t_new[uid]["label"] != "unchanged" or t["label"] == "unchanged" else t["label"]
                key = (old_at.get(t["line"]), new_at.get(t_new[uid]["line"]))
                if None in key and lab in ("unchanged", "renumbered"):
                    # Not split out on its own: it counts as recalled when the unit holding it
                    # on both sides is one pair reported unchanged (a paragraph read as the end of
                    # the clause before it, where layout alone cannot tell).
                    key = (host(r["oldUnits"], t["line"]), host(r["newUnits"], t_new[uid]["line"]))
                    if key in truth_pairs:
                        continue
                truth_pairs[key] = lab
        # unchanged, renumbered, changed: pairs
        for key, lab in truth_pairs.items():
            c = by_pair.get(key)
            ok = c is not None and ((lab in ("unchanged", "renumbered") and c["status"] == "unchanged" and c["renumbered"] == (lab == "renumbered"))
                                    or (lab == "changed" and c["status"] == "modified"))
            count(tp if ok else fn, lab, example=None if ok else "%s %s %s" % (name, key, c and c["status"]))
        for key, c in by_pair.items():
            lab = truth_pairs.get(key)
            reported = "changed" if c["status"] == "modified" else ("renumbered" if c["renumbered"] else "unchanged")
            if lab != reported:
                count(fp, reported, example="%s %s truth=%s" % (name, key, lab))
        # added, deleted: single units
        t_added = {new_at.get(t["line"]) for t in truth["new"] if t["label"] == "added"}
        t_deleted = {old_at.get(t["line"]) for t in truth["old"] if t["label"] == "deleted"}
        for k in t_added:
            count(tp if k in added else fn, "added", example=None if k in added else "%s new %s" % (name, k))
        for k in added - t_added:
            count(fp, "added", example="%s new %s" % (name, k))
        for k in t_deleted:
            count(tp if k in removed else fn, "deleted", example=None if k in removed else "%s old %s" % (name, k))
        for k in removed - t_deleted:
            count(fp, "deleted", example="%s old %s" % (name, k))
        # moved blocks: one move each, with the block's old and new ranges
        moves = {(tuple(m["old"]), tuple(m["new"])) for m in r["moves"]}
        matched = set()
        for block in truth["moves"]:
            o = [old_at.get(t_old[i]["line"]) for i in block]
            n = [new_at.get(t_new[i]["line"]) for i in block]
            if None in o or None in n:
                count(fn, "moved block", example="%s %s unsplit" % (name, block))
                continue
            key = ((min(o), max(o) + 1), (min(n), max(n) + 1))
            # the block's range may hold extra engine units (a heading's second line); match by ends
            hit = [m for m in moves if m[0][0] == key[0][0] and m[1][0] == key[1][0] and m[0][1] >= key[0][1] and m[1][1] >= key[1][1]
                   and m[0][1] - key[0][1] <= 1]
            if hit:
                matched.add(hit[0])
                count(tp, "moved block")
            else:
                count(fn, "moved block", example="%s %s engine=%s" % (name, key, sorted(moves)))
        for m in moves - matched:
            count(fp, "moved block", example="%s %s" % (name, m))

    if pairs == 0:
        print("doccompare-score: no pair scored", file=sys.stderr)
        return 1
    print("Clause mode on %d generated contract pairs (%.3f s of comparison in total)" % (pairs, seconds))
    print("| category | truth | found | precision | recall |")
    print("| --- | ---: | ---: | ---: | ---: |")
    cats = ["unchanged", "renumbered", "changed", "added", "deleted", "moved block"]
    figures = {}
    for cat in cats:
        t, f, n = tp.get(cat, 0), fp.get(cat, 0), fn.get(cat, 0)
        precision = t / (t + f) if t + f else 1.0
        recall = t / (t + n) if t + n else 1.0
        figures[cat] = (precision, recall)
        print("| %s | %d | %d | %.2f%% | %.2f%% |" % (cat, t + n, t + f, 100 * precision, 100 * recall))
    missed = []
    if figures["unchanged"][1] < 1.0:
        missed.append("recall of unchanged clauses is below 100%")
    if figures["renumbered"][1] < 1.0:
        missed.append("recall of renumbered clauses is below 100%")
    if figures["changed"][0] < 0.99:
        missed.append("precision of changed clauses is below 99%")
    if figures["moved block"][1] < 1.0:
        missed.append("not every moved block is reported as one move")
    for (table, cat), ex in sorted(examples.items(), key=lambda e: str(e[0])):
        kind = "missed" if table == id(fn) else "wrong"
        print("  %s %s, e.g.: %s" % (kind, cat, "; ".join(ex[:3])), file=sys.stderr)
    for m in missed:
        print("TARGET MISSED: " + m)
    return 3 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
