import Foundation
import VoiceEngine
import XCTest

/// Every synthesis starts from the same espeak-ng state: the same text and voice give the same samples
/// whatever was synthesised or phonemised before (issue 14: variants used to change later clips).
final class SynthesisStateTests: XCTestCase {
    private let text = "call acme now"

    /// Equal sample arrays; on failure the lengths and the first differing sample, not both arrays.
    private func assertSame(_ actual: [Int16], _ expected: [Int16], _ message: String, line: UInt = #line) {
        guard actual != expected else { return }
        let first = zip(actual, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(actual.count, expected.count)
        let differing = zip(actual, expected).filter { $0 != $1 }.count
        XCTFail("\(message): \(actual.count) samples against \(expected.count), first difference at \(first), \(differing) differ", line: line)
    }

    func testDefaultVoiceGivesTheSameSamplesBeforeAndAfterVariants() throws {
        let synthesizer = Clips.synthesizer
        let before = try synthesizer.synthesize(text)
        XCTAssertGreaterThan(before.count, 10_000, "speech was made")
        assertSame(try synthesizer.synthesize(text), before, "the same call twice")
        for variant in ["en-us+m3", "en", "en-us+f3", "en-us+klatt4", "en-gb-scotland+m5"] {
            let spoken = try synthesizer.synthesize(text, voice: variant, rate: 200, pitch: 80)
            XCTAssertNotEqual(spoken, before, "\(variant) sounds different")
            assertSame(try synthesizer.synthesize(text), before, "default voice after \(variant)")
        }
    }

    func testBreathyAndKlattVariantsRepeatThemselves() throws {
        // f3 adds breath noise and klatt4 uses the Klatt generator: both draw from libc's rand().
        for variant in ["en-us+f3", "en-us+klatt4"] {
            let first = try Clips.synthesizer.synthesize(text, voice: variant)
            _ = try Clips.synthesizer.synthesize("something else entirely", voice: "en+m3", rate: 120)
            assertSame(try Clips.synthesizer.synthesize(text, voice: variant), first, variant)
        }
    }

    func testPhonemisingWithAnotherVoiceLeavesSynthesisUnchanged() throws {
        let before = try Clips.synthesizer.synthesize(text)
        XCTAssertFalse(try Clips.synthesizer.phonemes("globex initech", voice: "en-gb-scotland").isEmpty)
        assertSame(try Clips.synthesizer.synthesize(text), before, "default voice")
    }

    func testSynthesisWorksWhenChildrenAreReapedByTheSystem() throws {
        // A host that ignores SIGCHLD has its children reaped at once, so waitpid finds none: the samples decide.
        let before = try Clips.synthesizer.synthesize(text)
        let previous = signal(SIGCHLD, SIG_IGN)
        defer { signal(SIGCHLD, previous) }
        assertSame(try Clips.synthesizer.synthesize(text), before, "with SIGCHLD ignored")
        XCTAssertThrowsError(try Clips.synthesizer.synthesize(text, voice: "xx-nonexistent"), "no samples: an error")
    }

    func testUnknownVoiceIsRefusedAndLeavesNothingBehind() throws {
        let before = try Clips.synthesizer.synthesize(text)
        XCTAssertThrowsError(try Clips.synthesizer.synthesize(text, voice: "xx-nonexistent")) { error in
            XCTAssertTrue("\(error)".contains("unknown voice 'xx-nonexistent'"), "\(error)")
        }
        XCTAssertThrowsError(try Clips.synthesizer.phonemes(text, voice: "xx-nonexistent"))
        assertSame(try Clips.synthesizer.synthesize(text), before, "default voice")
        XCTAssertLessThan(try Clips.synthesizer.synthesize("").count, 1_000, "empty text: a moment of silence")
    }
}
