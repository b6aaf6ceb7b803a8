import XCTest
@testable import VoiceEngine

/// Every malformed audio body gets its own error; good ones in every supported encoding are read.
final class AudioReaderTests: XCTestCase {
    let good = WAVWriter.pcm16([Int16](repeating: 1000, count: 1600), sampleRate: 16_000)

    func error(_ bytes: [UInt8], type: String = "audio/wav", max: Double = 30) -> AudioError? {
        do { _ = try AudioReader.read(bytes, contentType: type, maxSeconds: max); return nil } catch { return error }
    }

    func testBadInputsAreNamed() {
        XCTAssertEqual(error(Array("hello there".utf8)), .notWAV("it does not start with 'RIFF'"))
        XCTAssertEqual(error([]), .notWAV("the body is empty"))
        XCTAssertEqual(error(Array(good.prefix(28))), .truncatedHeader("the 'fmt ' chunk is cut short (8 of 16 bytes)"))
        XCTAssertEqual(error(Array(good.prefix(8))), .truncatedHeader("8 bytes, the RIFF header needs 12"))
        XCTAssertEqual(error(Array(good.prefix(1000))), .dataBeyondFile(declared: 3200, available: 956))
        XCTAssertEqual(error(WAVWriter.pcm16([], sampleRate: 16_000)), .noSamples)
        var alaw = good; alaw[20] = 6
        XCTAssertEqual(error(alaw), .unsupportedEncoding("WAV format tag 6"))
        var twelveBit = good; twelveBit[34] = 12
        XCTAssertEqual(error(twelveBit), .unsupportedEncoding("12-bit integer samples"))
        XCTAssertEqual(error(WAVWriter.pcm16([1, 2], sampleRate: 96_000)), .sampleRateOutOfRange(96_000))
        XCTAssertEqual(error(good, max: 0.05), .tooLong(seconds: 0.1, limit: 0.05))
        XCTAssertEqual(error(good, max: 0.05)?.httpStatus, 413)
        XCTAssertEqual(error(good, type: "application/json"), .notAudio("content type application/json"))
        XCTAssertEqual(error([0, 1], type: "audio/L16"), .unsupportedEncoding("audio/L16 without a rate parameter"))
        XCTAssertEqual(error([], type: "audio/L16;rate=16000"), .noSamples)
    }

    func testReadsEverySupportedEncoding() throws {
        // 16-bit mono through the writer; 24-bit stereo and 32-bit float built by hand.
        XCTAssertEqual(try AudioReader.readWAV(good, maxSeconds: 30).frameCount, 1600)
        for (tag, bits) in [(1, 8), (1, 24), (1, 32), (3, 32)] {
            let wav = Self.wav(tag: tag, bits: bits, channels: 2, rate: 44_100, frames: 441)
            let audio = try AudioReader.readWAV(wav, maxSeconds: 30)
            XCTAssertEqual(audio.channels, 2); XCTAssertEqual(audio.frameCount, 441); XCTAssertEqual(audio.sampleRate, 44_100)
            XCTAssertEqual(AudioConverter.toRecognizerFormat(audio).count, 160, accuracy: 2)
        }
        let l16 = try AudioReader.read([0x10, 0x00, 0xF0, 0x00], contentType: "audio/L16; rate=8000", maxSeconds: 1)
        XCTAssertEqual(l16.samples, [Float(4096) / 32768, Float(-4096) / 32768])
    }

    static func wav(tag: Int, bits: Int, channels: Int, rate: Int, frames: Int) -> [UInt8] {
        let data = frames * channels * bits / 8
        var out: [UInt8] = []
        func u(_ v: Int, _ n: Int) { for i in 0..<n { out.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
        out += Array("RIFF".utf8); u(36 + data, 4); out += Array("WAVE".utf8) + Array("fmt ".utf8)
        u(16, 4); u(tag, 2); u(channels, 2); u(rate, 4); u(rate * channels * bits / 8, 4); u(channels * bits / 8, 2); u(bits, 2)
        out += Array("data".utf8); u(data, 4)
        out += [UInt8](repeating: tag == 3 ? 0 : 0x40, count: data)
        return out
    }
}
