@testable import ChartEngine
import Foundation
import XCTest

/// Inline rows read into columns, numbers read exactly, topic windows, service data and dashboards.
final class DataSourceTests: XCTestCase {
    func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    func testNumbersAreTheCorrectlyRoundedDoubles() throws {
        var generator = SystemRandomNumberGenerator()
        var texts = ["0", "-0", "1", "-1.5", "0.1", "0.30000000000000004", "123456789012345678", "1e22", "1e23", "9007199254740993",
                     "2.2250738585072014e-308", "1.7976931348623157e308", "4.9e-324", "0.000001234", "1E+2", "12345678901234567890123",
                     "0.1000000000000000055511151231257827", "3.141592653589793238462643383279"]
        for _ in 0..<20_000 {
            let digits = Int.random(in: 1...19, using: &generator)
            let mantissa = (0..<digits).map { _ in String(Int.random(in: 0...9, using: &generator)) }.joined()
            let point = Int.random(in: 0...digits, using: &generator)
            var text = String(mantissa.prefix(point)) + "." + String(mantissa.dropFirst(point))
            if text.hasPrefix(".") { text = "0" + text }
            if text.hasSuffix(".") { text += "0" }
            if Bool.random(using: &generator) { text += "e\(Int.random(in: -30...30, using: &generator))" }
            texts.append(Bool.random(using: &generator) ? "-" + text : text)
        }
        // Python's repr of sin(i / 500): the benchmark's 17-digit values.
        for i in 0..<2000 { texts.append("\(sin(Double(i) / 500) + Double(i % 7) * 0.01)") }
        for text in texts {
            guard case .number(let value) = try parse(text) else { return XCTFail(text) }
            XCTAssertEqual(value.bitPattern, Double(text)!.bitPattern, text)
        }
        for bad in ["1.", "-", "1e", "1e+", ".5", "1e400", "-1e999"] { XCTAssertThrowsError(try parse(bad), bad) }
    }

    func testValuesBecomeColumnsWithNullsForMissingFields() throws {
        let spec = try parse(#"{"values": [{"a": 1, "b": "x"}, {"b": "y", "a": 2.5}, {"a": 3, "c": true}, {}]}"#)
        guard case .rows(let rows)? = spec["values"] else { return XCTFail("not read into columns: \(spec)") }
        let table = rows.table
        XCTAssertEqual(table.count, 4)
        XCTAssertEqual(table.names, ["a", "b", "c"])
        XCTAssertEqual(table.columns[0], [.number(1), .number(2.5), .number(3), .null])
        XCTAssertEqual(table.columns[1], [.string("x"), .string("y"), .null, .null])
        XCTAssertEqual(table.columns[2], [.null, .null, .bool(true), .null])
        XCTAssertEqual(spec["values"]?.serialized, #"[{"a":1,"b":"x","c":null},{"a":2.5,"b":"y","c":null},{"a":3,"b":null,"c":true},{"a":null,"b":null,"c":null}]"#)
        // Escaped keys are the same field as their plain spelling.
        guard case .rows(let escaped)? = try parse(#"{"values": [{"\u0061": 1}, {"a": 2}]}"#)["values"] else { return XCTFail() }
        XCTAssertEqual(escaped.table.names, ["a"])
        XCTAssertEqual(escaped.table.columns[0], [.number(1), .number(2)])
    }

    func testRowsThatAreNotFlatObjectsAreRefusedWithThePath() throws {
        XCTAssertThrowsError(try parse(#"{"values": [{"a": 1, "a": 2}]}"#)) { XCTAssertTrue("\($0)".contains("duplicate member 'a'")) }
        for (text, path) in [(#"[{"a": 1}, {"a": {"b": 2}}]"#, "$[1].a"), (#"[{"a": 1}, 7]"#, "$[1]")] {
            XCTAssertThrowsError(try JSONParser.parseRows(Array(text.utf8), path: "$", maxRows: 10)) { error in
                XCTAssertEqual((error as? ChartError)?.path, path)
            }
        }
        XCTAssertThrowsError(try JSONParser.parseRows(Array(#"[{"a": 1}, {"a": 2}]"#.utf8), path: "$", maxRows: 1)) {
            XCTAssertEqual(($0 as? ChartError)?.kind, .tooLarge)
        }
        XCTAssertThrowsError(try JSONParser.parseRows(Array(#"{"a": 1}"#.utf8), path: "$", maxRows: 1)) {
            XCTAssertEqual(($0 as? ChartError)?.kind, .unsupported)
        }
        XCTAssertEqual(try JSONParser.parseRows(Array("[]".utf8), path: "$", maxRows: 1).count, 0)
    }

    func testTopicWindowsPickTheNewestEventsOfTheirTopics() {
        let window = TopicWindow(topic: "sensor.+", last: 2, field: "reading.celsius")
        XCTAssertTrue(window.matches("sensor.temp"))
        XCTAssertFalse(window.matches("sensor.temp.raw"))
        XCTAssertTrue(TopicWindow(topic: "sensor.#").matches("sensor.temp.raw"))
        XCTAssertFalse(TopicWindow(topic: "sensor.#").matches("other"))
        let events = [
            WindowEvent(timeMilliseconds: 1000, topic: "sensor.a", payload: Array(#"{"reading": {"celsius": 20}}"#.utf8)),
            WindowEvent(timeMilliseconds: 2000, topic: "sensor.b", payload: Array(#"{"reading": {"celsius": 21.5}}"#.utf8)),
            WindowEvent(timeMilliseconds: 3000, topic: "other.c", payload: Array(#"{"reading": {"celsius": 99}}"#.utf8)),
            WindowEvent(timeMilliseconds: 4000, topic: "sensor.a", payload: Array("not json".utf8)),
        ]
        let table = window.table(events, now: 5000)
        XCTAssertEqual(table.names, ["time", "topic", "celsius"])
        XCTAssertEqual(table.columns[0], [.number(2000), .number(4000)])
        XCTAssertEqual(table.columns[2], [.number(21.5), .null])
        let recent = TopicWindow(topic: "sensor.#", minutes: 0.05).table(events, now: 5000)
        XCTAssertEqual(recent.count, 2, "only the last 3 seconds")
        let flat = TopicWindow(topic: "sensor.a", last: 10).table([WindowEvent(timeMilliseconds: 1, topic: "sensor.a", payload: Array(#"{"v": 3, "nested": {"x": 1}, "s": "ok"}"#.utf8))], now: 2)
        XCTAssertEqual(flat.names, ["time", "topic", "v", "s"])
    }

    func testTheEventBufferIsBoundedAndPerTenant() {
        var buffer = EventWindowBuffer(perTopic: 3, maxTopics: 2)
        for i in 0..<10 { buffer.append(WindowEvent(timeMilliseconds: Double(i), topic: "a", payload: []), tenant: "t1") }
        XCTAssertEqual(buffer.events(for: TopicWindow(topic: "a"), tenant: "t1").map(\.timeMilliseconds), [7, 8, 9])
        XCTAssertTrue(buffer.events(for: TopicWindow(topic: "a"), tenant: "t2").isEmpty)
        buffer.append(WindowEvent(timeMilliseconds: 20, topic: "b", payload: []), tenant: "t1")
        buffer.append(WindowEvent(timeMilliseconds: 21, topic: "c", payload: []), tenant: "t1")
        XCTAssertEqual(buffer.topicCount, 2, "the topic heard from least recently is forgotten")
        XCTAssertTrue(buffer.events(for: TopicWindow(topic: "a"), tenant: "t1").isEmpty)
    }

    func testExternalSourcesAreParsedAndResolved() throws {
        let spec = try ChartRenderer.parseSpec(Array(#"{"data": {"topic": "sensor.temp", "minutes": 5, "field": "v", "as": "value"}, "mark": "line", "encoding": {"x": {"field": "time", "type": "temporal"}, "y": {"field": "value", "type": "quantitative"}}}"#.utf8))
        let source = try XCTUnwrap(spec.root.externalSources.first)
        guard case .topic(let window) = source else { return XCTFail("\(source)") }
        XCTAssertEqual(window.name, "value")
        XCTAssertEqual(window.minutes, 5)
        let table = window.table([WindowEvent(timeMilliseconds: 1, topic: "sensor.temp", payload: Array(#"{"v": 1}"#.utf8)),
                                  WindowEvent(timeMilliseconds: 2, topic: "sensor.temp", payload: Array(#"{"v": 3}"#.utf8))], now: 3)
        let scene = try ChartCompiler(external: [source: table]).compile(spec)
        XCTAssertEqual(scene.items.filter { $0.role == "mark-line" }.count, 1)
        XCTAssertThrowsError(try ChartCompiler().compile(spec)) { XCTAssertEqual(($0 as? ChartError)?.path, "$.data.topic") }
        let bad = [(#"{"topic": "a b"}"#, "$.data.topic"), (#"{"topic": "a", "last": 1e9}"#, "$.data.last"), (#"{"topic": "a", "field": "x..y"}"#, "$.data.field"),
                   (#"{"topic": "a", "name": "x"}"#, "$.data.name"), (#"{"service": ""}"#, "$.data.service"), (#"{"service": "s", "last": 3}"#, "$.data.last")]
        for (data, path) in bad {
            XCTAssertThrowsError(try ChartRenderer.parseSpec(Array(#"{"data": \#(data), "mark": "bar"}"#.utf8)), data) {
                XCTAssertEqual(($0 as? ChartError)?.path, path, data)
            }
        }
        let service = try ChartRenderer.parseSpec(Array(#"{"data": {"service": "stock.levels", "payload": {"site": "north"}}, "mark": "bar"}"#.utf8))
        XCTAssertEqual(service.root.externalSources, [.service(name: "stock.levels", payload: #"{"site":"north"}"#)])
    }

    func testDashboardsAndTheirReport() throws {
        let bars = #"{"data": {"values": [{"k": "a", "v": 1}]}, "mark": "bar", "encoding": {"x": {"field": "k", "type": "nominal"}, "y": {"field": "v", "type": "quantitative"}}}"#
        let definition = try DashboardSpec.parse(Array(#"{"title": "Ops", "panels": [{"spec": \#(bars)}, {"chart": "saved-1", "live": "a.#"}]}"#.utf8))
        XCTAssertEqual(definition.columns, 2)
        XCTAssertEqual(definition.panels.map(\.chart), [nil, "saved-1"])
        XCTAssertEqual(definition.panels.map(\.live), [nil, "a.#"])
        XCTAssertEqual(try DashboardSpec.parse(Array(definition.json.utf8)), definition, "the stored form reads back the same")
        for (text, path) in [(#"{"panels": [{"spec": {"data": {"values": []}, "mark": "pie"}}]}"#, "$.panels[0].spec.mark"),
                             (#"{"panels": [{}]}"#, "$.panels[0]"), (#"{"panels": [{"chart": "../x"}]}"#, "$.panels[0].chart"),
                             (#"{"columns": 9, "panels": [{"chart": "x"}]}"#, "$.columns"), (#"{"panels": [{"chart": "x", "size": 2}]}"#, "$.panels[0].size")] {
            XCTAssertThrowsError(try DashboardSpec.parse(Array(text.utf8)), text) { XCTAssertEqual(($0 as? ChartError)?.path, path, text) }
        }
        let renderer = ChartRenderer(fonts: try FontContext(directory: FontContext.defaultDirectory))
        let spec = try ChartRenderer.parseSpec(Array(bars.utf8))
        let pdf = String(decoding: try renderer.renderReport([(spec, [:]), (spec, [:]), (spec, [:])]), as: UTF8.self)
        XCTAssertTrue(pdf.hasPrefix("%PDF-"))
        XCTAssertTrue(pdf.contains("/Count 3"), "three pages")
    }
}
