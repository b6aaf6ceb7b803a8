import Foundation
import PlexusSDK
import VoiceEngine

/// The HTTP face of the voice plugin. Audio parsing, resampling, decoding and synthesis run off the loop
/// (``PluginContext/offLoop(_:)``); ``DecodeGate`` bounds how many decodes run and wait.
@PluginActor
final class VoiceRoutes {
    static let base = "/api/v1/voice"
    /// The longest text `/say` speaks.
    static let maxSayCharacters = 2_000

    private let context: PluginContext
    private let recognizer: SpeechRecognizer
    private let synthesizer: SpeechSynthesizer
    private let settings: VoiceSettings
    private let gate: DecodeGate
    private(set) var lastSelfTestRatio: Double?

    init(context: PluginContext, recognizer: SpeechRecognizer, synthesizer: SpeechSynthesizer, settings: VoiceSettings, gate: DecodeGate) {
        self.context = context
        self.recognizer = recognizer
        self.synthesizer = synthesizer
        self.settings = settings
        self.gate = gate
    }

    func register() throws {
        let routes = context.routes
        let audioBytes = UInt64(settings.maxAudioSeconds * 48_000 * 2 * 4 + 4_096)
        try routes.post(Self.base + "/recognize", options: RouteOptions(summary: "Recognise speech (WAV or audio/L16) against the intents"),
                        maxBodyBytes: audioBytes) { [unowned self] request async in
            await guarded(request) { try .json(RecognitionView(try await recognize(request))) }
        }
        try routes.post(Self.base + "/command", options: RouteOptions(summary: "Recognise, run the intent's action, answer (JSON or Accept: audio/wav)"),
                        maxBodyBytes: audioBytes) { [unowned self] request async in
            await guarded(request) { try await command(request) }
        }
        try routes.post(Self.base + "/say", options: RouteOptions(summary: "Text to WAV; ?voice=, ?rate= (80-450 wpm), ?pitch= (0-100)"),
                        maxBodyBytes: 64 * 1024) { [unowned self] request async in
            await guarded(request) { try await say(request) }
        }
        try routes.get(Self.base + "/selftest", options: RouteOptions(summary: "Speak each template's first sentence and recognise it back")) { [unowned self] request async in
            await guarded(request) { try await selfTest() }
        }
        try routes.get(Self.base + "/intents", options: RouteOptions(summary: "The intents in use")) { [unowned self] request in
            guarded(request) { try .json(recognizer.current?.intents.configuration) }
        }
        try routes.put(Self.base + "/intents", options: RouteOptions(roles: ["admin"], summary: "Replace the intents (takes effect at once)"),
                       maxBodyBytes: 4 << 20) { [unowned self] request async in
            await guarded(request) { try await replaceIntents(request) }
        }
    }

    // MARK: Handlers

    private func recognize(_ request: Request) async throws -> Recognition {
        guard await gate.enter() else { throw Busy() }
        defer { gate.leave() }
        let (body, type, limit, recognizer) = (request.body, request.headers["Content-Type"], settings.maxAudioSeconds, self.recognizer)
        return try await context.offLoop {
            let audio: PCMAudio
            do { audio = try AudioReader.read(body, contentType: type, maxSeconds: limit) } catch let error as AudioError { throw VoiceProblem.audio(error) }
            return try recognizer.recognize(AudioConverter.toRecognizerFormat(audio))
        }
    }

    private func command(_ request: Request) async throws -> Response {
        let recognition = try await recognize(request)
        let view = RecognitionView(recognition)
        let tenant = request.verifiedTenant ?? ""
        try await context.bus.publish("voice.command.received", json: CommandEvent(recognition: view), tenant: tenant)
        let started = ContinuousClock.now
        var outcome = "rejected", reply: JSONValue?, failure: String?, answer: String?
        if let match = recognition.match, let intent = recognizer.current?.intents.configuration.intents.first(where: { $0.name == match.intent }) {
            var filler = SlotFiller(slots: match.slots)
            outcome = "none"
            do {
                if let action = intent.action, let service = action.service {
                    let payload = try JSONEncoder().encode(action.request?.filled(filler.fill) ?? .object([:]))
                    let bytes = try await context.services.call(service, payload: Array(payload))
                    let decoded = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
                    reply = decoded ?? .string(String(decoding: bytes, as: UTF8.self))
                    if case .object(let fields)? = decoded { filler.reply = fields }
                    outcome = "service"
                } else if let action = intent.action, let topic = action.publish {
                    try await context.bus.publish(topic, json: action.payload?.filled(filler.fill) ?? .object([:]), tenant: tenant)
                    outcome = "published"
                }
                answer = intent.answer.map(filler.fill)
            } catch {
                outcome = "failed"
                failure = "\(error)"
            }
        }
        let actionMilliseconds = Double((ContinuousClock.now - started).components.attoseconds / 1_000_000_000_000_000) / 1000
            + Double((ContinuousClock.now - started).components.seconds) * 1000
        let result = CommandView(recognition: view, outcome: outcome, reply: reply, answer: answer, error: failure, actionMilliseconds: actionMilliseconds)
        try await context.bus.publish("voice.command.completed", json: CompletedEvent(result), tenant: tenant)
        guard (request.headers["Accept"] ?? "").lowercased().contains("audio/wav") else { return try .json(result) }
        let spoken = answer ?? (outcome == "rejected" ? "Sorry, I did not understand." : outcome == "failed" ? "Sorry, that did not work." : "Done.")
        return try await wav(spoken, voice: settings.voice, rate: 175, pitch: 50)
    }

    private func say(_ request: Request) async throws -> Response {
        let query = request.query
        var text = query["text"] ?? ""
        if text.isEmpty, let body = request.bodyText {
            text = (request.headers["Content-Type"] ?? "").contains("json") ? (try? JSONDecoder().decode([String: String].self, from: Data(body.utf8)))?["text"] ?? "" : body
        }
        text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw HTTPError.badRequest("nothing to say: send text as the body, {\"text\": ...} or ?text=") }
        guard text.count <= Self.maxSayCharacters else { throw HTTPError.payloadTooLarge("\(text.count) characters; at most \(Self.maxSayCharacters)") }
        let rate = try Self.bounded(query["rate"], name: "rate", 80...450, default: 175)
        let pitch = try Self.bounded(query["pitch"], name: "pitch", 0...100, default: 50)
        return try await wav(text, voice: query["voice"] ?? settings.voice, rate: rate, pitch: pitch)
    }

    private func wav(_ text: String, voice: String, rate: Int, pitch: Int) async throws -> Response {
        let synthesizer = self.synthesizer
        let bytes = try await context.offLoop { () throws -> [UInt8] in
            do { return try synthesizer.wav(text, voice: voice, rate: rate, pitch: pitch) } catch let error as SpeechSynthesizer.SynthesisError {
                throw HTTPError.unprocessable(error.description)
            }
        }
        return Response(headers: Headers([("Content-Type", "audio/wav")]), body: bytes)
    }

    private func selfTest() async throws -> Response {
        guard let grammar = recognizer.current else { throw HTTPError.unavailable("no intents installed") }
        guard await gate.enter() else { throw Busy() }
        defer { gate.leave() }
        let (synthesizer, recognizer, voice) = (self.synthesizer, self.recognizer, settings.voice)
        let results = try await context.offLoop { () throws -> [SelfTestEntry] in
            try grammar.intents.firstSentences().map { intent, sentence in
                let samples = try synthesizer.synthesize(sentence, voice: voice)
                let audio = PCMAudio(samples: samples.map { Float($0) / 32768 }, sampleRate: synthesizer.sampleRate, channels: 1)
                let heard = try recognizer.recognize(AudioConverter.toRecognizerFormat(audio))
                let passed = heard.match?.intent == intent && heard.match.map { grammar.intents.match(sentence)?.slots == $0.slots } == true
                return SelfTestEntry(intent: intent, sentence: sentence, heard: heard.text, recognized: heard.match?.intent, passed: passed)
            }
        }
        let passed = results.filter(\.passed).count
        let ratio = results.isEmpty ? 0 : (Double(passed) / Double(results.count) * 1000).rounded() / 1000
        lastSelfTestRatio = ratio
        return try .json(SelfTestView(passed: passed, total: results.count, ratio: ratio, results: results))
    }

    private func replaceIntents(_ request: Request) async throws -> Response {
        let configuration: IntentConfiguration
        do { configuration = try JSONDecoder().decode(IntentConfiguration.self, from: Data(request.body)) } catch {
            throw HTTPError.badRequest("the body is not an intents document ({\"slots\": {...}, \"intents\": [...]}): \(error)")
        }
        let recognizer = self.recognizer
        do {
            try VoicePlugin.checkActionTopics(configuration)
            let compiled = try await context.offLoop { try recognizer.install(configuration) }
            context.logger.info("voice intents replaced", metadata: ["intents": "\(configuration.intents.count)"])
            return try .json(["intents": compiled.intents.configuration.intents.count, "added_pronunciations": compiled.addedPronunciations.count])
        } catch let error as IntentError {
            throw VoiceProblem.intents(error)
        }
    }

    // MARK: Helpers

    private static func bounded(_ text: String?, name: String, _ range: ClosedRange<Int>, default value: Int) throws -> Int {
        guard let text else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw HTTPError.badRequest("query parameter \(name)=\(text) is not a whole number in \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    private func guarded(_ request: Request, _ body: () async throws -> Response) async -> Response {
        do { return try await body() } catch { return problem(error, request) }
    }

    private func guarded(_ request: Request, _ body: () throws -> Response) -> Response {
        do { return try body() } catch { return problem(error, request) }
    }

    private func problem(_ error: Error, _ request: Request) -> Response {
        if error is Busy {
            var response = ProblemDetails.response(for: HTTPError.unavailable("all decoders are busy and the queue is full; retry shortly"), instance: request.requestID)
            response.headers.set("Retry-After", "1")
            return response
        }
        if !(error is HTTPResponseError) {
            context.logger.error("voice handler failed", metadata: ["request_id": "\(request.requestID)", "path": "\(request.path)", "error": "\(error)"])
        }
        return ProblemDetails.response(for: error, instance: request.requestID)
    }

    private struct Busy: Error {}
}

/// `voice.command.received`.
struct CommandEvent: Encodable {
    var recognition: RecognitionView
}

/// `voice.command.completed`.
struct CompletedEvent: Encodable {
    var intent: String?
    var slots: [FilledSlot]
    var outcome: String
    var error: String?
    var decodeMilliseconds: Double
    var actionMilliseconds: Double

    init(_ view: CommandView) {
        intent = view.recognition.intent
        slots = view.recognition.slots
        outcome = view.outcome
        error = view.error
        decodeMilliseconds = view.recognition.decodeMilliseconds
        actionMilliseconds = view.actionMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case intent, slots, outcome, error
        case decodeMilliseconds = "decode_ms"
        case actionMilliseconds = "action_ms"
    }
}
