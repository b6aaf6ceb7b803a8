import PlexusSDK
import VoiceEngine

/// The plugin's client errors as problem+json answers.
struct VoiceProblem: HTTPResponseError {
    var status: Int
    var title: String
    var detail: String

    init(status: Int, detail: String) {
        self.status = status
        self.title = HTTPStatus.reasonPhrase(status)
        self.detail = detail
    }

    /// A bad audio body: 413 too long, 415 not audio, 422 otherwise.
    static func audio(_ error: AudioError) -> VoiceProblem { VoiceProblem(status: error.httpStatus, detail: error.description) }

    /// Intents that cannot be used: 422 naming the intent, template and position.
    static func intents(_ error: IntentError) -> VoiceProblem { VoiceProblem(status: 422, detail: error.description) }
}
