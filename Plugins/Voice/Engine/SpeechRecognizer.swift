import Foundation

/// The result of recognising one utterance.
public struct Recognition: Sendable {
    /// The grammar's best transcript (even when rejected; empty when nothing was decoded).
    public var text: String
    /// The intent and slots, nil when the speech is not one of the intents (or is silence or noise).
    public var match: IntentMatch?
    /// 0...1: how close the grammar's path scores to the unconstrained phone loop; below 0.5 is rejected.
    public var confidence: Double
    /// Seconds of audio (at 16 kHz).
    public var audioSeconds: Double
    /// Wall time spent decoding, in milliseconds.
    public var decodeMilliseconds: Double
    /// Phones (not silence or fillers) the phone loop heard.
    public var spokenPhones: Int
    /// Grammar score deficit against the phone loop, per frame (log base 1.0001 units).
    public var gapPerFrame: Double
}

/// Grammar-constrained recognition with out-of-grammar rejection, over a pool of PocketSphinx decoders
/// (at most ``maxDecoders``, each used by one thread at a time, created on first need).
///
/// Rejection: each utterance is decoded with the intents' grammar and with a free phone loop. In-grammar
/// speech scores nearly as well under the grammar as under the phone loop; other sentences and noise, which
/// the grammar forces onto a wrong path, score much worse per frame. Utterances where the phone loop hears
/// fewer than ``minimumPhones`` phones (silence) are rejected outright.
public final class SpeechRecognizer: @unchecked Sendable {
    public let model: RecognizerModel
    public let maxDecoders: Int
    /// Per-frame score gap (grammar vs phone loop) at which confidence falls to 0.5 and the utterance is rejected.
    public var rejectionGap: Double
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
                rejectionGap: Double = 15, minimumPhones: Int = 3) throws {
        self.model = model
        self.synthesizer = synthesizer
        self.maxDecoders = max(1, maxDecoders)
        self.rejectionGap = rejectionGap
        self.minimumPhones = minimumPhones
        dictionary = try PronunciationDictionary(path: model.dictionaryPath)
    }

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
        for word in intents.vocabulary where !dictionary.words.contains(word) {
            let phones = PhoneMapper.cmuPhones(try synthesizer.phonemes(word).flatMap { $0 })
            guard !phones.isEmpty else { throw IntentError.invalid("no pronunciation could be found for the word '\(word)'") }
            added[word] = phones
        }
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
    public func recognize(_ samples: [Int16]) throws -> Recognition {
        guard let grammar = current else { throw RecognizerError.grammar("no intents are installed") }
        let started = DispatchTime.now().uptimeNanoseconds
        let decoder = try acquire()
        defer { release(decoder) }
        try decoder.load(grammar)
        let outcome = try decoder.decode(samples)
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
        let spoken = outcome.phones.filter { $0.hasPrefix("phn_") }.count
        let frames = max(1, outcome.frames)
        let gap = outcome.words.isEmpty ? Double.infinity : Double(outcome.phoneLoopScore - outcome.grammarScore) / Double(frames)
        var confidence = gap.isFinite ? max(0, min(1, 1 - gap / (2 * rejectionGap))) : 0
        var match = grammar.intents.match(outcome.words)
        if spoken < minimumPhones || gap > rejectionGap || match == nil {
            match = nil
            confidence = min(confidence, 0.49)
        }
        return Recognition(text: outcome.words, match: match, confidence: confidence,
                           audioSeconds: Double(samples.count) / Double(AudioConverter.targetRate),
                           decodeMilliseconds: elapsed, spokenPhones: spoken, gapPerFrame: gap)
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
