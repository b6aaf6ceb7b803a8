#!/usr/bin/env python3
"""Generate two ~20 MB text files for benchmarking the DocCompare line diff, or contract pairs
with labelled ground truth for its clause mode.

Usage: doccompare-gen.py OUT_DIR [--size-mb 20] [--edit-rate 0.01] [--seed 42]
       doccompare-gen.py OUT_DIR --contracts N [--seed 42]

The first form writes OUT_DIR/a.txt and OUT_DIR/b.txt. b.txt is a.txt with about
--edit-rate of its lines edited, inserted or deleted (one third each).
The second writes OUT_DIR/NNN.old.txt, NNN.new.txt and NNN.truth.json for N contract pairs
(see doccompare_contracts.py for what they hold and how they are labelled).
Standard library only.
"""
import argparse
import json
import os
import random
import sys

WORDS = (
    "the of and to in a is that for it as was with be by on not he this are or his "
    "from at which but have an they you were her she there been one all we their can "
    "has more will would if so no its who what about up out them some could into than "
    "then other time only these may like new two any over such our after first also "
    "agreement party parties clause section shall hereby term notice payment licence "
    "confidential information obligation warranty liability termination breach days"
).split()


def make_line(rng):
    n = rng.randint(4, 16)
    words = [rng.choice(WORDS) for _ in range(n)]
    # a serial number keeps most lines distinct, like real prose
    return "%s %d.\n" % (" ".join(words).capitalize(), rng.randint(0, 10**9))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--size-mb", type=float, default=20.0)
    ap.add_argument("--edit-rate", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--contracts", type=int, default=0, help="write N labelled contract pairs instead")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    os.makedirs(args.out_dir, exist_ok=True)
    if args.contracts:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import doccompare_contracts
        for k in range(args.contracts):
            old, new, truth = doccompare_contracts.make_pair(rng)
            base = os.path.join(args.out_dir, "%03d" % k)
            with open(base + ".old.txt", "w") as f:
                f.write(old)
            with open(base + ".new.txt", "w") as f:
                f.write(new)
            with open(base + ".truth.json", "w") as f:
                json.dump(truth, f)
        print("wrote %d contract pairs to %s" % (args.contracts, args.out_dir))
        return
    target = int(args.size_mb * 1024 * 1024)
    lines = []
    size = 0
    while size < target:
        line = make_line(rng)
        # sprinkle some repeated lines (blank lines, separators) as real documents have
        r = rng.random()
        if r < 0.03:
            line = "\n"
        elif r < 0.04:
            line = "----\n"
        lines.append(line)
        size += len(line)

    out = []
    edits = 0
    for line in lines:
        r = rng.random()
        if r < args.edit_rate / 3:  # delete
            edits += 1
            continue
        if r < 2 * args.edit_rate / 3:  # edit
            edits += 1
            words = line.rstrip("\n").split(" ")
            words[rng.randrange(len(words))] = rng.choice(WORDS)
            out.append(" ".join(words) + " (rev)\n")
            continue
        out.append(line)
        if r < args.edit_rate:  # insert after
            edits += 1
            out.append(make_line(rng))

    with open(os.path.join(args.out_dir, "a.txt"), "w") as f:
        f.writelines(lines)
    with open(os.path.join(args.out_dir, "b.txt"), "w") as f:
        f.writelines(out)
    print("wrote %s/a.txt (%d lines) and %s/b.txt (%d lines), %d edits"
          % (args.out_dir, len(lines), args.out_dir, len(out), edits))


if __name__ == "__main__":
    main()
