import Foundation
import VoiceEngine

/// Test clips made with espeak-ng: any voice, speed and sample rate, optionally mixed with noise.
enum Clips {
    /// One synthesizer and one recogniser for the whole test run (loading the model takes a while).
    static let synthesizer = try! SpeechSynthesizer()
    static let recognizer = try! SpeechRecognizer(synthesizer: synthesizer, maxDecoders: 2)

    static let intents = IntentConfiguration(
        slots: ["document": ["the lease", "the offer letter", "the contract"], "customer": ["acme", "globex", "initech"]],
        intents: [
            IntentDefinition(name: "compare_documents",
                             templates: ["compare {document} (with|and) {document}",
                                         "(show|tell) me the (changes|differences) between {document} and {document}"],
                             action: IntentAction(service: "documents.compare-named",
                                                  request: .object(["left": .string("{document.0}"), "right": .string("{document.1}")])),
                             answer: "Comparing {document.0} with {document.1}."),
            IntentDefinition(name: "open_ticket", templates: ["(open|create) a [new] ticket for {customer}"],
                             action: IntentAction(publish: "ticket.requested", payload: .object(["customer": .string("{customer}")])),
                             answer: "Opening a ticket for {customer}."),
            IntentDefinition(name: "weather", templates: ["what is the weather [like] today"]),
        ])

    /// A 16-bit mono WAV of `text` at `sampleRate`, with white noise of `noise` (fraction of full scale) added.
    static func wav(_ text: String, voice: String = "en-us", speed: Int = 170, sampleRate: Int = 22_050, noise: Float = 0) throws -> [UInt8] {
        WAVWriter.pcm16(try samples(text, voice: voice, speed: speed, sampleRate: sampleRate, noise: noise), sampleRate: sampleRate)
    }

    static func samples(_ text: String, voice: String = "en-us", speed: Int = 170, sampleRate: Int = 22_050, noise: Float = 0) throws -> [Int16] {
        var floats = try synthesizer.synthesize(text, voice: voice, rate: speed).map { Float($0) / 32768 }
        if sampleRate != synthesizer.sampleRate {
            floats = AudioConverter.resample(floats, from: synthesizer.sampleRate, to: sampleRate)
        }
        var generator = SystemRandomNumberGenerator()
        return floats.map { sample in
            let noisy = sample + (noise > 0 ? Float.random(in: -noise...noise, using: &generator) : 0)
            return Int16(max(-32768, min(32767, (noisy * 32768).rounded())))
        }
    }

    /// Reads, converts and recognises a WAV body.
    static func recognize(_ wav: [UInt8], contentType: String = "audio/wav") throws -> Recognition {
        let audio = try AudioReader.read(wav, contentType: contentType, maxSeconds: 30)
        return try recognizer.recognize(AudioConverter.toRecognizerFormat(audio))
    }

    /// Installs the standard intents (tests that change them put them back).
    static func installStandard() throws {
        if recognizer.current?.intents.configuration != intents { try recognizer.install(intents) }
    }
}
