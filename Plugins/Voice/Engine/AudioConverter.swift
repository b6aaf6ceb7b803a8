import CSoxr

/// Converts audio to what the recogniser needs, 16 kHz mono 16-bit, resampling with libsoxr.
public enum AudioConverter {
    /// The recogniser's sample rate.
    public static let targetRate = 16_000

    /// Averages the channels, resamples to 16 kHz with soxr (high quality) and converts to 16-bit.
    public static func toRecognizerFormat(_ audio: PCMAudio) -> [Int16] {
        var mono: [Float]
        if audio.channels == 1 {
            mono = audio.samples
        } else {
            mono = [Float](repeating: 0, count: audio.frameCount)
            for f in 0..<audio.frameCount {
                var sum: Float = 0
                for c in 0..<audio.channels { sum += audio.samples[f * audio.channels + c] }
                mono[f] = sum / Float(audio.channels)
            }
        }
        if audio.sampleRate != targetRate {
            mono = resample(mono, from: audio.sampleRate, to: targetRate)
        }
        return mono.map { Int16(max(-32768, min(32767, ($0 * 32768).rounded()))) }
    }

    /// One-shot soxr resampling of mono float samples.
    public static func resample(_ samples: [Float], from inputRate: Int, to outputRate: Int) -> [Float] {
        let capacity = Int((Double(samples.count) * Double(outputRate) / Double(inputRate)).rounded(.up)) + 16
        var output = [Float](repeating: 0, count: capacity)
        var produced = 0
        var quality = soxr_quality_spec(UInt(SOXR_HQ), 0)
        var io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I)
        samples.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                var consumed = 0
                _ = soxr_oneshot(Double(inputRate), Double(outputRate), 1, input.baseAddress, input.count, &consumed,
                                 out.baseAddress, out.count, &produced, &io, &quality, nil)
            }
        }
        return Array(output.prefix(produced))
    }
}
