import Foundation

/// The result of recognising one utterance.
public struct Recognition: Sendable {
    /// The grammar's best transcript (even when rejected; empty when nothing was decoded).
    public var text: String
    /// The intent and slots, nil when the speech is not one of the intents (or is silence or noise).
    public var match: IntentMatch?
    /// 0...1: how well the grammar's path holds up against the unconstrained phone loop (score gap and absorbed
    /// speech, each against its threshold); below 0.5 is rejected.
    public var confidence: Double
    /// Seconds of audio (at 16 kHz).
    public var audioSeconds: Double
    /// Wall time spent decoding, in milliseconds.
    public var decodeMilliseconds: Double
    /// Phones (not silence or fillers) the phone loop heard.
    public var spokenPhones: Int
    /// Grammar score deficit against the phone loop, per frame (log base 1.0001 units).
    public var gapPerFrame: Double
    /// Of the frames the phone loop hears as speech, the fraction the grammar's path spends in silence or noise
    /// (speech the grammar could not place).
    public var absorbedSpeech: Double
    /// The decoder's searches run for this utterance, in order: "checked" (grammar with garbage loops), "phones"
    /// (phone loop), "intents" (plain grammar).
    public var searches: [String] = []
    /// Each word of the judged grammar path against the phone loop over the same frames (empty when the path was
    /// not judged against the loop: no path, or one through a garbage loop).
    public var wordGaps: [WordGap] = []
    /// The largest gap per frame of a slot value of the match against the phone loop over the value's frames
    /// (-infinity without slots); ``RecognizerModel/maxSlotGap`` rejects on it.
    public var slotGap: Double = -.infinity
}

/// One word of a grammar path against the phone loop: its frames and the loop's acoustic score over those frames
/// minus the word's, per frame (log base 1.0001 units; positive: the loop fits better).
public struct WordGap: Sendable, Equatable {
    public var word: String
    public var firstFrame: Int
    public var frames: Int
    public var gapPerFrame: Double
}

/// Grammar-constrained recognition with out-of-grammar rejection, over a pool of PocketSphinx decoders
/// (at most ``maxDecoders``, each used by one thread at a time, created on first need).
///
/// Rejection: each utterance is decoded with the intents' grammar (with garbage loops, and when needed without) and
/// with a free phone loop over the same samples (with a low noise floor added: see `PocketSphinxDecoder.withNoiseFloor`;
/// the order of the searches is in ``recognize(_:)``). An utterance is not an intent when
/// - the grammar search keeps no complete path (beam-pruned: nothing in the grammar is close to the audio);
/// - the grammar's best path goes through a garbage loop (see ``GarbageLoop``): a slot value or the final word is
///   better explained by free phones than by any word the grammar allows there (one-word substitutions);
/// - the grammar's best path scores more than ``rejectionGap`` per frame below the phone loop (other sentences,
///   which the grammar forces onto a wrong path, score worse per frame than in-grammar speech);
/// - more than ``maxAbsorbedSpeech`` of the frames the phone loop hears as speech fall in the grammar path's
///   silence or noise (the grammar matched part of the sentence and swallowed the rest as "noise");
/// - the phone loop hears fewer than ``minimumPhones`` phones (silence, hum).
public final class SpeechRecognizer: @unchecked Sendable {
    public let model: RecognizerModel
    public let maxDecoders: Int
    /// Per-frame score gap (grammar vs phone loop) beyond which the utterance is rejected (confidence 0.5 there).
    public var rejectionGap: Double
    /// Fraction of speech frames in the grammar path's silence beyond which the utterance is rejected.
    public var maxAbsorbedSpeech: Double
    /// Fewest phones the phone loop must hear for the audio to count as speech.
    public var minimumPhones: Int

    private let dictionary: PronunciationDictionary
    private let synthesizer: SpeechSynthesizer
    private let condition = NSCondition()
    private var idle: [PocketSphinxDecoder] = []
    private var created = 0
    private var grammar: CompiledGrammar?
    private var generation = 0

    /// Loads the dictionary's word list; decoders load the model when first needed.
    public init(model: RecognizerModel = .debianEnglish, synthesizer: SpeechSynthesizer, maxDecoders: Int = 2,
                rejectionGap: Double = SpeechRecognizer.defaultRejectionGap,
                maxAbsorbedSpeech: Double = SpeechRecognizer.defaultMaxAbsorbedSpeech, minimumPhones: Int = 3) throws {
        self.model = model
        self.synthesizer = synthesizer
        self.maxDecoders = max(1, maxDecoders)
        self.rejectionGap = rejectionGap
        self.maxAbsorbedSpeech = maxAbsorbedSpeech
        self.minimumPhones = minimumPhones
        dictionary = try PronunciationDictionary(path: model.dictionaryPath)
    }

    /// Tuned on espeak-ng clips (4 voices, 140-210 wpm, clean and 20 dB SNR): a low value among those that keep
    /// the tuning set's in-grammar clips (0.8 to 2.5 all do), since a false accept runs an action. Checked on a held-out espeak-ng set
    /// (6 other voices and variants, 125-230 wpm, 3 pitches, 25/15/10 dB SNR) and a flite set (4 voices built
    /// from real recordings, 3 speeds, clean to 10 dB SNR); see Plugins/Voice/README.md.
    public static let defaultRejectionGap: Double = 1
    public static let defaultMaxAbsorbedSpeech: Double = 0.4

    /// The grammar in use.
    public var current: CompiledGrammar? {
        condition.lock(); defer { condition.unlock() }
        return grammar
    }

    /// Compiles `configuration` (pronunciations for unknown words from espeak-ng), checks that PocketSphinx
    /// accepts it on a decoder, and makes it the grammar of every later recognition.
    @discardableResult
    public func install(_ configuration: IntentConfiguration) throws -> CompiledGrammar {
        let intents: IntentGrammar
        do { intents = try IntentGrammar(configuration) } catch { throw error }
        var added: [String: [String]] = [:]
        for word in intents.vocabulary where !dictionary.contains(word) {
            let phones = PhoneMapper.cmuPhones(try synthesizer.phonemes(word).flatMap { $0 })
            guard !phones.isEmpty else { throw IntentError.invalid("no pronunciation could be found for the word '\(word)'") }
            added[word] = phones
        }
        let dictionary = dictionary
        try intents.checkPhones { word in added[word]?.count ?? dictionary.phoneCounts[word] ?? 1 }
        condition.lock()
        generation += 1
        let compiled = CompiledGrammar(intents: intents, addedPronunciations: added, generation: generation)
        condition.unlock()
        let decoder = try acquire()
        defer { release(decoder) }
        try decoder.load(compiled)
        condition.lock()
        grammar = compiled
        condition.unlock()
        return compiled
    }

    /// Recognises 16 kHz mono samples; blocks while all decoders are busy. Call off the event loop.
    ///
    /// The searches, on one decoder: the grammar with garbage loops first (the plain grammar when there are none);
    /// when its path takes no loop, the phone loop; and only when that path fails the gap or absorbed-speech check,
    /// the plain grammar, whose path is then judged instead (the loops' phone words change the path and score the
    /// search finds for the same words, mostly to the worse). With ``RecognizerModel/alwaysSearchPlainGrammar`` every
    /// clip that keeps a path is searched with the plain grammar and that path is judged (the order before).
    public func recognize(_ samples: [Int16]) throws -> Recognition {
        guard let grammar = current else { throw RecognizerError.grammar("no intents are installed") }
        let started = DispatchTime.now().uptimeNanoseconds
        let decoder = try acquire()
        defer { release(decoder) }
        try decoder.load(grammar)
        let input = PocketSphinxDecoder.withNoiseFloor(samples, level: decoder.noiseFloor)
        let checked = decoder.hasCheckedSearch
        var searches: [String] = []
        func search(_ which: PocketSphinxDecoder.Search) throws -> PocketSphinxDecoder.Path {
            searches.append(which.rawValue)
            return try decoder.search(which, input)
        }
        var judged: Judgement
        if model.alwaysSearchPlainGrammar || !checked {
            let plain = try search(.plain)
            let loops = plain.words.isEmpty || !checked ? nil : try search(.checked)
            if let loops, loops.takesGarbage || (!loops.words.isEmpty && grammar.intents.match(loops.words) == nil) {
                judged = Judgement(garbled: loops)
            } else if plain.words.isEmpty {
                judged = Judgement(garbled: plain)
            } else {
                judged = judge(plain, phones: try search(.phones), grammar: grammar)
            }
        } else {
            let first = try search(.checked)
            // A path that is no template's sentence went through the word loop.
            if first.words.isEmpty || first.takesGarbage || grammar.intents.match(first.words) == nil {
                judged = Judgement(garbled: first)
            } else {
                let phones = try search(.phones)
                judged = judge(first, phones: phones, grammar: grammar)
                if judged.match == nil && judged.failedOnScores {
                    let plain = try search(.plain)
                    if !plain.words.isEmpty { judged = judge(plain, phones: phones, grammar: grammar) }
                }
            }
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
        return Recognition(text: Self.transcript(judged.words), match: judged.match, confidence: (judged.confidence * 1000).rounded() / 1000,
                           audioSeconds: Double(samples.count) / Double(AudioConverter.targetRate),
                           decodeMilliseconds: elapsed, spokenPhones: judged.spoken, gapPerFrame: judged.gap, absorbedSpeech: judged.absorbed,
                           searches: searches, wordGaps: judged.wordGaps, slotGap: judged.slotGap)
    }

    /// The verdict on one grammar path.
    struct Judgement {
        var words: String
        var match: IntentMatch?
        var confidence: Double
        var spoken: Int
        var gap: Double
        var absorbed: Double
        /// Rejected by the score gap or the absorbed speech alone (the phone loop heard speech and the words are an intent).
        var failedOnScores = false
        var wordGaps: [WordGap] = []
        var slotGap: Double = -.infinity

        /// No path, or a path through a garbage loop: rejected, whatever the phone loop would hear (so it is not run).
        init(garbled path: PocketSphinxDecoder.Path) {
            words = path.words
            match = nil
            confidence = 0
            spoken = 0
            gap = .infinity
            absorbed = path.words.isEmpty ? 1 : 0
        }

        init(words: String, match: IntentMatch?, confidence: Double, spoken: Int, gap: Double, absorbed: Double, failedOnScores: Bool) {
            self.words = words
            self.match = match
            self.confidence = confidence
            self.spoken = spoken
            self.gap = gap
            self.absorbed = absorbed
            self.failedOnScores = failedOnScores
        }
    }

    /// Judges a grammar path that took no garbage loop against the phone loop's path over the same samples.
    func judge(_ path: PocketSphinxDecoder.Path, phones: PocketSphinxDecoder.Path, grammar: CompiledGrammar) -> Judgement {
        let spoken = phones.words.split(separator: " ").filter(PocketSphinxDecoder.isPhoneWord).count
        let frames = max(1, path.frames)
        let gap = Double(phones.score - path.score) / Double(frames)
        let absorbed = Self.absorbedSpeech(grammar: path.segments, phones: phones.segments, frames: frames)
        // 1 when the grammar path is as good as the phone loop and swallows no speech, 0.5 at either threshold.
        let worst = max(gap / max(rejectionGap, 0.01), absorbed / max(maxAbsorbedSpeech, 0.01), 0)
        var confidence = max(0, min(1, 1 - worst / 2))
        var match = grammar.intents.match(path.words)
        let wordGaps = Self.wordGaps(path.segments, phones: phones.segments)
        let slotGap = match.map { Self.slotGap($0, wordGaps: wordGaps) } ?? -.infinity
        let onScores = gap > rejectionGap || absorbed > maxAbsorbedSpeech || slotGap > (model.maxSlotGap ?? .infinity)
        if spoken < minimumPhones || onScores || match == nil {
            match = nil
            confidence = min(confidence, 0.49)
        }
        var judgement = Judgement(words: path.words, match: match, confidence: confidence, spoken: spoken, gap: gap, absorbed: absorbed,
                                  failedOnScores: onScores && spoken >= minimumPhones && grammar.intents.match(path.words) != nil)
        judgement.wordGaps = wordGaps
        judgement.slotGap = slotGap
        return judgement
    }

    /// Each non-filler segment of a grammar path against the phone loop's segments over the same frames (a loop
    /// segment that overlaps the word only in part counts for the overlapping fraction of its score).
    static func wordGaps(_ grammar: [PocketSphinxDecoder.Segment], phones: [PocketSphinxDecoder.Segment]) -> [WordGap] {
        grammar.filter { !$0.isFiller }.map { word in
            var loop = 0.0
            for segment in phones {
                let low = max(word.firstFrame, segment.firstFrame), high = min(word.lastFrame, segment.lastFrame)
                guard low <= high else { continue }
                loop += Double(segment.acousticScore) * Double(high - low + 1) / Double(segment.lastFrame - segment.firstFrame + 1)
            }
            let frames = max(1, word.lastFrame - word.firstFrame + 1)
            // "call(2)": the variant's number is not part of the word.
            let name = word.word.split(separator: "(").first.map(String.init) ?? word.word
            return WordGap(word: name, firstFrame: word.firstFrame, frames: frames, gapPerFrame: (loop - Double(word.acousticScore)) / Double(frames))
        }
    }

    /// The largest gap per frame over the frames of one slot value of `match` (its words found in order in the path).
    static func slotGap(_ match: IntentMatch, wordGaps: [WordGap]) -> Double {
        var worst = -Double.infinity
        var next = 0
        for slot in match.slots {
            let words = slot.value.lowercased().split(separator: " ").map(String.init)
            guard !words.isEmpty else { continue }
            var start = next
            while start + words.count <= wordGaps.count, wordGaps[start..<start + words.count].map(\.word) != words { start += 1 }
            guard start + words.count <= wordGaps.count else { continue }
            let run = wordGaps[start..<start + words.count]
            let frames = run.reduce(0) { $0 + $1.frames }
            worst = max(worst, run.reduce(0) { $0 + $1.gapPerFrame * Double($1.frames) } / Double(max(1, frames)))
            next = start + words.count
        }
        return worst
    }

    /// The grammar path's words, each run of garbage-loop phones written as "…".
    static func transcript(_ words: String) -> String {
        var out: [Substring] = []
        for word in words.split(separator: " ") {
            if PocketSphinxDecoder.isPhoneWord(word) {
                if out.last != "…" { out.append("…") }
            } else {
                out.append(word)
            }
        }
        return out.joined(separator: " ")
    }

    /// Of the frames inside the phone loop's phones, the fraction inside the grammar path's fillers.
    static func absorbedSpeech(grammar: [PocketSphinxDecoder.Segment], phones: [PocketSphinxDecoder.Segment], frames: Int) -> Double {
        guard !grammar.isEmpty else { return 1 }
        var inGrammarFiller = [Bool](repeating: true, count: frames)
        func span(_ segment: PocketSphinxDecoder.Segment) -> Range<Int> {
            let low = max(0, segment.firstFrame), high = min(segment.lastFrame, frames - 1) + 1
            return low < high ? low..<high : 0..<0
        }
        for segment in grammar where !segment.isFiller {
            for frame in span(segment) { inGrammarFiller[frame] = false }
        }
        var speech = 0, absorbed = 0
        for segment in phones where segment.word.hasPrefix("phn_") {
            for frame in span(segment) {
                speech += 1
                if inGrammarFiller[frame] { absorbed += 1 }
            }
        }
        return speech == 0 ? 0 : Double(absorbed) / Double(speech)
    }

    private func acquire() throws -> PocketSphinxDecoder {
        condition.lock()
        while idle.isEmpty && created >= maxDecoders { condition.wait() }
        if let decoder = idle.popLast() { condition.unlock(); return decoder }
        created += 1
        condition.unlock()
        do {
            return try PocketSphinxDecoder(model: model)
        } catch {
            condition.lock(); created -= 1; condition.signal(); condition.unlock()
            throw error
        }
    }

    private func release(_ decoder: PocketSphinxDecoder) {
        condition.lock()
        idle.append(decoder)
        condition.signal()
        condition.unlock()
    }
}
