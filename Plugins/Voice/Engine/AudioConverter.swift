import CSoxr

/// Converts audio to what the recogniser needs, 16 kHz mono 16-bit, resampling with libsoxr.
public enum AudioConverter {
    /// The recogniser's sample rate.
    public static let targetRate = 16_000

    /// Noise put into the band a narrowband recording lacks, relative to the clip's RMS level (see ``fillMissingBand``).
    public static let missingBandNoiseLevel: Float = 0.1

    /// Averages the channels, resamples to 16 kHz with soxr (high quality) and converts to 16-bit. Audio recorded
    /// below 16 kHz (telephone audio at 8 kHz) has nothing above half its rate; that band gets low-level noise.
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
        if audio.sampleRate < targetRate {
            fillMissingBand(&mono, above: audio.sampleRate / 2, level: missingBandNoiseLevel)
        }
        return mono.map { Int16(max(-32768, min(32767, ($0 * 32768).rounded()))) }
    }

    /// Adds noise between `edge` Hz and 8 kHz to 16 kHz samples, at `level` times their RMS.
    ///
    /// The en-us model is wideband: its filter bank reaches 6.8 kHz. Resampled narrowband audio is empty above
    /// its old Nyquist frequency, the log energies of those filters fall far below anything the model was trained
    /// on, and recognition of 8 kHz speech drops sharply. A noise floor in that band (what a wideband microphone
    /// would have picked up) brings those features back into range. The noise is deterministic (fixed seed): white
    /// noise made at twice the band's width, upsampled to 16 kHz with soxr (so it fills 0...width), then shifted up
    /// by 8 kHz through multiplication with (-1)^n (so it fills 8 kHz - width...8 kHz).
    public static func fillMissingBand(_ samples: inout [Float], above edge: Int, level: Float) {
        let width = targetRate / 2 - edge
        guard width > 0, !samples.isEmpty, level > 0 else { return }
        var power: Double = 0
        for x in samples { power += Double(x) * Double(x) }
        let rms = Float((power / Double(samples.count)).squareRoot())
        guard rms > 0 else { return }
        let rate = 2 * width
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func uniform() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(state >> 40) / Float(1 << 24)
        }
        // Sum of four uniforms: close enough to Gaussian for a noise floor.
        let count = Int((Double(samples.count) * Double(rate) / Double(targetRate)).rounded(.up)) + 64
        let white = (0..<count).map { _ in uniform() + uniform() + uniform() + uniform() - 2 }
        var band = resample(white, from: rate, to: targetRate)
        if band.count < samples.count { band += [Float](repeating: 0, count: samples.count - band.count) }
        var bandPower: Double = 0
        for index in samples.indices { bandPower += Double(band[index]) * Double(band[index]) }
        let bandRMS = Float((bandPower / Double(samples.count)).squareRoot())
        guard bandRMS > 0 else { return }
        let gain = level * rms / bandRMS
        for index in samples.indices {
            samples[index] += (index & 1 == 0 ? gain : -gain) * band[index]
        }
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
