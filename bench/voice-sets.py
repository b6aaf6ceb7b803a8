#!/usr/bin/env python3
"""Tuning and held-out clip sets for the voice engine (Plugins/Voice/README.md, "Recognition").

  bench/voice-sets.py make DIR            writes DIR/intents.json, DIR/manifest.tsv and DIR/<set>/<clip>.wav
  bench/voice-sets.py score DIR OUT.tsv   counts, per set, right intent and slots / false accepts from
                                          voice-bench's output over the clips of DIR

Sets (the bench's intents): A (tuning: 60 in-grammar, 34 out-of-grammar; espeak-ng en-us, en-gb, en-us+m3,
en-us+f2; 140/175/210 wpm; clean or 20 dB SNR; 0.3 s of silence around), S (tuning: 16 short "call X" clips,
12 "call ..." sentences; A's voices, no padding), B (held out: other sentences; espeak-ng en-gb-x-rp+f4, en-029,
en-gb-scotland+m5, en-us+klatt4, en-gb-x-gbclan+f5, en-us+Andy; 125-230 wpm; pitch 30/50/75; clean, 25, 15,
10 dB SNR), C (held out: flite slt, rms, awb, kal16; 0.8/1.0/1.25 x duration; clean, 20 or 10 dB SNR) and P
(20 out-of-grammar probes near the weather and call intents). Noise is white, from a fixed seed, so the sets
are the same on every run. Needs espeak-ng and flite.
"""
import array, itertools, json, math, os, random, subprocess, sys, wave

# The intents bench/voice.sh uses too.
INTENTS = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "voice-intents.json")))
DOCS = INTENTS["slots"]["document"]
CUSTOMERS = INTENTS["slots"]["customer"]


def in_grammar(rng, count):
    """`count` in-grammar sentences drawn from every template, with their intent and slots."""
    out = []
    while len(out) < count:
        kind = len(out) % 5
        if kind in (0, 1):
            a, b = rng.sample(DOCS, 2)
            text = rng.choice([f"compare {a} {rng.choice(['with', 'and'])} {b}",
                               f"{rng.choice(['show', 'tell'])} me the {rng.choice(['changes', 'differences'])} between {a} and {b}"])
            out.append((text, "compare_documents", f"document={a};document={b}"))
        elif kind == 2:
            c = rng.choice(CUSTOMERS)
            out.append((f"{rng.choice(['open', 'create'])} a {rng.choice(['', 'new '])}ticket for {c}", "open_ticket", f"customer={c}"))
        elif kind == 3:
            c = rng.choice(CUSTOMERS)
            out.append((f"call {c}{rng.choice(['', ' now'])}", "call_customer", f"customer={c}"))
        else:
            out.append((f"what is the weather {rng.choice(['', 'like '])}today", "weather", "-"))
    return out


OUT_A = ["please book a flight to paris tomorrow morning", "compare my shoes with your hat", "open the door for the cat",
         "tell me a joke about the weather", "what time is it in london", "create a new playlist for the party",
         "show me the pictures from last summer", "i would like a cup of coffee", "turn off the lights in the kitchen",
         "how tall is the eiffel tower", "call me a taxi", "open a bank account", "what is the capital of france",
         "compare the prices of apples and pears", "tell me the score of the game", "play some music please",
         "the quick brown fox jumps over the lazy dog", "set an alarm for seven", "where is the nearest station",
         "send a message to my brother", "what is the weather like in spain", "show me the way home",
         "create a ticket for the concert", "read me the news", "how do i cook rice", "is it going to rain tonight",
         "remind me to buy milk", "what did you say", "good morning everyone", "can you help me with my homework"]
OUT_B = ["what is your name", "open the window in the bedroom", "compare the lease with a house", "call an ambulance",
         "tell me the difference between cats and dogs", "show me the menu", "create a shopping list",
         "what is the weather like in spain", "how much does it cost", "please close the garage door",
         "i need a new pair of shoes", "call the police now", "what is the temperature outside", "open a new tab",
         "book a table for two", "where did i park the car", "what is the meaning of life", "give me directions to the airport",
         "tell me about the contract law", "how old is the moon", "write an email to my boss", "turn up the volume",
         "start the washing machine", "what is the weather forecast", "show me the changes in the law",
         "who won the football match", "create an account for me", "what is the time", "compare prices online",
         "open the offer in a new window"]
OUT_C = ["what is the weather like tomorrow", "call my mother tonight", "open the garage", "compare the two cars",
         "tell me a story", "show me the photos", "create a reminder for tomorrow", "i want to go home",
         "how far is the moon", "turn on the radio", "what is the weather in paris", "book a hotel room",
         "send the letter to acme", "play the next song", "where are my keys", "open a ticket window",
         "what is the population of china", "call a doctor", "show me the way to the station", "is the shop open today",
         "the offer is too low", "read the contract again", "find a good restaurant", "tell me the latest news",
         "what is the weather like on monday", "where is the bank", "order a pizza", "how are you today",
         "call me later", "stop the music"]
S_OUT = ["call my mother tonight", "call me a taxi", "call an ambulance", "call the office", "call it a day",
         "call the police", "call my brother now", "call back later", "call a doctor", "call the shop now",
         "call your friend", "call home"]
P_OUT = ["what is the weather like in paris", "what is the weather like in london", "what is the weather like tomorrow",
         "what is the weather like on monday", "what is the weather in paris", "what is the weather like tonight",
         "what is the weather on friday", "what is the news today", "what is the time today", "what is the weather like in spain",
         "call my mother", "call the doctor", "call me tomorrow", "open a window for me", "create a new folder",
         "compare the lease", "show me the money", "tell me the truth", "call the neighbours now", "what is the date today"]


def read_wav(path):
    with wave.open(path) as w:
        rate, frames = w.getframerate(), w.readframes(w.getnframes())
    return rate, array.array("h", frames)


def write_wav(path, rate, samples):
    with wave.open(path, "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(rate); w.writeframes(samples.tobytes())


def mix(samples, snr, rng, pad_seconds, rate):
    """The samples padded with digital silence and mixed with white noise at `snr` dB (None: clean)."""
    pad = array.array("h", [0] * int(pad_seconds * rate))
    samples = pad + samples + pad
    if snr is None:
        return samples
    power = sum(s * s for s in samples) / max(1, sum(1 for s in samples if s)) or 1.0
    sigma = math.sqrt(power / 10 ** (snr / 10))
    return array.array("h", [max(-32768, min(32767, int(s + rng.gauss(0, sigma)))) for s in samples])


def make(root):
    rng = random.Random(20261207)
    os.makedirs(root, exist_ok=True)
    json.dump(INTENTS, open(f"{root}/intents.json", "w"))
    rows = []
    def espeak(name, text, voice, speed, pitch=50):
        path = f"{root}/{name}.raw.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", path, text], check=True)
        return path
    def flite(name, text, voice, stretch):
        path = f"{root}/{name}.raw.wav"
        subprocess.run(["flite", "-voice", voice, "--setf", f"duration_stretch={stretch}", "-t", text, "-o", path], check=True)
        return path
    def add(set_name, index, kind, text, intent, slots, raw, snr, pad):
        os.makedirs(f"{root}/{set_name}", exist_ok=True)
        name = f"{set_name}/{set_name}{kind}{index:03d}"
        rate, samples = read_wav(raw)
        write_wav(f"{root}/{name}.wav", rate, mix(samples, snr, rng, pad, rate))
        os.remove(raw)
        rows.append((name, text, intent, slots))
    a_voices, speeds = ["en-us", "en-gb", "en-us+m3", "en-us+f2"], [140, 175, 210]
    for i, (text, intent, slots) in enumerate(in_grammar(rng, 60)):
        add("A", i, "in", text, intent, slots, espeak("tmp", text, a_voices[i % 4], speeds[(i // 4) % 3]), [None, 20][i % 2], 0.3)
    for i, text in enumerate(OUT_A):
        add("A", i, "out", text, "-", "-", espeak("tmp", text, a_voices[i % 4], speeds[i % 3]), [None, 20][(i // 2) % 2], 0.3)
    # Silence, white noise and hum: not speech.
    for i, kind in enumerate(["silence", "noise", "hum", "noise"]):
        rate, n = 16000, 16000
        samples = array.array("h", [0] * n) if kind == "silence" else array.array("h", [
            int(rng.gauss(0, 1500)) if kind == "noise" else int(3000 * math.sin(2 * math.pi * 50 * t / rate)) for t in range(n)])
        write_wav(f"{root}/tmp.raw.wav", rate, samples)
        add("A", 30 + i, "out", kind, "-", "-", f"{root}/tmp.raw.wav", None, 0)
    s_in = [(f"call {c}{now}", "call_customer", f"customer={c}") for c in CUSTOMERS for now in ["", " now"]] * 2
    for i, (text, intent, slots) in enumerate(s_in):
        add("S", i, "in", text, intent, slots, espeak("tmp", text, a_voices[i % 4], speeds[(i // 4) % 3]), None, 0)
    for i, text in enumerate(S_OUT):
        add("S", i, "out", text, "-", "-", espeak("tmp", text, a_voices[i % 4], speeds[i % 3]), None, 0)
    b_voices = ["en-gb-x-rp+f4", "en-029", "en-gb-scotland+m5", "en-us+klatt4", "en-gb-x-gbclan+f5", "en-us+Andy"]
    b_speeds, pitches, b_snrs = [125, 160, 195, 230], [30, 50, 75], [None, 25, 15, 10]
    for i, (text, intent, slots) in enumerate(in_grammar(rng, 60)):
        add("B", i, "in", text, intent, slots, espeak("tmp", text, b_voices[i % 6], b_speeds[i % 4], pitches[i % 3]), b_snrs[(i // 6) % 4], 0.2)
    for i, text in enumerate(OUT_B + OUT_A[:4]):
        add("B", i, "out", text, "-", "-", espeak("tmp", text, b_voices[i % 6], b_speeds[i % 4], pitches[i % 3]), b_snrs[(i // 6) % 4], 0.2)
    c_voices, stretches, c_snrs = ["slt", "rms", "awb", "kal16"], [0.8, 1.0, 1.25], [None, 20, 10]
    for i, (text, intent, slots) in enumerate(in_grammar(rng, 60)):
        add("C", i, "in", text, intent, slots, flite("tmp", text, c_voices[i % 4], stretches[i % 3]), c_snrs[(i // 4) % 3], 0.2)
    for i, text in enumerate(OUT_C + OUT_B[:4]):
        add("C", i, "out", text, "-", "-", flite("tmp", text, c_voices[i % 4], stretches[i % 3]), c_snrs[(i // 4) % 3], 0.2)
    p_voices = ["en-us", "en-gb", "en-us+m3", "en-us+f2", "en-029"]
    for i, text in enumerate(P_OUT):
        add("P", i, "out", text, "-", "-", espeak("tmp", text, p_voices[i % 5], 170), None, 0.2)
    with open(f"{root}/manifest.tsv", "w") as f:
        for row in rows:
            f.write("\t".join(row) + "\n")


def score(root, results):
    expected = {}
    for line in open(f"{root}/manifest.tsv"):
        name, text, intent, slots = line.rstrip("\n").split("\t")
        expected[name] = (intent, slots, text)
    counts = {}
    for line in open(results):
        f = line.rstrip("\n").split("\t")
        name = os.path.relpath(f[0], root)[:-4]
        intent, slots, text = expected[name]
        c = counts.setdefault(name.split("/")[0], {"in": 0, "right": 0, "out": 0, "fa": 0, "cpu": 0.0, "audio": 0.0})
        c["cpu"] += float(f[6]); c["audio"] += float(f[5])
        if intent == "-":
            c["out"] += 1
            if f[1] != "-":
                c["fa"] += 1
                print(f"  false accept {name}: '{text}' -> {f[1]} {f[2]} ('{f[7]}')")
        else:
            c["in"] += 1
            if (f[1], f[2]) == (intent, slots):
                c["right"] += 1
            else:
                print(f"  miss {name}: '{text}' -> {f[1]} {f[2]} ('{f[7]}', {f[4]})")
    for name in sorted(counts):
        c = counts[name]
        print(f"{name}: {c['right']}/{c['in']} right, {c['fa']}/{c['out']} false accepts, CPU {c['cpu'] / 1000:.2f} s "
              f"for {c['audio']:.1f} s of audio (RTF {c['cpu'] / 1000 / max(c['audio'], 1e-9):.4f})")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "make":
        make(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "score":
        score(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
