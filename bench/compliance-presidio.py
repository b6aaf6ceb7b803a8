#!/usr/bin/env python3
"""Runs Microsoft Presidio's pattern recognisers over a corpus for bench/compliance.sh.

Presidio's AnalyzerEngine needs a spaCy language model for its NLP engine (tokens and lemmas
for context words); no model is installed here, so each predefined recogniser of the eight
entity types is called directly with `nlp_artifacts=None`: the regular expressions, their
validators (Luhn, IBAN checksum, phonenumbers, tldextract) and scores, without context-word
enhancement. Overlapping results are settled with Presidio's own remove_duplicates.
Usage: compliance-presidio.py CORPUS.jsonl PREDICTIONS.jsonl  (prints cpu_seconds and bytes)
"""
import json, logging, os, sys, time
# bench/ holds http.py (the HTTP benchmark's helper), which would shadow the standard library's http.
here = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != here]
logging.disable(logging.CRITICAL)
from presidio_analyzer import EntityRecognizer
from presidio_analyzer.predefined_recognizers import (CreditCardRecognizer, DateRecognizer, EmailRecognizer, IbanRecognizer,
                                                      IpRecognizer, PhoneRecognizer, UrlRecognizer, UsSsnRecognizer)

NAMES = {"EMAIL_ADDRESS": "EMAIL", "PHONE_NUMBER": "PHONE", "DATE_TIME": "DATE_OF_BIRTH", "URL": "URL", "US_SSN": "US_SSN",
         "IP_ADDRESS": "IP_ADDRESS", "IBAN_CODE": "IBAN", "CREDIT_CARD": "CREDIT_CARD"}
recognizers = [EmailRecognizer(), PhoneRecognizer(supported_regions=("US", "GB", "DE", "FR", "CA", "IL", "IN", "BR")), DateRecognizer(),
               UrlRecognizer(), UsSsnRecognizer(), IpRecognizer(), IbanRecognizer(), CreditCardRecognizer()]

def analyze(text):
    results = []
    for recognizer in recognizers:
        results.extend(recognizer.analyze(text, recognizer.supported_entities, None))
    return EntityRecognizer.remove_duplicates(results)

docs = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
analyze("warm-up john@example.com +1 212 555 0100")
begin = time.process_time()
outputs = [analyze(doc["text"]) for doc in docs]
elapsed = time.process_time() - begin
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for results in outputs:
        entities = [{"type": NAMES[r.entity_type], "start": r.start, "end": r.end, "score": r.score} for r in results if r.entity_type in NAMES]
        out.write(json.dumps({"entities": entities}) + "\n")
total = sum(len(doc["text"].encode("utf-8")) for doc in docs)
print(f"documents={len(docs)} bytes={total} cpu_seconds={elapsed:.3f} mb_per_s={total / elapsed / 1e6:.4f}")
