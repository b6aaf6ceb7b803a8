import VoiceEngine

/// The answer of `/recognize` (and the recognition part of `/command`).
struct RecognitionView: Encodable {
    var text: String
    var intent: String?
    var slots: [FilledSlot]
    var confidence: Double
    var audioSeconds: Double
    var decodeMilliseconds: Double

    init(_ recognition: Recognition) {
        text = recognition.text
        intent = recognition.match?.intent
        slots = recognition.match?.slots ?? []
        confidence = (recognition.confidence * 1000).rounded() / 1000
        audioSeconds = (recognition.audioSeconds * 1000).rounded() / 1000
        decodeMilliseconds = (recognition.decodeMilliseconds * 10).rounded() / 10
    }

    enum CodingKeys: String, CodingKey {
        case text, intent, slots, confidence
        case audioSeconds = "audio_seconds"
        case decodeMilliseconds = "decode_ms"
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(text, forKey: .text)
        try c.encode(intent, forKey: .intent)  // explicit null for "not an intent"
        try c.encode(slots, forKey: .slots)
        try c.encode(confidence, forKey: .confidence)
        try c.encode(audioSeconds, forKey: .audioSeconds)
        try c.encode(decodeMilliseconds, forKey: .decodeMilliseconds)
    }
}

/// The answer of `/command`: the recognition, what the action did, and the answer text.
struct CommandView: Encodable {
    var recognition: RecognitionView
    /// `service`, `published`, `none` (no action), `rejected` (not an intent) or `failed`.
    var outcome: String
    var reply: JSONValue?
    var answer: String?
    var error: String?
    var actionMilliseconds: Double

    enum CodingKeys: String, CodingKey {
        case recognition, outcome, reply, answer, error
        case actionMilliseconds = "action_ms"
    }
}

/// One intent's self-test result.
struct SelfTestEntry: Encodable {
    var intent: String
    var sentence: String
    var heard: String
    var recognized: String?
    var passed: Bool
}

/// The self-test answer.
struct SelfTestView: Encodable {
    var passed: Int
    var total: Int
    var ratio: Double
    var results: [SelfTestEntry]
}
