import CEspeakNG
import Foundation

/// Speech synthesis and phonemisation with espeak-ng's C API.
///
/// espeak-ng keeps its state in process globals, so every call goes through one lock; create one
/// synthesizer per process and pass it where it is needed.
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
        espeak_SetSynthCallback(synthCallback)
    }

    /// Speaks `text` and returns 16-bit mono samples at ``sampleRate``.
    /// `voice` is an espeak-ng voice name such as `en-us` or `en+f3`; `rate` is words per minute (80-450),
    /// `pitch` 0-100.
    public func synthesize(_ text: String, voice: String = "en-us", rate: Int = 175, pitch: Int = 50) throws -> [Int16] {
        lock.lock()
        defer { lock.unlock() }
        guard espeak_SetVoiceByName(voice) == EE_OK else { throw SynthesisError(description: "unknown voice '\(voice)'") }
        espeak_SetParameter(espeakRATE, Int32(max(80, min(450, rate))), 0)
        espeak_SetParameter(espeakPITCH, Int32(max(0, min(100, pitch))), 0)
        let sink = SampleSink()
        let unmanaged = Unmanaged.passRetained(sink)
        defer { unmanaged.release() }
        let status = text.withCString { cText in
            espeak_Synth(cText, strlen(cText) + 1, 0, POS_CHARACTER, 0, UInt32(espeakCHARS_UTF8), nil, unmanaged.toOpaque())
        }
        guard status == EE_OK else { throw SynthesisError(description: "espeak-ng synthesis failed (status \(status.rawValue))") }
        return sink.samples
    }

    /// Speaks `text` into a 16-bit mono WAV file.
    public func wav(_ text: String, voice: String = "en-us", rate: Int = 175, pitch: Int = 50) throws -> [UInt8] {
        WAVWriter.pcm16(try synthesize(text, voice: voice, rate: rate, pitch: pitch), sampleRate: sampleRate)
    }

    /// espeak-ng's phonemes (its ASCII names, one array per word) for `text` spoken by `voice`.
    public func phonemes(_ text: String, voice: String = "en-us") throws -> [[String]] {
        lock.lock()
        defer { lock.unlock() }
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

/// Collects samples from espeak-ng's callback; passed through `user_data`.
private final class SampleSink {
    var samples: [Int16] = []
}

private let synthCallback: @convention(c) (UnsafeMutablePointer<Int16>?, Int32, UnsafeMutablePointer<espeak_EVENT>?) -> Int32 = { wav, count, events in
    guard let wav, count > 0, let userData = events?.pointee.user_data else { return 0 }
    let sink = Unmanaged<SampleSink>.fromOpaque(userData).takeUnretainedValue()
    sink.samples.append(contentsOf: UnsafeBufferPointer(start: wav, count: Int(count)))
    return 0
}
