import Foundation
import PlexusSDK
import VoiceEngine

/// The voice plugin: speech to intent to action to a spoken answer.
///
/// Routes under `/api/v1/voice` (see ``VoiceRoutes``): `recognize`, `command`, `say`, `selftest`, `intents`.
///
/// Configuration (`plugins.d/voice.toml`):
/// - `intents`: the intents as JSON text (the same form `PUT /api/v1/voice/intents` takes), or
///   `intents_file`: a path to such a JSON file. Without either the plugin starts with a small demo set.
/// - `max_audio_seconds` (30): longer audio is refused with 413.
/// - `max_concurrent_decodes` (2): decoders (one PocketSphinx decoder each, models loaded once per decoder).
/// - `max_queued_decodes` (8): requests waiting for a decoder; beyond that 503 with `Retry-After`.
/// - `voice` (`en-us`): the espeak-ng voice for answers.
/// - `rejection_gap` (1): per-frame acoustic score gap (grammar vs phone loop) beyond which speech is not an intent.
/// - `max_absorbed_speech` (0.4): fraction of the speech frames the grammar path may spend in silence or noise.
/// - `model_path`, `dictionary_path`: PocketSphinx model (Debian's `pocketsphinx-en-us` by default).
@PluginActor
final class VoicePlugin: Plugin {
    static let manifest = PluginManifest(
        name: "voice",
        version: "0.1.0",
        description: "Voice commands: PocketSphinx recognition against operator-defined intents, bus actions, espeak-ng answers",
        publishes: [
            TopicDeclaration("voice.command.received", description: "A command was recognised: {intent, slots, text, confidence, audio_seconds, decode_ms}"),
            TopicDeclaration("voice.command.completed", description: "A command's action ended: {intent, slots, outcome, error, decode_ms, action_ms}"),
            TopicDeclaration(actionTopicPrefix + "#", description: "Intent actions that publish: the operator's payload with the slots filled in"),
        ],
        configKeys: ["intents", "intents_file", "max_audio_seconds", "max_concurrent_decodes", "max_queued_decodes", "voice",
                     "rejection_gap", "max_absorbed_speech", "model_path", "dictionary_path"]
    )

    private let routes: VoiceRoutes

    init(context: PluginContext) throws {
        let config = context.config
        var model = RecognizerModel.debianEnglish
        if let path = config["model_path"] { model.acousticModelPath = path }
        if let path = config["dictionary_path"] { model.dictionaryPath = path }
        let synthesizer = try SpeechSynthesizer()
        let concurrent = min(16, max(1, config.int("max_concurrent_decodes", default: 2)))
        let gap = Double(config.string("rejection_gap", default: "")) ?? SpeechRecognizer.defaultRejectionGap
        let absorbed = Double(config.string("max_absorbed_speech", default: "")) ?? SpeechRecognizer.defaultMaxAbsorbedSpeech
        let recognizer = try SpeechRecognizer(model: model, synthesizer: synthesizer, maxDecoders: concurrent,
                                              rejectionGap: min(1_000, max(-1_000, gap)), maxAbsorbedSpeech: min(1, max(0, absorbed)))
        let configuration = try Self.intents(config)
        do {
            try Self.checkActionTopics(configuration)
            try recognizer.install(configuration)
        } catch let error as IntentError {
            throw PluginError.unsupported("plugins.d/voice.toml intents: \(error)")
        }
        let settings = VoiceSettings(maxAudioSeconds: Double(min(600, max(1, config.int("max_audio_seconds", default: 30)))),
                                     voice: config.string("voice", default: "en-us"))
        routes = VoiceRoutes(context: context, recognizer: recognizer, synthesizer: synthesizer, settings: settings,
                             gate: DecodeGate(running: concurrent, queued: min(1000, max(0, config.int("max_queued_decodes", default: 8)))))
        try routes.register()
        context.logger.info("voice ready", metadata: ["intents": "\(configuration.intents.count)", "decoders": "\(concurrent)"])
    }

    /// Healthy while the last self-test (if any) passed every intent; degraded below that, failing under half.
    func health() -> HealthReport {
        guard let ratio = routes.lastSelfTestRatio else { return HealthReport(status: .ok, detail: "no self-test run yet") }
        let detail = "self-test pass ratio \(ratio)"
        return HealthReport(status: ratio >= 1 ? .ok : ratio >= 0.5 ? .degraded : .failing, detail: detail)
    }

    /// The runtime lets a plugin publish only on topics its manifest declares, so publishing actions use
    /// topics under this prefix.
    static let actionTopicPrefix = "voice.action."

    /// Refuses publishing actions whose topic is outside ``actionTopicPrefix``.
    static func checkActionTopics(_ configuration: IntentConfiguration) throws(IntentError) {
        for intent in configuration.intents {
            if let topic = intent.action?.publish, !topic.hasPrefix(actionTopicPrefix) || topic.count <= actionTopicPrefix.count {
                throw .invalid("intent '\(intent.name)': publish topic '\(topic)' must start with '\(actionTopicPrefix)' (a plugin publishes only on topics its manifest declares)")
            }
        }
    }

    private static func intents(_ config: PluginConfig) throws -> IntentConfiguration {
        var json = config["intents"]
        if json == nil, let path = config["intents_file"] {
            json = try String(contentsOfFile: path, encoding: .utf8)
        }
        guard let json else { return demoIntents }
        return try JSONDecoder().decode(IntentConfiguration.self, from: Data(json.utf8))
    }

    /// Used when no intents are configured.
    static let demoIntents = IntentConfiguration(
        slots: ["customer": ["acme", "globex"]],
        intents: [IntentDefinition(name: "open_ticket", templates: ["(open|create) a [new] ticket for {customer}"],
                                   action: IntentAction(publish: "voice.action.ticket.requested", payload: .object(["customer": .string("{customer}")])),
                                   answer: "Opening a ticket for {customer}.")])
}

/// Settings the routes need.
struct VoiceSettings: Sendable {
    var maxAudioSeconds: Double
    var voice: String
}

/// The C entry point the runtime looks up in `libPlexusVoice.so`.
@_cdecl("plexus_plugin_entry_v1")
public func plexusPluginEntry(_ host: UnsafeRawPointer?) -> UnsafeRawPointer? {
    PluginExport.descriptor(for: VoicePlugin.self, host: host)
}
