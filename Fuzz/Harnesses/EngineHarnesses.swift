import ChartEngine
import ComplianceEngine
import DocDiff
import Foundation
import TimetableSolver
import VoiceEngine
import WhiteLabelEngine
import WorkflowEngine

/// What clients upload to the shipped plugins, read by their engines (never the plugins).
enum EngineHarnesses {
    static let all: [Harness] = [
        Harness(name: "ctt", summary: "an ITC2007 .ctt timetabling instance (CTTParser)", run: ctt),
        Harness(name: "school-json", summary: "a school timetable model in JSON (SchoolModel.decode + makeInstance)", run: schoolJSON),
        Harness(name: "multipart", summary: "line 1 a Content-Type, the rest a multipart/form-data body (MultipartFormData)", run: multipart),
        Harness(name: "docx", summary: "byte 0 odd: word/document.xml alone (DocxReader.parseDocumentXML); else a .docx upload (TextDocument.load)", run: docx),
        Harness(name: "wav", summary: "byte 0 picks WAV or L16 with a rate; the rest is the audio (AudioReader)", run: wav),
        Harness(name: "chart-spec", summary: "a chart spec, parsed and rendered to SVG; a dashboard document", run: chartSpec),
        Harness(name: "rule-pack", summary: "a compliance rule pack (PackLoader.load: parse, validate, run its tests)", run: rulePack),
        Harness(name: "logo", summary: "a branding logo upload: PNG, JPEG or SVG (LogoCheck.check; SVG through FoundationXML)", run: logo),
        Harness(name: "workflow-def", summary: "byte 0 even: a workflow definition in JSON; odd: in TOML; also a routing rule", run: workflowDefinition),
    ]

    static func ctt(_ input: UnsafeRawBufferPointer) {
        _ = try? CTTParser.parse(input.text)
    }

    static func schoolJSON(_ input: UnsafeRawBufferPointer) {
        guard let model = try? SchoolModel.decode(Data(input)) else { return }
        _ = try? model.makeInstance()
    }

    static func multipart(_ input: UnsafeRawBufferPointer) {
        let newline = input.firstIndex(of: 0x0A) ?? input.count
        let contentType = String(decoding: UnsafeRawBufferPointer(rebasing: input[..<newline]), as: UTF8.self)
        let body = newline < input.count ? Array(input[(newline + 1)...]) : []
        guard let form = try? MultipartFormData.parse(body, contentType: contentType) else { return }
        for part in form.parts {
            // Parts are ranges of the body: each must lie inside it.
            precondition(part.range.lowerBound >= 0 && part.range.upperBound <= body.count, "a part lies outside the body")
            _ = form.bytes(of: part)
        }
    }

    static func docx(_ input: UnsafeRawBufferPointer) {
        // Byte 0 odd: the rest is word/document.xml itself (libxml2's reader and the paragraph
        // collector). Inside a zip almost every mutation of the XML breaks the entry's CRC-32, so
        // the XML would hardly be reached; a zip starts with 'P' (even) and takes the whole path.
        if let mode = input.first, mode & 1 == 1 {
            _ = try? DocxReader.parseDocumentXML(Data(input.dropFirst()))
            return
        }
        _ = try? TextDocument.load(data: Data(input), format: .docx)
    }

    static func logo(_ input: UnsafeRawBufferPointer) {
        _ = try? LogoCheck.check(Array(input))
    }

    static func wav(_ input: UnsafeRawBufferPointer) {
        guard let mode = input.first else { return }
        let audio = Array(input.dropFirst())
        switch mode % 4 {
        case 0: _ = try? AudioReader.readWAV(audio, maxSeconds: 30)
        case 1: _ = try? AudioReader.read(audio, contentType: "audio/wav", maxSeconds: 30)
        case 2: _ = try? AudioReader.readL16(audio, parameters: "rate=\(8000 * Int(mode >> 2 & 7)); channels=\(mode >> 5)", maxSeconds: 30)
        default: _ = try? AudioReader.read(audio, contentType: "audio/L16; rate=16000", maxSeconds: 30)
        }
    }

    nonisolated(unsafe) static let renderer = ChartRenderer(fonts: try! FontContext())

    static func chartSpec(_ input: UnsafeRawBufferPointer) {
        let bytes = input.bytes
        if let spec = try? ChartRenderer.parseSpec(bytes), spec.root.externalSources.isEmpty {
            _ = try? renderer.render(spec, as: .svg)
        }
        _ = try? DashboardSpec.parse(bytes)
    }

    static func rulePack(_ input: UnsafeRawBufferPointer) {
        _ = try? PackLoader.load(input.bytes)
    }

    static func workflowDefinition(_ input: UnsafeRawBufferPointer) {
        guard let mode = input.first else { return }
        let rest = Array(input.dropFirst())
        let parser = DefinitionParser(publishable: ["orders.*"])
        if mode & 1 == 0 {
            _ = try? parser.parse(rest)
            if let json = JSON.parse(rest) { _ = try? RoutingRule.parse(json, publishable: ["orders.created"]) }
        } else {
            _ = try? parser.parse(toml: String(decoding: rest, as: UTF8.self))
        }
    }
}
