import CPocketSphinx
import Foundation

/// One PocketSphinx decoder (acoustic model and dictionary loaded once), used by one thread at a time.
/// It holds three searches: the intents' finite-state grammar, the same with garbage loops, and an unconstrained
/// phone loop, whose score tells whether a grammar path is really what was said.
final class PocketSphinxDecoder {
    /// One word (or phone, or filler) of a best path: its frames and acoustic score.
    struct Segment {
        var word: String
        var firstFrame: Int
        var lastFrame: Int
        var acousticScore: Int32

        /// Silence, noise and the empty transitions of the grammar search (`<sil>`, `[NOISE]`, `++...++`, `(NULL)`).
        var isFiller: Bool { word.hasPrefix("<") || word.hasPrefix("[") || word.hasPrefix("+") || word.hasPrefix("(") }
    }

    /// One search's best path over an utterance.
    struct Path {
        /// The words of the path ("" when the search kept no complete path).
        var words: String
        /// The acoustic part of the path's score (language weights and insertion penalties differ between the
        /// searches, so only acoustic scores are comparable).
        var score: Int32
        var segments: [Segment]
        /// Frames of the utterance.
        var frames: Int

        /// Whether the path goes through a garbage loop (or is the phone loop's).
        var takesGarbage: Bool { words.split(separator: " ").contains(where: PocketSphinxDecoder.isPhoneWord) }
    }

    /// The decoder's searches.
    enum Search: String {
        /// The intents' grammar.
        case plain = "intents"
        /// The intents' grammar with garbage loops (only when ``garbage`` is set).
        case checked
        /// The free phone loop.
        case phones
    }

    private let decoder: OpaquePointer
    /// The noise floor added before decoding (``withNoiseFloor(_:level:)``), in LSB.
    let noiseFloor: Double
    /// The garbage loop beside slot values and final words (nil: none).
    let garbage: GarbageLoop?
    /// Whether grammar words get AA variants of AO (``RecognizerModel/cotCaughtVariants``).
    let cotCaughtVariants: Bool
    /// Whether only template words get them (``RecognizerModel/cotCaughtTemplateWordsOnly``).
    let cotCaughtTemplateWordsOnly: Bool
    /// Whether every search starts from a reset front end (``RecognizerModel/freshFrontEnd``).
    let freshFrontEnd: Bool
    private(set) var generation = -1

    init(model: RecognizerModel) throws(RecognizerError) {
        noiseFloor = model.noiseFloor
        cotCaughtVariants = model.cotCaughtVariants
        cotCaughtTemplateWordsOnly = model.cotCaughtTemplateWordsOnly
        cotCaughtProbability = model.cotCaughtProbability
        freshFrontEnd = model.freshFrontEnd
        var arguments = ["voice", "-hmm", model.acousticModelPath, "-dict", model.dictionaryPath, "-logfn", "/dev/null",
                         "-samprate", "16000", "-bestpath", "no",
                         // Somewhat wider beams than the defaults (1e-48, 7e-29, 1e-48), which lose every grammar path
                         // on some clean in-grammar utterances; much wider ones cost time and let more out-of-grammar
                         // speech through to a (wrong) grammar path.
                         "-beam", model.beam, "-wbeam", model.wordBeam, "-pbeam", model.beam]
        // Each utterance's own cepstral mean (the default, "live", starts from the mean of what the decoder heard before).
        if model.freshFrontEnd { arguments += ["-cmn", "batch"] }
        arguments += model.extraArguments
        var cArguments = arguments.map { strdup($0) }
        defer { cArguments.forEach { free($0) } }
        let config = cArguments.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UnsafeMutablePointer<CChar>?.self, capacity: buffer.count) {
                cmd_ln_parse_r(nil, ps_args(), Int32(arguments.count), $0, 0)
            }
        }
        guard let config else { throw .model("PocketSphinx rejected its arguments") }
        defer { cmd_ln_free_r(config) }
        guard let decoder = ps_init(config) else { throw .model("PocketSphinx could not load the model at \(model.acousticModelPath)") }
        self.decoder = decoder
        var loop = model.garbageEntryProbability > 0
            ? GarbageLoop(entryProbability: model.garbageEntryProbability, phoneProbability: model.garbagePhoneProbability,
                          phoneWords: Self.phoneSet.map(Self.phoneWord), besideSlots: model.garbageBesideSlots)
            : nil
        if loop != nil, model.wordLoopEntryProbability > 0 {
            loop?.loopWords = Self.commonWords(decoder, model: model)
            loop?.wordLoopEntryProbability = model.wordLoopEntryProbability
        }
        garbage = loop
        for phone in Self.phoneSet {
            guard ps_add_word(decoder, Self.phoneWord(phone), phone, phone == Self.phoneSet.last ? 1 : 0) >= 0 else {
                throw .model("the phone-loop word for \(phone) was refused")
            }
        }
        // A search takes its beams from the configuration when it is made: the phone loop gets its own, then the
        // grammar's are put back for the grammar searches made later.
        let settings = ps_get_config(decoder)
        func setBeams(_ beam: String, _ wordBeam: String) {
            cmd_ln_set_float_r(settings, "-beam", Double(beam) ?? 1e-60)
            cmd_ln_set_float_r(settings, "-pbeam", Double(beam) ?? 1e-60)
            cmd_ln_set_float_r(settings, "-wbeam", Double(wordBeam) ?? 1e-40)
        }
        setBeams(model.phoneLoopBeam ?? model.beam, model.phoneLoopWordBeam ?? model.wordBeam)
        defer { setBeams(model.beam, model.wordBeam) }
        if model.singleStatePhoneLoop {
            try setFSG("phones", Self.phoneLoopFSG)
        } else {
            guard ps_set_jsgf_string(decoder, "phones", Self.phoneLoopJSGF) == 0 else { throw .model("the phone-loop search could not be created") }
        }
    }

    deinit { ps_free(decoder) }

    /// The en-us model's phones (without silence).
    static let phoneSet = ["AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G", "HH", "IH", "IY", "JH",
                           "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T", "TH", "UH", "UW", "V", "W", "Y", "Z", "ZH"]

    /// The ``RecognizerModel/wordLoopSize`` commonest words of the language model with at least
    /// ``RecognizerModel/wordLoopMinimumPhones`` phones in the dictionary, with their unigram probabilities
    /// renormalised over them (empty when the language model cannot be read).
    static func commonWords(_ decoder: OpaquePointer, model: RecognizerModel) -> [GarbageLoop.LoopWord] {
        // No configuration: with the decoder's, the scores would come weighted by its -lw and -wip.
        guard let lm = ngram_model_read(nil, model.languageModelPath, NGRAM_AUTO, ps_get_logmath(decoder)) else { return [] }
        defer { ngram_model_free(lm) }
        let unigrams = Int(ngram_model_get_counts(lm)[0])
        var scored: [(word: String, score: Int32)] = []
        scored.reserveCapacity(unigrams)
        for id in 0..<unigrams {
            guard let name = ngram_word(lm, Int32(id)) else { continue }
            let word = String(cString: name)
            guard !word.hasPrefix("<") else { continue }
            var used: Int32 = 0
            scored.append((word, ngram_ng_score(lm, Int32(id), nil, 0, &used)))
        }
        scored.sort { $0.score != $1.score ? $0.score > $1.score : $0.word < $1.word }
        var chosen: [(word: String, score: Int32)] = []
        for candidate in scored where chosen.count < model.wordLoopSize {
            guard let phones = ps_lookup_word(decoder, candidate.word) else { continue }
            let count = String(cString: phones).split(separator: " ").count
            free(phones)
            if count >= model.wordLoopMinimumPhones { chosen.append(candidate) }
        }
        let logBase = log(1.0001)
        let top = Double(chosen.first?.score ?? 0)
        let weights = chosen.map { exp((Double($0.score) - top) * logBase) }
        let total = weights.reduce(0, +)
        return zip(chosen, weights).map { GarbageLoop.LoopWord(word: $0.0.word, probability: $0.1 / max(total, .leastNormalMagnitude)) }
    }

    /// The dictionary word standing for one phone in the phone loop.
    static func phoneWord(_ phone: String) -> String { "phn_" + phone.lowercased() }

    /// An unconstrained loop over single-phone words: the reference score for rejection.
    static let phoneLoopJSGF = "#JSGF V1.0;\ngrammar phones;\npublic <loop> = <phone>+;\n<phone> = "
        + phoneSet.map(phoneWord).joined(separator: " | ") + ";\n"

    /// The same loop as a finite-state grammar of one state with a self-loop per phone word. PocketSphinx's lexicon
    /// tree has, for every grammar state that words leave, every phone in every left context (616 HMMs here); the
    /// JSGF loop's `<phone>+` compiles to two such states (1,234 HMMs), so its search kept two copies of every HMM
    /// alive, and this one keeps one.
    /// Each self-loop has probability 1, as PocketSphinx gives the JSGF loop's unweighted alternatives (with 1/39 the
    /// loop's best paths take fewer phones and score about 4 per frame lower): the paths and scores are the JSGF
    /// loop's (the same on every clip of the tuning and held-out sets).
    static let phoneLoopFSG = "FSG_BEGIN phones\nNUM_STATES 1\nSTART_STATE 0\nFINAL_STATE 0\n"
        + phoneSet.map { "TRANSITION 0 0 1.0 \(phoneWord($0))\n" }.joined() + "FSG_END\n"

    /// Adds the grammar's extra words and (re)loads its JSGF search when the grammar changed.
    func load(_ grammar: CompiledGrammar) throws(RecognizerError) {
        guard grammar.generation != generation else { return }
        // Only the last word added updates the search in use: PocketSphinx rebuilds that search on every update, which
        // for thousands of new words (a large slot) after a large grammar was thousands of grammar builds. The grammar
        // searches are made afresh below, from the updated dictionary.
        let missing = grammar.addedPronunciations.sorted(by: { $0.key < $1.key }).filter { word, _ in
            guard let existing = ps_lookup_word(decoder, word) else { return true }
            free(existing)
            return false
        }
        for (index, (word, phones)) in missing.enumerated() {
            let added = ps_add_word(decoder, word, phones.joined(separator: " "), index == missing.count - 1 ? 1 : 0)
            if added < 0 { throw .grammar("the pronunciation '\(phones.joined(separator: " "))' of '\(word)' was refused") }
        }
        if cotCaughtVariants {
            let slotWords = cotCaughtTemplateWordsOnly
                ? Set(grammar.intents.configuration.slots.values.joined().flatMap { $0.lowercased().split(separator: " ").map(String.init) })
                : []
            for word in grammar.intents.vocabulary.sorted() where !slotWords.contains(word) { addCotCaughtVariants(of: word) }
        }
        func withVariants(_ text: String) -> String {
            guard cotCaughtProbability < 1, !variantWords.isEmpty else { return text }
            return text.split(separator: "\n", omittingEmptySubsequences: false).flatMap { line -> [String] in
                let fields = line.split(separator: " ")
                guard fields.count == 5, fields[0] == "TRANSITION", variantWords.contains(String(fields[4])),
                      let probability = Double(fields[3]) else { return [String(line)] }
                return [String(line), "TRANSITION \(fields[1]) \(fields[2]) \(probability * cotCaughtProbability) \(fields[4])\(Self.variantSuffix)"]
            }.joined(separator: "\n")
        }
        // The same paths as the JSGF grammar, as finite-state grammars: plain, and with garbage loops beside slot values
        // and final words (JSGF cannot weight an alternative that is a rule, and PocketSphinx shares a recursive rule's
        // states between its uses). Two searches, since the loops' phones, as words, raise the word-exit beam's
        // threshold and so change the path (and score) that the plain grammar finds for the same words.
        try setFSG("intents", withVariants(grammar.intents.fsg(garbage: nil)))
        if let garbage { try setFSG("checked", withVariants(grammar.intents.fsg(garbage: garbage))) }
        generation = grammar.generation
    }

    private func setFSG(_ name: String, _ text: String) throws(RecognizerError) {
        let lw = Float(cmd_ln_float_r(ps_get_config(decoder), "-lw"))
        let model: OpaquePointer? = text.withCString { chars in
            guard let stream = fmemopen(UnsafeMutableRawPointer(mutating: chars), strlen(chars), "r") else { return nil }
            defer { fclose(stream) }
            return OpaquePointer(fsg_model_read(stream, ps_get_logmath(decoder), lw))
        }
        guard let model else { throw .grammar("PocketSphinx could not read the generated finite-state grammar") }
        defer { fsg_model_free(UnsafeMutablePointer(model)) }
        guard ps_set_fsg(decoder, name, UnsafeMutablePointer(model)) == 0 else { throw .grammar("PocketSphinx refused the generated grammar") }
    }

    /// Adds, for each pronunciation of `word` with AO not before R, a variant with AA: most North American speakers
    /// say "call", "talk" or "offer" with the vowel of "cot" (the cot-caught merger), and the dictionary mostly
    /// lists only AO.
    private func addCotCaughtVariants(of word: String) {
        var pronunciations = pronunciations(of: word)
        for pronunciation in pronunciations {
            let phones = pronunciation.split(separator: " ")
            let merged = phones.indices.map { index in
                phones[index] == "AO" && (index + 1 == phones.count || phones[index + 1] != "R") ? "AA" : phones[index]
            }.joined(separator: " ")
            guard !pronunciations.contains(merged) else { continue }
            pronunciations.append(merged)
            if cotCaughtProbability < 1 {
                // A word of its own, which the grammar offers beside the word with a lower probability.
                let name = word + Self.variantSuffix
                let count = self.pronunciations(of: name).count
                _ = ps_add_word(decoder, count == 0 ? name : "\(name)(\(count + 1))", merged, 0)
                variantWords.insert(word)
            } else {
                _ = ps_add_word(decoder, "\(word)(\(pronunciations.count))", merged, 0)
            }
        }
    }

    /// The suffix of the AA variants' words when they are words of their own (``RecognizerModel/cotCaughtProbability``).
    static let variantSuffix = "~aa"
    /// Words that have an AA variant as a word of its own.
    private var variantWords = Set<String>()
    /// The variant words' probability relative to the word (1: alternative pronunciations of the word itself).
    let cotCaughtProbability: Double

    /// The dictionary's pronunciations of `word` (`word`, `word(2)`, ...), phones separated by spaces.
    func pronunciations(of word: String) -> [String] {
        var pronunciations: [String] = []
        while let phones = ps_lookup_word(decoder, pronunciations.isEmpty ? word : "\(word)(\(pronunciations.count + 1))") {
            pronunciations.append(String(cString: phones))
            free(phones)
        }
        return pronunciations
    }

    /// True for the phone words of the phone loop and the grammar's garbage loops.
    static func isPhoneWord(_ word: Substring) -> Bool { word.hasPrefix("phn_") }

    /// Whether the grammar with garbage loops is searched (``GarbageLoop``).
    var hasCheckedSearch: Bool { garbage != nil }

    /// The best path of one search over 16 kHz mono samples (already given their noise floor: ``withNoiseFloor(_:level:)``).
    func search(_ search: Search, _ samples: [Int16]) throws(RecognizerError) -> Path {
        var score: Int32 = 0, segments: [Segment] = []
        var words = try pass(search.rawValue, samples, score: &score, segments: &segments)
        if !variantWords.isEmpty {
            func base(_ word: Substring) -> Substring { word.hasSuffix(Self.variantSuffix) ? word.dropLast(Self.variantSuffix.count) : word }
            words = words.split(separator: " ").map(base).joined(separator: " ")
            for index in segments.indices {
                let word = segments[index].word.split(separator: "(").first ?? ""
                if word.hasSuffix(Self.variantSuffix) { segments[index].word = String(base(word)) }
            }
        }
        return Path(words: words, score: score, segments: segments, frames: Int(ps_get_n_frames(decoder)))
    }

    /// The samples with a deterministic Gaussian noise floor of `level` LSB (standard deviation; a fixed-seed
    /// generator, so the same audio always decodes the same way), clamped to 16 bits.
    ///
    /// Synthesisers and digitally gated recorders write runs of exact zeros, before, after and inside words (stop
    /// closures). Real microphones never do, and the acoustic model was trained on real recordings: against exact
    /// zeros (log(0) energies) the utterance's cepstral mean is skewed and the grammar path, which cannot put
    /// silence inside a word, scores far below the phone loop, which can. A floor of 8 LSB (about -72 dBFS) is far
    /// below any real recording's own noise, so real audio decodes as before.
    static func withNoiseFloor(_ samples: [Int16], level: Double) -> [Int16] {
        var state: UInt32 = 0x9E37_79B9
        func next() -> Double {
            state = state &* 1_664_525 &+ 1_013_904_223
            return Double(state >> 8) / 16_777_216
        }
        guard level > 0 else { return samples }
        return samples.map { sample in
            // Box-Muller: two uniforms, one normal deviate.
            let u1 = next() + 1 / 16_777_216, u2 = next()
            let noise = level * (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
            return Int16(clamping: Int32(sample) + Int32(noise.rounded()))
        }
    }

    private func pass(_ search: String, _ samples: [Int16], score: inout Int32, segments: inout [Segment]) throws(RecognizerError) -> String {
        // A new stream resets the front end's noise estimate (spectral subtraction), which otherwise carries over from
        // whatever this decoder heard before: the same clip decoded twice in a row was rejected, then accepted.
        if freshFrontEnd { _ = ps_start_stream(decoder) }
        guard ps_set_search(decoder, search) == 0, ps_start_utt(decoder) == 0 else { throw .decode("search '\(search)' could not start") }
        let processed = samples.withUnsafeBufferPointer { ps_process_raw(decoder, $0.baseAddress, $0.count, 0, 1) }
        guard processed >= 0, ps_end_utt(decoder) == 0 else { throw .decode("search '\(search)' failed on the audio") }
        var pathScore: Int32 = 0
        guard let hyp = ps_get_hyp(decoder, &pathScore) else { score = Int32.min / 2; return "" }
        // The acoustic part of the best path only (language weights and insertion penalties differ between
        // the grammar and the phone loop, so only acoustic scores are comparable).
        var acoustic: Int64 = 0
        var segment = ps_seg_iter(decoder)
        while let current = segment {
            var ascr: Int32 = 0, lscr: Int32 = 0, lback: Int32 = 0
            _ = ps_seg_prob(current, &ascr, &lscr, &lback)
            var first: Int32 = 0, last: Int32 = 0
            ps_seg_frames(current, &first, &last)
            segments.append(Segment(word: ps_seg_word(current).map { String(cString: $0) } ?? "", firstFrame: Int(first),
                                    lastFrame: Int(last), acousticScore: ascr))
            acoustic += Int64(ascr)
            segment = ps_seg_next(current)
        }
        score = Int32(clamping: acoustic)
        // Segment frames can count from an earlier utterance of this decoder; the path starts at the utterance's start.
        if let origin = segments.first?.firstFrame, origin != 0 {
            for index in segments.indices {
                segments[index].firstFrame -= origin
                segments[index].lastFrame -= origin
            }
        }
        return String(cString: hyp)
    }
}

/// Where the acoustic model and dictionary are.
public struct RecognizerModel: Sendable {
    public var acousticModelPath: String
    public var dictionaryPath: String
    /// More PocketSphinx arguments (`-name value` pairs).
    public var extraArguments: [String]
    /// The grammar and phone-loop searches' HMM and phone beam (`-beam`, `-pbeam`).
    public var beam = "1e-60"
    /// Their word-exit beam (`-wbeam`).
    public var wordBeam = "1e-40"
    /// The phone-loop search's HMM and phone beam (nil: ``beam``).
    public var phoneLoopBeam: String?
    /// The phone-loop search's word-exit beam (nil: ``wordBeam``).
    public var phoneLoopWordBeam: String?
    /// Standard deviation, in LSB of 16-bit audio, of the deterministic noise floor added before decoding.
    public var noiseFloor = 8.0
    /// The grammar's garbage loop (see ``GarbageLoop``): probability of entering it instead of a slot value or a final
    /// word (0: no loop). Tuned on set A (Plugins/Voice/README.md): the most eager value tried (1e-10, 1e-7, 1e-6,
    /// 1e-5, 1) that took no in-grammar clip of A into the loop.
    public var garbageEntryProbability = 1e-6
    /// Whether grammar words whose pronunciation has AO (not before R) also get one with AA (the cot-caught merger).
    /// Off: on the tuning sets it rescued short "call X" clips (S: 9/16 → 15/16) but let "call my mother tonight"
    /// through as "call globex now", and on held-out set B "call an ambulance" as "call umbrella"; the word-level
    /// check, at the setting tuned on A, catches neither (Plugins/Voice/README.md).
    public var cotCaughtVariants = false
    /// With ``cotCaughtVariants``: only words of the templates get AA variants, not the words of slot values.
    public var cotCaughtTemplateWordsOnly = false
    /// With ``cotCaughtVariants``: below 1, each AA variant is a word of its own that the grammar offers beside the
    /// word with this probability relative to it (a pronunciation prior); 1: an alternative pronunciation of the word.
    public var cotCaughtProbability = 1.0
    /// Whether the garbage loop also stands beside slot values. Off: slot values are mostly names (customers,
    /// brands), which the acoustic model fits worse than dictionary words; on held-out set B and on the bench the
    /// loop took in-grammar names ("acme") and caught no false accept there (Plugins/Voice/README.md).
    public var garbageBesideSlots = false
    /// The grammar's garbage loop: probability of each phone in it.
    public var garbagePhoneProbability = 0.05
    /// Whether every clip that keeps a grammar path is also searched with the plain grammar, whose path is judged
    /// (the order before 2026-12-07; for comparisons). Off: the grammar with garbage loops is searched first and its
    /// path judged, and the plain grammar only when that path fails the score checks (``SpeechRecognizer/recognize(_:)``).
    public var alwaysSearchPlainGrammar = false
    /// Probability of entering the checked grammar's word loop instead of a slot value (``GarbageLoop/loopWords``;
    /// 0: no word loop). Needs the garbage loop (``garbageEntryProbability`` > 0).
    public var wordLoopEntryProbability = 0.0
    /// Words in the word loop: the commonest of the language model ...
    public var wordLoopSize = 1_000
    /// ... with at least this many phones (short words tile any stretch of speech, names included).
    public var wordLoopMinimumPhones = 3
    /// The language model whose unigram probabilities choose and weight the word loop's words.
    public var languageModelPath = "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin"
    /// Whether every search starts from a reset front end: a new stream (the spectral subtraction's noise estimate
    /// reset) and batch cepstral mean normalisation (the utterance's own mean), so an utterance decodes the same
    /// whatever the decoder heard before, and all searches of it see the same features. Off: PocketSphinx's defaults
    /// (the noise estimate and a live cepstral mean carried over from earlier utterances and searches).
    public var freshFrontEnd = true
    /// Whether the phone loop is a one-state finite-state grammar (``PocketSphinxDecoder/phoneLoopFSG``) instead of
    /// the JSGF `<phone>+`, whose two states each get a copy of every phone HMM. Off: the JSGF loop (the behaviour before).
    public var singleStatePhoneLoop = true
    /// Rejects a match when a slot value's frames score more than this per frame below the phone loop over the same
    /// frames (``Recognition/slotGap``; nil: no such check). Off: see Plugins/Voice/README.md.
    public var maxSlotGap: Double?

    /// Debian's `pocketsphinx-en-us` paths.
    public static let debianEnglish = RecognizerModel(
        acousticModelPath: "/usr/share/pocketsphinx/model/en-us/en-us",
        dictionaryPath: "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict", extraArguments: [])

    public init(acousticModelPath: String, dictionaryPath: String, extraArguments: [String]) {
        self.acousticModelPath = acousticModelPath
        self.dictionaryPath = dictionaryPath
        self.extraArguments = extraArguments
    }
}

/// Why recognition could not run.
public enum RecognizerError: Error, Sendable, CustomStringConvertible {
    case model(String)
    case grammar(String)
    case decode(String)

    public var description: String {
        switch self {
        case .model(let why): return "recogniser model: \(why)"
        case .grammar(let why): return "grammar: \(why)"
        case .decode(let why): return "decoding: \(why)"
        }
    }
}
