#!/usr/bin/env bash
# Voice recognition benchmark: the voice engine (grammar + phone-loop rejection) side by side with plain
# `pocketsphinx_continuous -jsgf` on the same espeak-ng clips, the same JSGF grammar and the same dictionary.
# Usage: bench/voice.sh
# Makes 64 in-grammar clips (4 voices, 3 speeds, every intent and slot value), 24 out-of-grammar clips
# (sentences near to and far from the intents), 20 held-out out-of-grammar clips (other sentences, 5 other voices
# and speeds: the rejection thresholds were not tuned on them) and 8 kHz copies of 32 in-grammar clips, then prints intent accuracy, exact-slot accuracy,
# false accepts and the real-time factor (decode CPU time / audio time, p50 and p95) for both decoders.
# Targets (engine): >= 95% right intent and slots, 0 false accepts, RTF p95 < 0.1, and ahead of the plain
# decoder on every figure; a missed target exits 3. Exit 1 when the work did not happen (no clips, a decoder
# failed), with no figures printed.
# Environment: PLEXUS_BIN_DIR (a directory holding voice-bench; default: a release build of this checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v espeak-ng >/dev/null || { echo "voice.sh: espeak-ng is missing (scripts/install-deps.sh --bench)" >&2; exit 1; }
command -v pocketsphinx_continuous >/dev/null || { echo "voice.sh: pocketsphinx_continuous is missing (scripts/install-deps.sh --bench)" >&2; exit 1; }
if [ -n "${PLEXUS_BIN_DIR:-}" ]; then
    BIN="$PLEXUS_BIN_DIR/voice-bench"
else
    swift build -c release --product voice-bench >&2
    BIN="$(swift build -c release --show-bin-path)/voice-bench"
fi
[ -x "$BIN" ] || { echo "voice.sh: $BIN is missing" >&2; exit 1; }
MODEL=/usr/share/pocketsphinx/model/en-us
WORK="$(mktemp -d)"
[ -n "${VOICE_BENCH_KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT

# The intents (shared with bench/voice-sets.py).
cp bench/fixtures/voice-intents.json "$WORK/intents.json"

# Clip list: file|voice|speed|text|expected intent|expected slots
python3 - "$WORK" > "$WORK/clips.txt" <<'PY'
import itertools, sys
docs = ["the lease", "the offer letter", "the contract"]
customers = ["acme", "globex", "initech", "umbrella"]
inside = []
for a, b in itertools.permutations(docs, 2):
    for w in ["with", "and"]:
        inside.append((f"compare {a} {w} {b}", "compare_documents", f"document={a};document={b}"))
    inside.append((f"show me the differences between {a} and {b}", "compare_documents", f"document={a};document={b}"))
    inside.append((f"tell me the changes between {a} and {b}", "compare_documents", f"document={a};document={b}"))
    inside.append((f"show me the changes between {a} and {b}", "compare_documents", f"document={a};document={b}"))
    inside.append((f"tell me the differences between {a} and {b}", "compare_documents", f"document={a};document={b}"))
for c in customers:
    for v in ["open a ticket for", "create a new ticket for", "open a new ticket for", "create a ticket for"]:
        inside.append((f"{v} {c}", "open_ticket", f"customer={c}"))
    inside.append((f"call {c}", "call_customer", f"customer={c}"))
    inside.append((f"call {c} now", "call_customer", f"customer={c}"))
inside += [("what is the weather today", "weather", "-"), ("what is the weather like today", "weather", "-")] * 2
outside = ["please book a flight to paris tomorrow morning", "the quick brown fox jumps over the lazy dog",
           "compare my shoes with your hat", "open the door for the cat", "tell me a joke about the weather",
           "what time is it in london", "create a new playlist for the party", "show me the pictures from last summer",
           "i would like a cup of coffee", "turn off the lights in the kitchen", "how tall is the eiffel tower",
           "send an email to my manager", "close the window please", "what is the capital of france",
           "remind me to buy milk", "play some jazz music", "call me a taxi", "compare prices for the new phone",
           "open a bank account", "the weather was lovely yesterday", "set an alarm for seven", "who won the game last night",
           "read me the news", "cancel my meeting with the team"]
# Held out: sentences, voices and speeds the rejection thresholds were not tuned on.
heldout = ["could you order a pizza with extra cheese", "my favourite colour is green", "compare the two cars for me",
           "open a window in the living room", "create a shopping list for the weekend", "call my mother tonight",
           "show me the menu", "tell me the story of the three bears", "how much does a ticket cost", "book a table for four",
           "where did i park the car", "give me directions to the airport", "translate hello into german",
           "create an account for the new employee", "print the invoice for the customer", "open a ticket",
           "schedule a call with the lawyer", "lock the front door", "turn up the volume", "how old is the universe"]
voices = ["en-us", "en", "en-us+f3", "en+m3"]
speeds = [140, 170, 200]
for i, (text, intent, slots) in enumerate(inside):
    print(f"in{i:03d}|{voices[i % 4]}|{speeds[(i // 4) % 3]}|{text}|{intent}|{slots}")
for i, text in enumerate(outside):
    print(f"out{i:03d}|{voices[i % 4]}|{speeds[i % 3]}|{text}|-|-")
held_voices = ["en-gb-x-rp+f4", "en-029", "en-gb-scotland+m5", "en-us+klatt4", "en-gb-x-gbclan+f5"]
for i, text in enumerate(heldout):
    print(f"hold{i:03d}|{held_voices[i % 5]}|{[130, 185, 225][i % 3]}|{text}|-|-")
PY
IN=$(grep -c '^in' "$WORK/clips.txt"); OUT=$(grep -c '^out' "$WORK/clips.txt")
[ "$IN" -ge 60 ] && [ "$OUT" -ge 20 ] || { echo "voice.sh: only $IN/$OUT clips planned" >&2; exit 1; }

while IFS='|' read -r name voice speed text _; do
    espeak-ng -v "$voice" -s "$speed" -w "$WORK/$name.wav" "$text"
    "$BIN" --to16k "$WORK/$name.wav" "$WORK/$name.16k.wav"
done < "$WORK/clips.txt"
# Telephone audio: every other in-grammar clip at 8 kHz (soxr), as tel* clips; the plain decoder gets a soxr 16 kHz copy.
grep '^in' "$WORK/clips.txt" | awk 'NR % 2 == 1' | sed 's/^in/tel/' >> "$WORK/clips.txt"
while IFS='|' read -r name _; do
    "$BIN" --to8k "$WORK/in${name#tel}.wav" "$WORK/$name.wav"
    "$BIN" --to16k "$WORK/$name.wav" "$WORK/$name.16k.wav"
done < <(grep '^tel' "$WORK/clips.txt")

"$BIN" --jsgf "$WORK/intents.json" > "$WORK/grammar.jsgf"
{ cat "$MODEL/cmudict-en-us.dict"; "$BIN" --dict "$WORK/intents.json"; } > "$WORK/full.dict"

# The engine: one process, model loaded once, 22.05 kHz clips converted inside (conversion counted in the CPU time).
"$BIN" "$WORK/intents.json" $(cut -d'|' -f1 "$WORK/clips.txt" | sed "s|.*|$WORK/&.wav|") > "$WORK/engine.tsv"

# The plain decoder: same grammar and dictionary, the 16 kHz copies; its own "TOTAL ... xRT" CPU figure per clip.
: > "$WORK/plain.tsv"
while IFS='|' read -r name _; do
    hyp=$(pocketsphinx_continuous -hmm "$MODEL/en-us" -dict "$WORK/full.dict" -jsgf "$WORK/grammar.jsgf" \
          -infile "$WORK/$name.16k.wav" -logfn "$WORK/$name.log" | tr '\n' ' ' | sed 's/ *$//')
    xrt=$(grep -o 'TOTAL fsg [0-9.]* CPU [0-9.]* xRT' "$WORK/$name.log" | tail -1 | awk '{print $5}')
    [ -n "$xrt" ] || { echo "voice.sh: pocketsphinx_continuous printed no timing for $name" >&2; exit 1; }
    parsed=$(printf '%s\n' "$hyp" | "$BIN" --parse "$WORK/intents.json" | head -1)
    printf '%s\t%s\t%s\t%s\n' "$name" "$parsed" "$xrt" "$hyp" >> "$WORK/plain.tsv"
done < "$WORK/clips.txt"

python3 - "$WORK" <<'PY'
import sys, statistics
work = sys.argv[1]
clips = [l.rstrip("\n").split("|") for l in open(f"{work}/clips.txt")]
expected = {c[0]: (c[4], c[5]) for c in clips}
engine, plain = {}, {}
for line in open(f"{work}/engine.tsv"):
    f = line.rstrip("\n").split("\t")
    name = f[0].rsplit("/", 1)[1][:-4]
    engine[name] = (f[1], f[2], float(f[6]) / 1000 / float(f[5]), f[7] if len(f) > 7 else "")
for line in open(f"{work}/plain.tsv"):
    f = line.rstrip("\n").split("\t")
    plain[f[0]] = (f[1], f[2], float(f[3]), f[4] if len(f) > 4 else "")
if len(engine) != len(expected) or len(plain) != len(expected):
    print(f"voice.sh: {len(engine)} engine and {len(plain)} plain results for {len(expected)} clips", file=sys.stderr); sys.exit(1)
def figures(results):
    ins = [n for n in expected if n.startswith("in")]; outs = [n for n in expected if n.startswith("out")]
    tels = [n for n in expected if n.startswith("tel")]; holds = [n for n in expected if n.startswith("hold")]
    intent_ok = sum(results[n][0] == expected[n][0] for n in ins)
    slots_ok = sum(results[n][0] == expected[n][0] and results[n][1] == expected[n][1] for n in ins)
    tel_ok = sum(results[n][0] == expected[n][0] and results[n][1] == expected[n][1] for n in tels)
    false_accepts = sum(results[n][0] != "-" for n in outs)
    held_accepts = sum(results[n][0] != "-" for n in holds)
    rtf = sorted(results[n][2] for n in ins + outs)
    p = lambda q: rtf[min(len(rtf) - 1, int(q * len(rtf)))]
    return dict(ins=len(ins), outs=len(outs), tels=len(tels), holds=len(holds), intent=intent_ok / len(ins), slots=slots_ok / len(ins),
                tel=tel_ok / len(tels), fa=false_accepts, hfa=held_accepts, p50=p(0.5), p95=p(0.95))
e, b = figures(engine), figures(plain)
print(f"clips: {e['ins']} in-grammar, {e['outs']} out-of-grammar (espeak-ng, 4 voices, 140-200 wpm); "
      f"{e['tels']} of the in-grammar clips again at 8 kHz; {e['holds']} held-out out-of-grammar clips (5 other voices, 130-225 wpm)")
print(f"{'figure':<30}{'engine':>12}{'plain -jsgf':>14}")
print(f"{'intent accuracy':<30}{e['intent']:>12.1%}{b['intent']:>14.1%}")
print(f"{'exact-slot accuracy':<30}{e['slots']:>12.1%}{b['slots']:>14.1%}")
print(f"{'false accepts':<30}{e['fa']:>12d}{b['fa']:>14d}")
print(f"{'RTF p50 (CPU)':<30}{e['p50']:>12.4f}{b['p50']:>14.4f}")
print(f"{'RTF p95 (CPU)':<30}{e['p95']:>12.4f}{b['p95']:>14.4f}")
print(f"{'8 kHz exact-slot accuracy':<30}{e['tel']:>12.1%}{b['tel']:>14.1%}")
print(f"{'held-out false accepts':<30}{e['hfa']:>12d}{b['hfa']:>14d}")
print(f"RTF ratio engine/plain p50: {e['p50'] / max(b['p50'], 1e-9):.2f} (the engine: conversion, checked-grammar pass, phone-loop pass, and a plain-grammar pass when the checked path fails the score checks; "
      f"plain: its own search timer)")
for n in sorted(expected):
    r = engine[n]
    if (n[:3] in ("in0", "tel") and (r[0], r[1]) != expected[n]) or (n[:3] in ("out", "hol") and r[0] != "-"):
        print(f"  engine miss {n}: expected {expected[n][0]} {expected[n][1]}, got {r[0]} {r[1]} ('{r[3]}')")
missed = []
if e["slots"] < 0.95: missed.append(f"exact-slot accuracy {e['slots']:.1%} < 95%")
if e["fa"] + e["hfa"] > 0: missed.append(f"{e['fa'] + e['hfa']} false accepts")
if e["p95"] >= 0.1: missed.append(f"RTF p95 {e['p95']:.3f} >= 0.1")
if e["slots"] < b["slots"] or e["fa"] + e["hfa"] > b["fa"] + b["hfa"] or e["tel"] < b["tel"]:
    missed.append("not ahead of the plain decoder on accuracy/false accepts")
if e["p50"] > b["p50"]: missed.append(f"RTF p50 {e['p50']:.3f} above the plain decoder's {b['p50']:.3f}")
if missed:
    print("TARGET MISSED: " + "; ".join(missed)); sys.exit(3)
print("all targets met")
PY
