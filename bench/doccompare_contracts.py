"""Realistic contract pairs with labelled ground truth, for scoring DocCompare's clause mode.

Used by doccompare-gen.py (--contracts N). Each contract has a preamble with numbered parties
and lettered recitals, numbered clauses in one of several schemes (1. / 1.1 / (a) / (i);
Article I / Section 1.1; Clause 1; 1) / a); § 1 / (1)), wrapped at a width with a hanging or
flush indent (or one paragraph per line, as text taken from a .docx), schedules restarting
their numbering, and an execution block. Sentences carry the traps of real contracts: numbers
in brackets after words (`thirty (30) days`), times (`9.00 a.m.`), cross-references
(`clause 4.2`), which wrapping puts at the start of lines.

The new version applies, with labels per unit: renumbering (by insertions and deletions before
a clause), word edits, added and deleted clauses, moves of blocks of 1-4 consecutive units,
added schedules, and re-wrapping at another width. Cross-references follow the renumbering, as
a word processor's do. Standard library only.
"""
import random

NOUNS = ("Supplier Customer Goods Services Deliverables Premises Price Fees Charges Term Territory Software "
         "Licence Confidential-Information Personnel Equipment Specification Documentation Order Invoice "
         "Milestone Warranty-Period Intellectual-Property-Rights Data Subcontractor Insurance Records").split()
VERBS = ("provide deliver supply maintain perform procure invoice pay notify remedy replace inspect test "
         "document install support store protect return destroy disclose use assign").split()
ADJ = ("reasonable prompt written prior material all relevant applicable commercially-reasonable good "
       "proper timely complete accurate full").split()
OBJ = ("the Services", "the Goods", "all Deliverables", "the Software", "each Invoice", "the Price",
       "any Personnel", "the Equipment", "the Records", "all Confidential Information", "the Specification")
EDIT_WORDS = ("promptly", "fully", "materially", "reasonably", "written", "annual", "additional", "such",
              "relevant", "applicable", "agreed", "documented", "independent", "qualified")
HEADINGS = ("Definitions and interpretation", "Commencement and term", "Supply of services", "Supply of goods",
            "Customer obligations", "Charges and payment", "Intellectual property", "Data protection",
            "Confidentiality", "Limitation of liability", "Insurance", "Termination", "Consequences of termination",
            "Force majeure", "Assignment and subcontracting", "Notices", "Variation", "Waiver", "Severance",
            "Entire agreement", "Third party rights", "Dispute resolution", "Governing law", "Jurisdiction",
            "Audit", "Anti-bribery", "Non-solicitation", "Warranties", "Acceptance testing", "Service levels")
NUMBER_WORDS = [("five", 5), ("seven", 7), ("ten", 10), ("fourteen", 14), ("thirty", 30), ("sixty", 60),
                ("ninety", 90), ("one hundred and twenty", 120), ("one hundred and eighty", 180)]


def word(rng, seq):
    return rng.choice(seq).replace("-", " ")


def sentence(rng, refs):
    """One contract sentence; some carry `(30) days`, times or cross-references."""
    r = rng.random()
    subject = "The " + word(rng, NOUNS)
    verb = rng.choice(VERBS)
    obj = rng.choice(OBJ)
    parts = [subject, rng.choice(("shall", "may", "must not", "shall not", "will")), verb, obj]
    if r < 0.25:
        w, n = rng.choice(NUMBER_WORDS)
        parts += ["within", w, "(%d)" % n, rng.choice(("days", "Business Days", "months")), "of", rng.choice(OBJ)]
    elif r < 0.35:
        parts += ["between", "9.00 a.m.", "and", "5.00 p.m.", "on", "any", "Business Day"]
    elif r < 0.55 and refs:
        parts += ["in accordance with", rng.choice(("clause", "Clause", "paragraph")), "{ref:%d}" % rng.choice(refs)]
    elif r < 0.7:
        parts += ["using", word(rng, ADJ), "care", "and", "skill", "and", "in", "a", word(rng, ADJ), "manner"]
    else:
        parts += ["to", "the", word(rng, ADJ), "satisfaction", "of", "the", word(rng, NOUNS)]
    for _ in range(rng.randint(0, 3)):
        parts.insert(4, rng.choice(("promptly", "at its own cost", "in writing", "without delay",
                                    "as soon as practicable", "where appropriate")))
    return " ".join(parts) + "."


class Unit:
    """A clause, heading or paragraph. `level` 0 = top clause, 1 = sub-clause, 2 = list item,
    3 = sub-item; -1 = un-numbered (preamble, headings, execution)."""
    _next = 0

    def __init__(self, kind, level, words, heading=None, section=0):
        Unit._next += 1
        self.id = Unit._next
        self.kind = kind          # clause, heading, paragraph, party, recital, schedule
        self.level = level
        self.words = words        # list of sentences (text with {ref:id} markers)
        self.heading = heading    # for top clauses: a title
        self.section = section    # 0 = main body, k = schedule k
        self.label = None

    def clone(self):
        u = Unit.__new__(Unit)
        u.__dict__.update(self.__dict__)
        u.words = list(self.words)
        return u


def make_contract(rng):
    units = []
    units.append(Unit("heading", -1, ["%s AGREEMENT" % rng.choice(("SERVICES", "SUPPLY", "LICENCE", "FRAMEWORK", "CONSULTANCY"))]))
    units.append(Unit("paragraph", -1, ["THIS AGREEMENT is dated %d %s 2026." % (rng.randint(1, 28), rng.choice(("January", "March", "June", "October")))]))
    units.append(Unit("heading", -1, ["PARTIES"]))
    for name in ("ACME LIMITED", "BETA SERVICES LLP"):
        units.append(Unit("party", 2, ["%s incorporated and registered in England and Wales with company number %08d whose registered office is at %d High Street, London (the \"%s\")." % (name, rng.randint(1, 10**8), rng.randint(1, 200), rng.choice(("Supplier", "Customer")))]))
    units.append(Unit("heading", -1, ["BACKGROUND"]))
    for _ in range(rng.randint(2, 3)):
        units.append(Unit("recital", 2, [sentence(rng, [])]))
    units.append(Unit("heading", -1, ["AGREED TERMS"]))
    body_ids = []     # top-level clauses: the targets of cross-references (never deleted)
    for h in rng.sample(HEADINGS, rng.randint(12, 20)):
        top = Unit("clause", 0, [], heading=h)
        units.append(top)
        body_ids.append(top.id)
        for _ in range(rng.randint(1, 5)):
            sub = Unit("clause", 1, [sentence(rng, body_ids) for _ in range(rng.randint(1, 3))])
            units.append(sub)
            if rng.random() < 0.25:
                sub.words[-1] = sub.words[-1].rstrip(".") + ":"
                n = rng.randint(2, 4)
                for k in range(n):
                    item = Unit("clause", 2, [sentence(rng, body_ids).rstrip(".") + (";" if k < n - 2 else "; and" if k == n - 2 else ".")])
                    units.append(item)
                    if rng.random() < 0.15:
                        item.words[-1] = item.words[-1].rstrip(";. and") + ":"
                        for m in range(2):
                            units.append(Unit("clause", 3, [sentence(rng, []).rstrip(".") + (";" if m == 0 else ".")]))
    for s in range(1, rng.randint(2, 3)):
        units.append(Unit("schedule", -1, [rng.choice(("Services", "Charges", "Service Levels", "Data Processing"))], section=s))
        for _ in range(rng.randint(2, 5)):
            units.append(Unit("clause", 0, [sentence(rng, []) for _ in range(rng.randint(1, 2))], section=s))
    units.append(Unit("paragraph", -1, ["This agreement has been entered into on the date stated at the beginning of it."]))
    units.append(Unit("signature", -1, ["Signed by %s for and on behalf of ACME LIMITED" % rng.choice(("John Smith", "Ann Jones"))]))
    units.append(Unit("signature", -1, ["Signed by %s for and on behalf of BETA SERVICES LLP" % rng.choice(("Raj Patel", "Li Wei"))]))
    for u in units:
        if u.kind == "schedule":
            u.section = u.section
    return units


def roman(n, upper=False):
    out = ""
    for v, r in ((100, "c"), (90, "xc"), (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= v:
            out += r
            n -= v
    return out.upper() if upper else out


SCHEMES = ("decimal", "article", "clause", "paren", "section")


class Layout:
    def __init__(self, rng):
        self.scheme = rng.choice(SCHEMES)
        self.width = rng.choice((0, 64, 72, 80))   # 0: one paragraph per line (as from a .docx)
        self.hanging = rng.random() < 0.6
        self.blank = self.width == 0 and rng.random() < 0.5 or self.width > 0 and rng.random() < 0.8
        self.schedule_style = rng.choice(("Schedule %d - %s", "SCHEDULE %d\n%S", "Annex %s - %s"))


def render(units, layout):
    """Numbers the units, renders the text, returns (text, start line per unit id, number per unit id)."""
    counters = [0, 0, 0, 0]
    party = recital = 0
    schedule = 0
    numbers = {}
    for u in units:
        if u.kind == "schedule":
            schedule += 1
            counters = [0, 0, 0, 0]
            numbers[u.id] = str(schedule)
        elif u.kind == "party":
            party += 1
            numbers[u.id] = "(%d)" % party
        elif u.kind == "recital":
            recital += 1
            numbers[u.id] = "(%s)" % chr(64 + recital)
        elif u.kind == "clause":
            lv = u.level
            counters[lv] += 1
            for k in range(lv + 1, 4):
                counters[k] = 0
            numbers[u.id] = label(layout.scheme if u.section == 0 else "decimal", counters, lv, u.section)
    ref_of = {}
    for u in units:
        if u.kind == "clause" and u.level <= 1 and u.section == 0:
            n = numbers[u.id]
            ref_of[u.id] = ref_core(n)
    lines = []
    starts = {}
    for u in units:
        starts[u.id] = len(lines)
        text = " ".join(u.words)
        while "{ref:" in text:
            a = text.index("{ref:")
            b = text.index("}", a)
            rid = int(text[a + 5:b])
            text = text[:a] + ref_of.get(rid, "1") + text[b + 1:]
        if u.kind == "schedule":
            style = layout.schedule_style
            tag = numbers[u.id] if not style.startswith("Annex") else chr(64 + int(numbers[u.id]))
            if "%S" in style:
                block = style.replace("%S", "%s") % (int(tag), text.upper())
            else:
                block = style % (int(tag) if tag.isdigit() else tag, text) if "%d" in style else style % (tag, text)
            lines += block.split("\n")
        elif u.kind in ("heading", "paragraph", "signature"):
            lines += wrap(text, layout.width, "", "")
        else:
            number = numbers[u.id]
            indent = "" if u.kind != "clause" or u.level < 2 else "    " * (u.level - 1)
            if u.kind == "clause" and u.level == 0 and u.heading and u.section == 0:
                head = number + " " + (u.heading.upper() if layout.scheme in ("decimal", "clause") else u.heading)
                lines += [indent + head]
                continue_text = text
                if continue_text:
                    lines += wrap(continue_text, layout.width, indent, indent)
            else:
                first = indent + number + " "
                rest = " " * len(first) if layout.hanging else indent
                lines += wrap(text, layout.width, first, rest)
        if layout.blank:
            lines.append("")
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n", starts, numbers


def ref_core(n):
    core = n.split(" ")[-1].rstrip(".:")
    return core


def label(scheme, c, lv, section):
    if scheme == "decimal" or section:
        return ["%d." % c[0], "%d.%d" % (c[0], c[1]), "(%s)" % chr(96 + c[2]), "(%s)" % roman(c[3])][lv]
    if scheme == "article":
        return ["ARTICLE %s" % roman(c[0], True), "Section %d.%d" % (c[0], c[1]), "(%s)" % chr(96 + c[2]), "(%s)" % roman(c[3])][lv]
    if scheme == "clause":
        return ["Clause %d" % c[0], "%d.%d" % (c[0], c[1]), "(%s)" % chr(96 + c[2]), "(%s)" % roman(c[3])][lv]
    if scheme == "paren":
        return ["%d." % c[0], "%d.%d." % (c[0], c[1]), "%s)" % chr(96 + c[2]), "(%s)" % roman(c[3])][lv]
    return ["§ %d" % c[0], "(%d)" % c[1], "%s)" % chr(96 + c[2]), "(%s)" % roman(c[3])][lv]


def wrap(text, width, first, rest):
    if width == 0:
        return [first + text]
    out = []
    line = first
    bare = True
    for w in text.split(" "):
        if not bare and len(line) + 1 + len(w) > width:
            out.append(line)
            line = rest + w
        else:
            line = line + ("" if bare else " ") + w
        bare = False
    out.append(line)
    return out


def edit_words(rng, u):
    """One to three word edits in one sentence of `u`; returns False when nothing changed."""
    k = rng.randrange(len(u.words))
    words = u.words[k].split(" ")
    for _ in range(rng.randint(1, 3)):
        r = rng.random()
        pos = rng.randrange(1, max(2, len(words) - 1))
        if "{ref:" in words[pos] or "(" in words[pos]:
            continue
        if r < 0.4:
            words[pos] = rng.choice(EDIT_WORDS)
        elif r < 0.7:
            words.insert(pos, rng.choice(EDIT_WORDS))
        elif len(words) > 6:
            del words[pos]
    new = " ".join(words)
    if new == u.words[k]:
        return False
    u.words[k] = new
    return True


def make_pair(rng):
    """Returns (old text, new text, truth) where truth labels every unit of both versions."""
    old = make_contract(rng)
    new = [u.clone() for u in old]
    label_of = {u.id: "unchanged" for u in old}
    moved_blocks = []
    body = [i for i, u in enumerate(new) if u.kind == "clause" and u.section == 0]
    # Moves of 1-4 consecutive units at one level (sub-clauses or list items within a clause, or
    # whole sub-clauses to another clause), moved past more units than they hold.
    for _ in range(rng.randint(0, 2)):
        subs = [i for i, u in enumerate(new) if u.kind == "clause" and u.level == 1 and u.section == 0]
        if len(subs) < 12:
            break
        start = rng.randrange(len(subs) - 4)
        size = rng.randint(1, 4)
        block_idx = []
        i = subs[start]
        # a block: consecutive level-1 units with their items
        while len([b for b in block_idx if new[b].level == 1]) < size and i < len(new) and new[i].kind == "clause" and new[i].section == 0 and new[i].level >= 1:
            block_idx.append(i)
            i += 1
        if not block_idx or any(new[b].id in {x for blk in moved_blocks for x in blk} for b in block_idx):
            continue
        block = new[block_idx[0]:block_idx[-1] + 1]
        rest = new[:block_idx[0]] + new[block_idx[-1] + 1:]
        inside = {i for b in moved_blocks for i in b[1:]}
        targets = [k for k, u in enumerate(rest) if u.kind == "clause" and u.level == 1 and u.section == 0
                   and abs(k - block_idx[0]) > len(block) + 3 and u.id not in inside]
        if not targets:
            continue
        t = rng.choice(targets)
        new = rest[:t] + block + rest[t:]
        moved_blocks.append([u.id for u in block])
    # Word edits, deletions, additions.
    ids = [u.id for u in new if u.kind in ("clause", "recital", "party", "paragraph") and u.words]
    rng.shuffle(ids)
    edited = set(ids[:max(1, len(ids) // 12)])
    deleted = set(i for i in ids[len(ids) // 12: len(ids) // 12 + max(1, len(ids) // 25)]
                  if not any(i in b for b in moved_blocks))
    by_id = {u.id: u for u in new}
    for i in edited:
        if edit_words(rng, by_id[i]):
            label_of[i] = "changed"
    # a deleted clause takes its items with it
    out = []
    skip_level = None
    for u in new:
        if skip_level is not None and u.kind == "clause" and u.level > skip_level:
            label_of[u.id] = "deleted"
            continue
        skip_level = None
        if u.id in deleted and not (u.kind == "clause" and u.level == 0):
            label_of[u.id] = "deleted"
            if u.kind == "clause":
                skip_level = u.level
            continue
        out.append(u)
    new = out
    added = []
    for _ in range(rng.randint(1, 4)):
        inside = {i for b in moved_blocks for i in b[1:]}
        cands = [k for k, u in enumerate(new) if u.kind == "clause" and u.level == 1 and u.section == 0 and u.id not in inside]
        k = rng.choice(cands)
        u = Unit("clause", 1, [sentence(rng, []) for _ in range(rng.randint(1, 2))])
        new.insert(k, u)
        added.append(u.id)
    if rng.random() < 0.3:   # a new schedule at the end
        k = max(i for i, u in enumerate(new) if u.section > 0) + 1
        sch = Unit("schedule", -1, ["Exit Management"], section=9)
        items = [Unit("clause", 0, [sentence(rng, [])], section=9) for _ in range(2)]
        new[k:k] = [sch] + items
        added += [sch.id] + [x.id for x in items]
    old_layout = Layout(rng)
    new_layout = Layout(rng) if rng.random() < 0.3 else old_layout
    if new_layout is not old_layout:
        new_layout.scheme = old_layout.scheme
        new_layout.schedule_style = old_layout.schedule_style
        new_layout.blank = old_layout.blank
    if rng.random() < 0.4 and old_layout.width:          # re-wrapping alone
        new_layout = Layout(rng)
        new_layout.__dict__.update(old_layout.__dict__)
        new_layout.width = rng.choice([w for w in (64, 72, 80) if w != old_layout.width])
        rewrapped = True
    else:
        rewrapped = new_layout.width != old_layout.width
    old_text, old_starts, old_numbers = render(old, old_layout)
    new_text, new_starts, new_numbers = render(new, new_layout)
    new_ids = {u.id for u in new}
    truth = {"old": [], "new": [], "moves": moved_blocks, "rewrapped": rewrapped, "scheme": old_layout.scheme}
    for u in old:
        lab = label_of[u.id]
        if u.id in new_ids and lab == "unchanged" and old_numbers.get(u.id) != new_numbers.get(u.id):
            lab = "renumbered"
        if u.id not in new_ids:
            lab = "deleted"
        truth["old"].append({"id": u.id, "line": old_starts[u.id], "label": lab})
    for u in new:
        if u.id in added:
            lab = "added"
        else:
            lab = label_of[u.id]
            if lab == "unchanged" and old_numbers.get(u.id) != new_numbers.get(u.id):
                lab = "renumbered"
        truth["new"].append({"id": u.id, "line": new_starts[u.id], "label": lab})
    return old_text, new_text, truth
