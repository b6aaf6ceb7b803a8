/// Why an audio body cannot be recognised; each case names what is wrong.
public enum AudioError: Error, Sendable, Equatable, CustomStringConvertible {
    case notWAV(String)
    case truncatedHeader(String)
    case dataBeyondFile(declared: Int, available: Int)
    case noSamples
    case unsupportedEncoding(String)
    case sampleRateOutOfRange(Int)
    case tooLong(seconds: Double, limit: Double)
    case notAudio(String)

    /// The HTTP status a client gets: 413 for too long, 415 for a body that is not audio, else 422.
    public var httpStatus: Int {
        switch self {
        case .tooLong: return 413
        case .notAudio: return 415
        default: return 422
        }
    }

    public var description: String {
        switch self {
        case .notWAV(let why): return "not a WAV file: \(why)"
        case .truncatedHeader(let why): return "truncated WAV header: \(why)"
        case .dataBeyondFile(let declared, let available):
            return "the data chunk declares \(declared) bytes but only \(available) follow in the file"
        case .noSamples: return "the audio has 0 samples"
        case .unsupportedEncoding(let what): return "unsupported encoding: \(what) (PCM 8/16/24/32-bit integer or 32-bit float, 1 or 2 channels)"
        case .sampleRateOutOfRange(let rate): return "sample rate \(rate) Hz is outside 8000-48000 Hz"
        case .tooLong(let seconds, let limit):
            return "the audio lasts \(String(format2: seconds)) s; at most \(String(format2: limit)) s are accepted"
        case .notAudio(let what): return "the body is not audio: \(what); send audio/wav or audio/L16;rate=N"
        }
    }
}

extension String {
    /// A number with two decimals, without Foundation's locale handling.
    init(format2 value: Double) {
        let hundredths = Int((value * 100).rounded())
        let fraction = abs(hundredths % 100)
        self = "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
