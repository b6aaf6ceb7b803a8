import CEspeakNG
import Foundation

/// Speech synthesis and phonemisation with espeak-ng's C API.
///
/// espeak-ng keeps its state in process globals, so every call goes through one lock; create one
/// synthesizer per process and pass it where it is needed.
///
/// Every synthesis starts from the same state: espeak-ng 1.51's wave generator keeps state from one
/// utterance to the next in function-local statics (the pitch-flutter index, the glottal-cycle count, the
/// gain control) that no API call resets, so the same text with the same voice came out different after
/// any earlier synthesis (17,988 of 21,406 samples of "call acme now" differed on the second call). This
/// process therefore never synthesises: it loads espeak-ng's data and the default voice once, and each
/// ``synthesize(_:voice:rate:pitch:)`` runs in a child forked from it (C only, no Swift in the child),
/// which selects the voice, sets rate and pitch, seeds libc's `rand` (breath and Klatt noise) and writes
/// its samples to a pipe. The fork costs about as much as the synthesis of a short sentence.
public final class SpeechSynthesizer: @unchecked Sendable {
    /// Why synthesis failed.
    public struct SynthesisError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    private let lock = NSLock()
    /// espeak-ng's output sample rate (22050 Hz with the standard voices).
    public let sampleRate: Int

    /// Initialises espeak-ng for synchronous synthesis; `dataPath` nil uses the installed espeak-ng-data.
    public init(dataPath: String? = nil) throws {
        let rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, dataPath, 0)
        guard rate > 0 else { throw SynthesisError(description: "espeak-ng could not be initialised (data path \(dataPath ?? "default"))") }
        sampleRate = Int(rate)
        // Loaded here once, so that children forked for the default voice do not read its data again.
        guard espeak_SetVoiceByName(Self.defaultVoice) == EE_OK else {
            throw SynthesisError(description: "espeak-ng has no voice '\(Self.defaultVoice)' (data path \(dataPath ?? "default"))")
        }
    }

    /// The voice this process keeps selected between calls.
    public static let defaultVoice = "en-us"

    /// Speaks `text` and returns 16-bit mono samples at ``sampleRate``.
    /// `voice` is an espeak-ng voice name such as `en-us` or `en+f3`; `rate` is words per minute (80-450),
    /// `pitch` 0-100.
    public func synthesize(_ text: String, voice: String = "en-us", rate: Int = 175, pitch: Int = 50) throws -> [Int16] {
        lock.lock()
        defer { lock.unlock() }
        var samples: UnsafeMutablePointer<Int16>?
        var count = 0
        let status = plexus_espeak_synthesize_isolated(voice, Int32(max(80, min(450, rate))), Int32(max(0, min(100, pitch))), text, &samples, &count)
        defer { free(samples) }
        switch status {
        case 0: break
        case Int32(PLEXUS_ESPEAK_CHILD_UNKNOWN_VOICE): throw SynthesisError(description: "unknown voice '\(voice)'")
        case Int32(PLEXUS_ESPEAK_CHILD_SYNTH_FAILED): throw SynthesisError(description: "espeak-ng synthesis failed")
        case ..<0: throw SynthesisError(description: "espeak-ng synthesis process failed: \(String(cString: strerror(-status)))")
        default: throw SynthesisError(description: "espeak-ng synthesis process ended with status \(status)")
        }
        guard let samples else { return [] }
        return Array(UnsafeBufferPointer(start: samples, count: count))
    }

    /// Speaks `text` into a 16-bit mono WAV file.
    public func wav(_ text: String, voice: String = "en-us", rate: Int = 175, pitch: Int = 50) throws -> [UInt8] {
        WAVWriter.pcm16(try synthesize(text, voice: voice, rate: rate, pitch: pitch), sampleRate: sampleRate)
    }

    /// espeak-ng's phonemes (its ASCII names, one array per word) for `text` spoken by `voice`.
    public func phonemes(_ text: String, voice: String = "en-us") throws -> [[String]] {
        lock.lock()
        defer { lock.unlock() }
        // Back to the default voice afterwards (also after a refused name): the state synthesis children are forked from.
        defer { if voice != Self.defaultVoice { espeak_SetVoiceByName(Self.defaultVoice) } }
        guard espeak_SetVoiceByName(voice) == EE_OK else { throw SynthesisError(description: "unknown voice '\(voice)'") }
        var words: [[String]] = []
        text.withCString { cText in
            var pointer: UnsafeRawPointer? = UnsafeRawPointer(cText)
            // Phoneme names separated by '_' (bits 8-23 of the mode hold the separator).
            let mode = Int32(UInt8(ascii: "_")) << 8
            while pointer != nil {
                guard let out = espeak_TextToPhonemes(&pointer, espeakCHARS_UTF8, mode) else { break }
                for word in String(cString: out).split(separator: " ") {
                    words.append(word.split(separator: "_").map(String.init))
                }
            }
        }
        return words
    }
}
