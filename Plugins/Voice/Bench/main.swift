import Foundation
import VoiceEngine

// voice-bench, the engine side of bench/voice.sh.
//   voice-bench INTENTS.json CLIP.wav...   recognise; one tab-separated line per clip: file, intent (or -),
//                                          slots (name=value;...), confidence, gap per frame/absorbed speech, audio seconds,
//                                          decode CPU milliseconds (thread CPU time, conversion included), transcript,
//                                          the searches run (checked,phones,intents), each word's frames and gap
//                                          per frame against the phone loop (word:frames:gap ...), the slot gap
//   voice-bench --jsgf INTENTS.json        the JSGF grammar the engine decodes with
//   voice-bench --dict INTENTS.json        dictionary lines for words cmudict lacks (espeak-ng phonemes)
//   voice-bench --parse INTENTS.json       transcripts on stdin → "intent<TAB>slots" lines (the engine's parser)
//   voice-bench --to16k IN.wav OUT.wav     16 kHz mono 16-bit copy (soxr)
//   voice-bench --to8k IN.wav OUT.wav      8 kHz mono 16-bit copy (soxr: telephone-band audio)
let arguments = CommandLine.arguments

func fail(_ message: String, _ status: Int32) -> Never {
    FileHandle.standardError.write(Data("voice-bench: \(message)\n".utf8))
    exit(status)
}

func cpuMilliseconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) * 1_000 + Double(time.tv_nsec) / 1e6
}

func loadIntents(_ path: String) throws -> IntentConfiguration {
    try JSONDecoder().decode(IntentConfiguration.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
}

func slotText(_ slots: [FilledSlot]?) -> String {
    guard let slots, !slots.isEmpty else { return "-" }
    return slots.map { "\($0.name)=\($0.value)" }.joined(separator: ";")
}

guard arguments.count >= 3 else { fail("usage: see the comment at the top of Plugins/Voice/Bench/main.swift", 2) }
do {
    switch arguments[1] {
    case "--jsgf":
        print(try IntentGrammar(loadIntents(arguments[2])).jsgf, terminator: "")
    case "--parse":
        let grammar = try IntentGrammar(loadIntents(arguments[2]))
        while let line = readLine() {
            let match = grammar.match(line)
            print("\(match?.intent ?? "-")\t\(slotText(match?.slots))")
        }
    case "--dict":
        let synthesizer = try SpeechSynthesizer()
        let recognizer = try SpeechRecognizer(synthesizer: synthesizer, maxDecoders: 1)
        let compiled = try recognizer.install(loadIntents(arguments[2]))
        for (word, phones) in compiled.addedPronunciations.sorted(by: { $0.key < $1.key }) { print("\(word) \(phones.joined(separator: " "))") }
    case "--to16k":
        guard arguments.count == 4 else { fail("--to16k IN.wav OUT.wav", 2) }
        let audio = try AudioReader.readWAV([UInt8](try Data(contentsOf: URL(fileURLWithPath: arguments[2]))), maxSeconds: 600)
        // A plain soxr copy: the engine's own conversion adds a noise floor to narrowband audio, the plain decoder gets none.
        var mono = audio.samples
        if audio.channels > 1 { mono = stride(from: 0, to: mono.count, by: audio.channels).map { mono[$0] } }
        if audio.sampleRate != 16_000 { mono = AudioConverter.resample(mono, from: audio.sampleRate, to: 16_000) }
        let pcm = mono.map { Int16(max(-32768, min(32767, ($0 * 32768).rounded()))) }
        try Data(WAVWriter.pcm16(pcm, sampleRate: 16_000)).write(to: URL(fileURLWithPath: arguments[3]))
    case "--to8k":
        guard arguments.count == 4 else { fail("--to8k IN.wav OUT.wav", 2) }
        let audio = try AudioReader.readWAV([UInt8](try Data(contentsOf: URL(fileURLWithPath: arguments[2]))), maxSeconds: 600)
        let mono = audio.channels == 1 ? audio.samples : stride(from: 0, to: audio.samples.count, by: audio.channels).map { audio.samples[$0] }
        let pcm = AudioConverter.resample(mono, from: audio.sampleRate, to: 8_000).map { Int16(max(-32768, min(32767, ($0 * 32768).rounded()))) }
        try Data(WAVWriter.pcm16(pcm, sampleRate: 8_000)).write(to: URL(fileURLWithPath: arguments[3]))
    default:
        let synthesizer = try SpeechSynthesizer()
        var model = RecognizerModel.debianEnglish
        // VOICE_BENCH_GARBAGE="ENTRY,PHONE" overrides the garbage loop's probabilities (tuning runs; "0,0": no loop).
        if let garbage = ProcessInfo.processInfo.environment["VOICE_BENCH_GARBAGE"] {
            let values = garbage.split(separator: ",").compactMap { Double($0) }
            guard values.count == 2 else { fail("VOICE_BENCH_GARBAGE must be ENTRY,PHONE", 2) }
            model.garbageEntryProbability = values[0]
            model.garbagePhoneProbability = values[1]
        }
        // VOICE_BENCH_COT_CAUGHT=1: AA variants for every grammar word; =templates: for template words only (not slot values).
        if let cotCaught = ProcessInfo.processInfo.environment["VOICE_BENCH_COT_CAUGHT"] {
            model.cotCaughtVariants = cotCaught == "1" || cotCaught == "templates"
            model.cotCaughtTemplateWordsOnly = cotCaught == "templates"
        }
        // VOICE_BENCH_COT_CAUGHT_PROB=P: the AA variants as words of their own, offered with probability P relative to the word.
        if let probability = ProcessInfo.processInfo.environment["VOICE_BENCH_COT_CAUGHT_PROB"].flatMap(Double.init) { model.cotCaughtProbability = probability }
        if let slots = ProcessInfo.processInfo.environment["VOICE_BENCH_GARBAGE_SLOTS"] { model.garbageBesideSlots = slots == "1" }
        // VOICE_BENCH_FRESH_FRONT_END=0: the front end's state carries over between searches (the behaviour before).
        if let fresh = ProcessInfo.processInfo.environment["VOICE_BENCH_FRESH_FRONT_END"] { model.freshFrontEnd = fresh != "0" }
        // VOICE_BENCH_WORD_LOOP="ENTRY[,SIZE,MINPHONES]": the checked grammar's word loop beside slots (tuning runs).
        if let loop = ProcessInfo.processInfo.environment["VOICE_BENCH_WORD_LOOP"]?.split(separator: ",") {
            model.wordLoopEntryProbability = Double(loop[0]) ?? 0
            if loop.count > 1 { model.wordLoopSize = Int(loop[1]) ?? model.wordLoopSize }
            if loop.count > 2 { model.wordLoopMinimumPhones = Int(loop[2]) ?? model.wordLoopMinimumPhones }
        }
        // VOICE_BENCH_ALWAYS_PLAIN=1: every clip with a grammar path is searched with the plain grammar too (the order before).
        if let always = ProcessInfo.processInfo.environment["VOICE_BENCH_ALWAYS_PLAIN"] { model.alwaysSearchPlainGrammar = always == "1" }
        // VOICE_BENCH_MAX_SLOT_GAP=X: reject a match whose slot value scores more than X per frame below the phone loop.
        if let slotGap = ProcessInfo.processInfo.environment["VOICE_BENCH_MAX_SLOT_GAP"] { model.maxSlotGap = Double(slotGap) }
        // VOICE_BENCH_JSGF_LOOP=1: the phone loop as the JSGF <phone>+ (two grammar states; the behaviour before).
        if let jsgf = ProcessInfo.processInfo.environment["VOICE_BENCH_JSGF_LOOP"] { model.singleStatePhoneLoop = jsgf != "1" }
        // VOICE_BENCH_EXTRA="-name value ...": more PocketSphinx arguments (front-end tuning runs).
        if let extra = ProcessInfo.processInfo.environment["VOICE_BENCH_EXTRA"] { model.extraArguments = extra.split(separator: " ").map(String.init) }
        // VOICE_BENCH_LOOP_BEAM="BEAM,WORDBEAM": the phone-loop search's beams (tuning runs).
        if let beams = ProcessInfo.processInfo.environment["VOICE_BENCH_LOOP_BEAM"]?.split(separator: ","), beams.count == 2 {
            model.phoneLoopBeam = String(beams[0])
            model.phoneLoopWordBeam = String(beams[1])
        }
        let recognizer = try SpeechRecognizer(model: model, synthesizer: synthesizer, maxDecoders: 1)
        try recognizer.install(loadIntents(arguments[1]))
        _ = try recognizer.recognize([Int16](repeating: 0, count: 1600))
        for path in arguments.dropFirst(2) {
            let audio = try AudioReader.readWAV([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), maxSeconds: 60)
            let before = cpuMilliseconds()
            let result = try recognizer.recognize(AudioConverter.toRecognizerFormat(audio))
            let cpu = cpuMilliseconds() - before
            print([path, result.match?.intent ?? "-", slotText(result.match?.slots), String(format: "%.3f", result.confidence),
                   String(format: "%.1f/%.2f", result.gapPerFrame, result.absorbedSpeech), String(format: "%.3f", result.audioSeconds), String(format: "%.2f", cpu),
                   result.text, result.searches.joined(separator: ","),
                   result.wordGaps.map { "\($0.word):\($0.frames):\(String(format: "%.1f", $0.gapPerFrame))" }.joined(separator: " "),
                   String(format: "%.1f", result.slotGap)].joined(separator: "\t"))
        }
    }
} catch {
    fail("\(error)", 1)
}
