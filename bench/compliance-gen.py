#!/usr/bin/env python3
"""Generates a labelled corpus of realistic documents for bench/compliance.sh.

Each line of the output is {"kind", "text", "entities": [{"type", "start", "end"}]} with offsets in
Unicode code points (Python string indices), end exclusive. The documents are e-mails, contracts,
support tickets, HR notes and chats holding the eight entity types in many written forms, and
hard negatives that look like them: order numbers, version strings, timestamps, ISBNs, masked
cards, bad checksums, dates that are not birth dates, amounts and file names.
Usage: compliance-gen.py SEED COUNT OUT.jsonl
"""
import json, random, sys

rng = random.Random(int(sys.argv[1]))
COUNT = int(sys.argv[2])

FIRST = ["Anna", "Jürgen", "Chloé", "Marcus", "Priya", "Olu", "Sofia", "Liam", "Mei", "Tomás", "Fatima", "Henrik", "Zoë", "Ravi"]
LAST = ["Schmidt", "Dubois", "O'Neill", "Kowalski", "Nakamura", "García", "Okafor", "Svensson", "Rossi", "Patel", "Müller"]
DOMAINS = ["example.com", "acme-corp.co.uk", "mail.example.org", "firma.de", "société.fr".replace("é", "e"), "contoso.io", "uni-heidelberg.de", "gmail.com"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]

def luhn_complete(prefix, length):
    digits = [int(c) for c in prefix]
    while len(digits) < length - 1:
        digits.append(rng.randrange(10))
    for check in range(10):
        total = 0
        for i, d in enumerate(reversed(digits + [check])):
            if i % 2 == 1:
                d *= 2
                if d > 9: d -= 9
            total += d
        if total % 10 == 0:
            return "".join(map(str, digits + [check]))

def card():
    kind = rng.choice(["visa", "mc5", "mc2", "amex", "disc", "jcb", "visa"])
    if kind == "visa": n = luhn_complete("4", 16)
    elif kind == "mc5": n = luhn_complete(str(rng.randint(51, 55)), 16)
    elif kind == "mc2": n = luhn_complete(str(rng.randint(2221, 2720)), 16)
    elif kind == "amex": n = luhn_complete(rng.choice(["34", "37"]), 15)
    elif kind == "disc": n = luhn_complete("6011", 16)
    else: n = luhn_complete(str(rng.randint(3528, 3589)), 16)
    style = rng.choice(["space", "dash", "plain", "space"])
    if len(n) == 15: groups = [n[:4], n[4:10], n[10:]]
    else: groups = [n[i:i + 4] for i in range(0, len(n), 4)]
    return {"space": " ".join(groups), "dash": "-".join(groups), "plain": n}[style]

def bad_card():
    n = luhn_complete("4", 16)
    n = n[:-1] + str((int(n[-1]) + rng.randint(1, 9)) % 10)
    return " ".join(n[i:i + 4] for i in range(0, 16, 4))

def masked_card():
    return rng.choice(["**** **** **** ", "XXXX-XXXX-XXXX-", "4111 XXXX XXXX "]) + str(rng.randint(1000, 9999))

def ssn():
    while True:
        a = rng.randint(1, 899)
        if a != 666: break
    s = f"{a:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
    r = rng.random()
    return s if r < 0.7 else (s.replace("-", " ") if r < 0.85 else s.replace("-", ""))

def iban():
    country, length = rng.choice([("DE", 22), ("GB", 22), ("FR", 27), ("NL", 18), ("ES", 24), ("IT", 27), ("BE", 16), ("CH", 21), ("AT", 20),
                                  ("PL", 28), ("SE", 24), ("NO", 15), ("DK", 18), ("IE", 22), ("PT", 25), ("LU", 20)])
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if country == "IE": bban = "".join(rng.choice(letters) for _ in range(4)) + "".join(str(rng.randrange(10)) for _ in range(14))
    elif country == "GB": bban = "".join(rng.choice(letters) for _ in range(4)) + "".join(str(rng.randrange(10)) for _ in range(14))
    elif country == "NL": bban = "".join(rng.choice(letters) for _ in range(4)) + "".join(str(rng.randrange(10)) for _ in range(10))
    elif country == "IT": bban = rng.choice(letters) + "".join(str(rng.randrange(10)) for _ in range(22))
    else: bban = "".join(str(rng.randrange(10)) for _ in range(length - 4))
    rearranged = bban + country + "00"
    num = int("".join(str(int(c, 36)) for c in rearranged))
    check = 98 - num % 97
    value = f"{country}{check:02d}{bban}"
    if rng.random() < 0.6: value = " ".join(value[i:i + 4] for i in range(0, len(value), 4))
    return value

def bad_iban():
    v = iban().replace(" ", "")
    return v[:4] + ("1" if v[4] != "1" else "2") + v[5:]

def phone():
    form = rng.randrange(9)
    a, e, l = rng.randint(201, 989), rng.randint(200, 989), rng.randint(0, 9999)
    if str(a)[1:] == "11": a += 1
    if str(e)[1:] == "11": e += 1
    if form == 0: return f"({a}) {e}-{l:04d}"
    if form == 1: return f"{a}-{e}-{l:04d}"
    if form == 2: return f"+1 {a} {e} {l:04d}"
    if form == 3: return f"+44 20 {rng.randint(7000, 8999)} {rng.randint(1000, 9999)}"
    if form == 4: return f"07{rng.randint(100, 999)} {rng.randint(100000, 999999)}"
    if form == 5: return f"+49 30 {rng.randint(1000000, 99999999)}"
    if form == 6: return "0" + str(rng.randint(1, 7)) + " " + " ".join(f"{rng.randint(0, 99):02d}" for _ in range(4))
    if form == 7: return f"+33 6 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
    return f"{a}.{e}.{l:04d}"

def ipv4():
    return f"{rng.choice([10, 172, 192, 84, 203, 81])}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"

def ipv6():
    groups = [f"{rng.randint(0, 65535):x}" for _ in range(8)]
    if rng.random() < 0.5: return "2001:db8::" + groups[0]
    return ":".join(groups)

def email(first, last):
    local = rng.choice([f"{first}.{last}", f"{first[0]}{last}", f"{first}_{rng.randint(1, 99)}", f"{last}+news", f"{first}.{last}"]).lower()
    local = local.replace("'", "")
    if rng.random() < 0.8:  # most addresses are ASCII; some keep the name's letters (RFC 6531)
        local = local.replace("ü", "ue").replace("é", "e").replace("ö", "oe").replace("ë", "e").replace("á", "a").replace("í", "i")
    address = f"{local}@{rng.choice(DOMAINS)}"
    return address.upper() if rng.random() < 0.05 else address

def url():
    return rng.choice([f"https://www.{rng.choice(DOMAINS)}/account/{rng.randint(100, 999)}?ref=mail",
                       f"http://{rng.choice(DOMAINS)}/docs/privacy", f"www.{rng.choice(DOMAINS)}",
                       f"https://portal.{rng.choice(DOMAINS)}/tickets/{rng.randint(1000, 9999)}"])

def dob():
    y, m, d = rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice([f"{d:02d}/{m:02d}/{y}", f"{y}-{m:02d}-{d:02d}", f"{d} {MONTHS[m - 1]} {y}", f"{MONTHS[m - 1]} {d}, {y}", f"{d:02d}.{m:02d}.{y}"])

def other_date():
    return f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(2019, 2026)}"

class Doc:
    def __init__(self): self.parts, self.entities, self.length = [], [], 0
    def add(self, text, kind=None):
        if kind: self.entities.append({"type": kind, "start": self.length, "end": self.length + len(text)})
        self.parts.append(text); self.length += len(text)
    def text(self): return "".join(self.parts)

def negatives(doc):
    choice = rng.randrange(14)
    if choice == 0: doc.add(f"Order #{rng.randint(10**8, 10**9)} shipped on {other_date()}. ")
    elif choice == 1: doc.add(f"Upgraded the agent to version {rng.randint(1, 12)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 99)} last night. ")
    elif choice == 2: doc.add(f"Logged at 2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}. ")
    elif choice == 3: doc.add(f"See ISBN 978-3-16-148410-0 for the reference text. ")
    elif choice == 4: doc.add(f"Card on file: {masked_card()}. ")
    elif choice == 5: doc.add(f"The card {bad_card()} was declined (typo). ")
    elif choice == 6: doc.add(f"Invoice total: ${rng.randint(1, 99)},{rng.randint(100, 999)}.{rng.randint(10, 99)} due {other_date()}. ")
    elif choice == 7: doc.add(f"Tracking number 1Z{rng.randint(10**9, 10**10)} and reference {rng.randint(10**11, 10**12)}. ")
    elif choice == 8: doc.add(f"Attached report_{rng.randint(2019, 2025)}.pdf and see section 4.2.1.3 of the policy. ")
    elif choice == 9: doc.add(f"IBAN {bad_iban()} was rejected by the bank. ")
    elif choice == 10: doc.add(f"Ship to 1600 Main St, Springfield, IL {rng.randint(10000, 99999)}-{rng.randint(1000, 9999)}. ")
    elif choice == 11: doc.add(f"Case {rng.randint(100, 999)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)} was escalated to tier 2. ")
    elif choice == 12: doc.add(f"Reply to noreply@localhost or the @support handle; see docs/guide.md. ")
    else: doc.add(f"Meeting moved to {rng.choice(MONTHS)} {rng.randint(1, 28)}, {rng.randint(2024, 2026)} at 10:30. ")

def email_doc():
    f, l = rng.choice(FIRST), rng.choice(LAST)
    d = Doc()
    d.add(f"From: {f} {l} <"); d.add(email(f, l), "EMAIL"); d.add(">\nSubject: Account update\n\nHi team,\n\nplease update my details. My new mobile is ")
    d.add(phone(), "PHONE"); d.add(" and my bank account is "); d.add(iban(), "IBAN"); d.add(".\n")
    negatives(d)
    d.add("The login came from "); d.add(ipv4(), "IP_ADDRESS"); d.add(" yesterday. Details: "); d.add(url(), "URL"); d.add("\n")
    negatives(d)
    d.add(f"\nBest,\n{f}\nTel. "); d.add(phone(), "PHONE"); d.add("\n")
    return d

def contract_doc():
    f, l = rng.choice(FIRST), rng.choice(LAST)
    d = Doc()
    d.add(f"EMPLOYMENT AGREEMENT\n\n1. Parties\nThis agreement is made between Acme Ltd and {f} {l}, born on "); d.add(dob(), "DATE_OF_BIRTH")
    d.add(f", residing in Berlin (e-mail: "); d.add(email(f, l), "EMAIL"); d.add(").\n2. Salary\nThe salary is paid to account ")
    d.add(iban(), "IBAN"); d.add(" on the last working day.\n3. Term\nThis agreement starts on "); d.add(other_date()); d.add(" and may be terminated with 30 days' notice.\n")
    negatives(d)
    d.add("4. Social security\nEmployee SSN: "); d.add(ssn(), "US_SSN"); d.add("\n5. Notices\nNotices go to "); d.add(url(), "URL"); d.add(".\n")
    negatives(d)
    return d

def ticket_doc():
    d = Doc()
    d.add(f"Ticket #{rng.randint(10000, 99999)} — payment failed\nCustomer reports the card "); d.add(card(), "CREDIT_CARD")
    d.add(" was charged twice. Callback number: "); d.add(phone(), "PHONE"); d.add(". Requests came from ")
    d.add(ipv6() if rng.random() < 0.5 else ipv4(), "IP_ADDRESS"); d.add(" and server 10.0.0.1 answered.\n".replace("10.0.0.1", "") if False else ".\n")
    negatives(d)
    d.add("Customer e-mail: "); d.add(email(rng.choice(FIRST), rng.choice(LAST)), "EMAIL"); d.add("\n")
    negatives(d)
    return d

def hr_doc():
    f, l = rng.choice(FIRST), rng.choice(LAST)
    d = Doc()
    d.add(f"HR note about {f} {l}\nDOB: "); d.add(dob(), "DATE_OF_BIRTH"); d.add("\nSSN "); d.add(ssn(), "US_SSN")
    d.add(f"\nEmergency contact phone "); d.add(phone(), "PHONE"); d.add(f"\nReview meeting held on {other_date()}.\n")
    negatives(d)
    d.add("Date of birth confirmed as "); d.add(dob(), "DATE_OF_BIRTH"); d.add(" from the passport copy.\n")
    negatives(d)
    return d

def chat_doc():
    f = rng.choice(FIRST)
    d = Doc()
    d.add(f"[{rng.randint(8, 18)}:{rng.randint(10, 59)}] {f}: hey can u call me at "); d.add(phone(), "PHONE"); d.add(" later?\n")
    d.add(f"[{rng.randint(8, 18)}:{rng.randint(10, 59)}] bot: sure, also pls send card details\n")
    d.add(f"[{rng.randint(8, 18)}:{rng.randint(10, 59)}] {f}: ok its "); d.add(card(), "CREDIT_CARD"); d.add(" exp 04/27\n")
    d.add(f"[{rng.randint(8, 18)}:{rng.randint(10, 59)}] {f}: my birthday is "); d.add(dob(), "DATE_OF_BIRTH"); d.add(" btw, link: "); d.add(url(), "URL"); d.add("\n")
    negatives(d)
    return d

KINDS = [("email", email_doc), ("contract", contract_doc), ("ticket", ticket_doc), ("hr", hr_doc), ("chat", chat_doc)]
with open(sys.argv[3], "w", encoding="utf-8") as out:
    for n in range(COUNT):
        kind, make = KINDS[n % len(KINDS)]
        doc = make()
        out.write(json.dumps({"kind": kind, "text": doc.text(), "entities": doc.entities}, ensure_ascii=False) + "\n")
