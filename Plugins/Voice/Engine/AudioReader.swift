/// PCM audio as read from a request: interleaved samples in -1...1.
public struct PCMAudio: Sendable {
    /// Interleaved samples, scaled to -1...1.
    public var samples: [Float]
    public var sampleRate: Int
    public var channels: Int

    /// Frames (samples per channel).
    public var frameCount: Int { samples.count / max(1, channels) }
    /// Duration in seconds.
    public var seconds: Double { Double(frameCount) / Double(sampleRate) }

    public init(samples: [Float], sampleRate: Int, channels: Int) {
        self.samples = samples
        self.sampleRate = sampleRate
        self.channels = channels
    }
}

/// Reads WAV (RIFF) files and raw `audio/L16` bodies, refusing every malformed input with an ``AudioError``.
public enum AudioReader {
    /// Reads a body by its content type: `audio/L16;rate=N[;channels=C]` as raw big-endian 16-bit,
    /// anything else as WAV (a body that is not RIFF is refused).
    public static func read(_ bytes: [UInt8], contentType: String?, maxSeconds: Double) throws(AudioError) -> PCMAudio {
        let type = (contentType ?? "").lowercased()
        if type.hasPrefix("audio/l16") {
            return try readL16(bytes, parameters: type, maxSeconds: maxSeconds)
        }
        if !type.isEmpty, !(type.hasPrefix("audio/") || type.hasPrefix("application/octet-stream")) {
            throw .notAudio("content type \(contentType ?? "")")
        }
        return try readWAV(bytes, maxSeconds: maxSeconds)
    }

    /// Raw signed 16-bit big-endian samples (RFC 2586); `parameters` holds `rate=` and optionally `channels=`.
    public static func readL16(_ bytes: [UInt8], parameters: String, maxSeconds: Double) throws(AudioError) -> PCMAudio {
        var rate: Int?
        var channels = 1
        for field in parameters.split(separator: ";").dropFirst() {
            let pair = field.split(separator: "=", maxSplits: 1).map { String($0).trimmingSpaces }
            guard pair.count == 2 else { continue }
            if pair[0] == "rate" { rate = Int(pair[1]) }
            if pair[0] == "channels" { channels = Int(pair[1]) ?? 0 }
        }
        guard let rate else { throw .unsupportedEncoding("audio/L16 without a rate parameter") }
        try checkFormat(rate: rate, channels: channels)
        let frames = bytes.count / (2 * channels)
        guard frames > 0 else { throw .noSamples }
        try checkLength(frames: frames, rate: rate, maxSeconds: maxSeconds)
        var samples = [Float](repeating: 0, count: frames * channels)
        for i in 0..<samples.count {
            samples[i] = Float(Int16(bitPattern: UInt16(bytes[2 * i]) << 8 | UInt16(bytes[2 * i + 1]))) / 32768
        }
        return PCMAudio(samples: samples, sampleRate: rate, channels: channels)
    }

    /// A RIFF/WAVE file: PCM 8/16/24/32-bit integer or 32-bit float (also in WAVE_FORMAT_EXTENSIBLE), 1-2 channels.
    public static func readWAV(_ bytes: [UInt8], maxSeconds: Double) throws(AudioError) -> PCMAudio {
        guard bytes.count >= 4, bytes[0..<4].elementsEqual("RIFF".utf8) else {
            throw .notWAV(bytes.isEmpty ? "the body is empty" : "it does not start with 'RIFF'")
        }
        guard bytes.count >= 12 else { throw .truncatedHeader("\(bytes.count) bytes, the RIFF header needs 12") }
        guard bytes[8..<12].elementsEqual("WAVE".utf8) else { throw .notWAV("the RIFF form type is not 'WAVE'") }
        var offset = 12
        var format: (tag: Int, channels: Int, rate: Int, blockAlign: Int, bits: Int)?
        while true {
            guard offset + 8 <= bytes.count else {
                throw .truncatedHeader(format == nil ? "no 'fmt ' chunk before the end of the file" : "no 'data' chunk before the end of the file")
            }
            let id = String(decoding: bytes[offset..<offset + 4], as: UTF8.self)
            let size = Int(le32(bytes, offset + 4))
            let body = offset + 8
            if id == "fmt " {
                guard size >= 16, body + 16 <= bytes.count else { throw .truncatedHeader("the 'fmt ' chunk is cut short (\(bytes.count - body) of 16 bytes)") }
                var tag = Int(le16(bytes, body))
                if tag == 0xFFFE, size >= 40, body + 26 <= bytes.count { tag = Int(le16(bytes, body + 24)) }
                format = (tag, Int(le16(bytes, body + 2)), Int(le32(bytes, body + 4)), Int(le16(bytes, body + 12)), Int(le16(bytes, body + 14)))
            } else if id == "data" {
                guard let format else { throw .notWAV("the 'data' chunk comes before any 'fmt ' chunk") }
                let available = bytes.count - body
                guard size <= available else { throw .dataBeyondFile(declared: size, available: available) }
                return try decode(bytes[body..<body + size], format: format, maxSeconds: maxSeconds)
            }
            offset = body + size + (size & 1)
        }
    }

    private static func decode(_ data: ArraySlice<UInt8>, format: (tag: Int, channels: Int, rate: Int, blockAlign: Int, bits: Int),
                               maxSeconds: Double) throws(AudioError) -> PCMAudio {
        let (tag, channels, rate, _, bits) = format
        guard tag == 1 || tag == 3 else { throw .unsupportedEncoding("WAV format tag \(tag)") }
        guard (tag == 1 && [8, 16, 24, 32].contains(bits)) || (tag == 3 && bits == 32) else {
            throw .unsupportedEncoding("\(bits)-bit \(tag == 3 ? "float" : "integer") samples")
        }
        try checkFormat(rate: rate, channels: channels)
        let width = bits / 8
        let frames = data.count / (width * channels)
        guard frames > 0 else { throw .noSamples }
        try checkLength(frames: frames, rate: rate, maxSeconds: maxSeconds)
        var samples = [Float](repeating: 0, count: frames * channels)
        var p = data.startIndex
        for i in 0..<samples.count {
            switch (tag, bits) {
            case (1, 8): samples[i] = (Float(data[p]) - 128) / 128
            case (1, 16): samples[i] = Float(Int16(bitPattern: le16(data, p))) / 32768
            case (1, 24):
                let v = Int32(bitPattern: UInt32(data[p]) << 8 | UInt32(data[p + 1]) << 16 | UInt32(data[p + 2]) << 24) >> 8
                samples[i] = Float(v) / 8_388_608
            case (1, _): samples[i] = Float(Int32(bitPattern: le32(data, p))) / 2_147_483_648
            default:
                let v = Float(bitPattern: le32(data, p))
                samples[i] = v.isFinite ? max(-1, min(1, v)) : 0
            }
            p += width
        }
        return PCMAudio(samples: samples, sampleRate: rate, channels: channels)
    }

    private static func checkFormat(rate: Int, channels: Int) throws(AudioError) {
        guard channels == 1 || channels == 2 else { throw .unsupportedEncoding("\(channels) channels") }
        guard (8_000...48_000).contains(rate) else { throw .sampleRateOutOfRange(rate) }
    }

    private static func checkLength(frames: Int, rate: Int, maxSeconds: Double) throws(AudioError) {
        let seconds = Double(frames) / Double(rate)
        if seconds > maxSeconds { throw .tooLong(seconds: seconds, limit: maxSeconds) }
    }

    private static func le16<C: Collection>(_ b: C, _ i: C.Index) -> UInt16 where C.Element == UInt8, C.Index == Int {
        UInt16(b[i]) | UInt16(b[i + 1]) << 8
    }

    private static func le32<C: Collection>(_ b: C, _ i: C.Index) -> UInt32 where C.Element == UInt8, C.Index == Int {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }
}
