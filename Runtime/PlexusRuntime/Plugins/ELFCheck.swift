import Foundation

/// Checks that a file is a whole ELF shared object for this machine before the dynamic loader
/// sees it. `dlopen` trusts the headers: a truncated file makes it map segments past the end of
/// the file, and the first touch of such a page kills the process with SIGBUS. Every table and
/// segment the loader reads must therefore lie inside the file.
///
/// Only ELF64 little-endian objects are accepted (the machines Plexus runs on). All arithmetic on
/// values read from the file is overflow-checked.
enum ELFCheck {
    /// The size of an ELF64 file header, program header entry and section header entry.
    static let headerSize: UInt64 = 64
    static let programHeaderSize: UInt64 = 56
    static let sectionHeaderSize: UInt64 = 64
    /// More program headers than any real shared object has (ld produces about a dozen).
    static let maximumProgramHeaders: UInt64 = 256

    /// The machine (`e_machine`) this process runs as, and its name.
    #if arch(x86_64)
    static let hostMachine: (code: UInt16, name: String) = (62, "x86-64")
    #elseif arch(arm64)
    static let hostMachine: (code: UInt16, name: String) = (183, "AArch64")
    #else
    static let hostMachine: (code: UInt16, name: String) = (0, "this machine")
    #endif

    /// Throws a ``PluginLoadError`` naming `displayName` when the file at `path` is not an ELF64
    /// shared object for this machine whose headers and segments all lie inside the file.
    static func check(_ path: String, displayName name: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw PluginLoadError(.unreadable, "\(name): cannot be read (\(String(cString: strerror(errno)))); fix: check the file's permissions")
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            throw PluginLoadError(.unreadable, "\(name): not a regular file; fix: put only plugin .so files in the plugins directory")
        }
        let file = ELFFile(fd: fd, size: UInt64(status.st_size), name: name)
        try file.checkHeader()
    }
}

/// The reads and checks of one open file.
private struct ELFFile {
    let fd: Int32
    let size: UInt64
    let name: String

    private static let rebuild = "fix: copy the complete file again (was the copy cut short?) or rebuild the plugin with the Plexus SDK"

    func checkHeader() throws {
        let header = try read(at: 0, count: min(size, ELFCheck.headerSize))
        let magic: [UInt8] = [0x7F, 0x45, 0x4C, 0x46]
        guard header.count >= 4, Array(header[0..<4]) == magic else {
            let shown = header.isEmpty ? "an empty file" : "bytes " + header.prefix(4).map { String(format: "%02x", $0) }.joined(separator: " ")
            throw PluginLoadError(.notELF, "\(name): not an ELF shared object (expected 7f 45 4c 46, found \(shown)); fix: put only plugins built with the Plexus SDK in the plugins directory")
        }
        guard header.count == Int(ELFCheck.headerSize) else {
            throw malformed("truncated: the ELF header needs \(ELFCheck.headerSize) bytes, the file has only \(size)")
        }
        guard header[4] == 2 else {
            throw PluginLoadError(.wrongArchitecture, "\(name): a \(header[4] == 1 ? "32-bit" : "class \(header[4])") ELF object (expected 64-bit, ELFCLASS64); fix: build the plugin for \(ELFCheck.hostMachine.name) Linux")
        }
        guard header[5] == 1 else {
            throw PluginLoadError(.wrongArchitecture, "\(name): a \(header[5] == 2 ? "big-endian" : "data encoding \(header[5])") ELF object (expected little-endian, ELFDATA2LSB); fix: build the plugin for \(ELFCheck.hostMachine.name) Linux")
        }
        guard header[6] == 1 else { throw malformed("ELF identification version is \(header[6]) (expected 1)") }
        let type = header.u16(16)
        guard type == 3 else {
            let kind = [1: "a relocatable object (.o)", 2: "an executable", 4: "a core dump"][Int(type)] ?? "ELF type \(type)"
            throw PluginLoadError(.notELF, "\(name): \(kind), not a shared object (expected ET_DYN); fix: link the plugin with -shared (a SwiftPM .dynamic library product)")
        }
        let machine = header.u16(18)
        guard machine == ELFCheck.hostMachine.code else {
            let known = [3: "x86 (i386)", 40: "ARM (32-bit)", 62: "x86-64", 183: "AArch64", 243: "RISC-V"][Int(machine)] ?? "machine \(machine)"
            throw PluginLoadError(.wrongArchitecture, "\(name): built for \(known), this runtime runs on \(ELFCheck.hostMachine.name); fix: build the plugin on (or cross-compile it for) \(ELFCheck.hostMachine.name)")
        }
        guard header.u16(52) >= UInt16(ELFCheck.headerSize) else { throw malformed("ELF header size e_ehsize is \(header.u16(52)) (expected 64)") }
        try checkProgramHeaders(offset: header.u64(32), entrySize: UInt64(header.u16(54)), count: UInt64(header.u16(56)))
        try checkSectionHeaders(offset: header.u64(40), entrySize: UInt64(header.u16(58)), count: UInt64(header.u16(60)), names: UInt64(header.u16(62)))
    }

    private func checkProgramHeaders(offset: UInt64, entrySize: UInt64, count: UInt64) throws {
        guard count > 0 else { throw malformed("no program headers (e_phnum is 0), so there is nothing to load") }
        guard count <= ELFCheck.maximumProgramHeaders else {
            throw malformed("\(count) program headers (e_phnum; at most \(ELFCheck.maximumProgramHeaders) are accepted)")
        }
        guard entrySize == ELFCheck.programHeaderSize else {
            throw malformed("program header entries are \(entrySize) bytes (e_phentsize; expected \(ELFCheck.programHeaderSize))")
        }
        let table = try range("the program header table (\(count) entries of \(entrySize) bytes)", offset: offset, length: count * entrySize)
        let bytes = try read(at: table.lowerBound, count: table.upperBound - table.lowerBound)
        var loads = 0, dynamic = false
        for index in 0..<Int(count) {
            let base = index * Int(entrySize)
            let type = bytes.u32(base)
            let fileOffset = bytes.u64(base + 8), fileSize = bytes.u64(base + 32), memorySize = bytes.u64(base + 40)
            let address = bytes.u64(base + 16), align = bytes.u64(base + 48)
            let label = "program header \(index) (\(Self.segmentName(type)))"
            if fileSize > 0 { _ = try range(label, offset: fileOffset, length: fileSize) }
            switch type {
            case 1:  // PT_LOAD
                loads += 1
                guard fileSize <= memorySize else {
                    throw malformed("\(label) has \(fileSize) bytes in the file but only \(memorySize) in memory (p_filesz > p_memsz)")
                }
                guard align <= 1 || (align & (align - 1) == 0 && fileOffset % align == address % align) else {
                    throw malformed("\(label) is misaligned: offset \(hex(fileOffset)) and address \(hex(address)) differ modulo its alignment \(hex(align))")
                }
            case 2: dynamic = true  // PT_DYNAMIC
            default: break
            }
        }
        guard loads > 0 else { throw malformed("no loadable segment (PT_LOAD)") }
        guard dynamic else { throw malformed("no dynamic section (PT_DYNAMIC), so it exports no symbols") }
    }

    private func checkSectionHeaders(offset: UInt64, entrySize: UInt64, count: UInt64, names: UInt64) throws {
        guard offset != 0 || count != 0 else { return }  // stripped of its section table: allowed
        guard entrySize == ELFCheck.sectionHeaderSize else {
            throw malformed("section header entries are \(entrySize) bytes (e_shentsize; expected \(ELFCheck.sectionHeaderSize))")
        }
        // With e_shnum 0 and e_shoff set, the real count is in the first entry (extended numbering).
        let entries = max(count, 1)
        let table = try range("the section header table (\(entries) entries of \(entrySize) bytes)", offset: offset, length: entries * entrySize)
        guard count == 0 || names < count || names == 0 || names == 0xFFFF else {
            throw malformed("the section name table index e_shstrndx is \(names), but there are only \(count) sections")
        }
        guard count > 0 else { return }
        let bytes = try read(at: table.lowerBound, count: table.upperBound - table.lowerBound)
        for index in 0..<Int(count) {
            let base = index * Int(entrySize)
            let type = bytes.u32(base + 4), sectionOffset = bytes.u64(base + 24), sectionSize = bytes.u64(base + 32)
            guard type != 0 && type != 8, sectionSize > 0 else { continue }  // SHT_NULL, SHT_NOBITS (.bss) have no bytes in the file
            _ = try range("section \(index)", offset: sectionOffset, length: sectionSize)
        }
    }

    /// `offset..<offset+length`, checked to lie inside the file without overflowing.
    private func range(_ what: String, offset: UInt64, length: UInt64) throws -> Range<UInt64> {
        let (end, overflow) = offset.addingReportingOverflow(length)
        guard !overflow, end <= size else {
            let ends = overflow ? "past 2^64" : "at byte \(end) (\(hex(end)))"
            throw malformed("truncated or corrupt: \(what) starts at byte \(offset) (\(hex(offset))) and ends \(ends), but the file has only \(size) bytes (expected every table and segment inside the file)")
        }
        return offset..<end
    }

    private func read(at offset: UInt64, count: UInt64) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Int(count))
        var done = 0
        while done < bytes.count {
            let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, $0.count - done, off_t(offset) + off_t(done)) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else {
                throw PluginLoadError(.unreadable, "\(name): reading \(count) bytes at offset \(offset) failed (\(got < 0 ? String(cString: strerror(errno)) : "the file shrank while it was read")); fix: check the file and the disk")
            }
            done += got
        }
        return bytes
    }

    private func malformed(_ problem: String) -> PluginLoadError {
        PluginLoadError(.malformedELF, "\(name): not a loadable shared object: \(problem); \(Self.rebuild)")
    }

    private func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

    private static func segmentName(_ type: UInt32) -> String {
        switch type {
        case 0: "PT_NULL"
        case 1: "PT_LOAD"
        case 2: "PT_DYNAMIC"
        case 3: "PT_INTERP"
        case 4: "PT_NOTE"
        case 6: "PT_PHDR"
        case 7: "PT_TLS"
        case 0x6474E550: "PT_GNU_EH_FRAME"
        case 0x6474E551: "PT_GNU_STACK"
        case 0x6474E552: "PT_GNU_RELRO"
        case 0x6474E553: "PT_GNU_PROPERTY"
        default: "type " + String(format: "0x%x", type)
        }
    }
}

private extension Array where Element == UInt8 {
    func u16(_ at: Int) -> UInt16 { UInt16(self[at]) | UInt16(self[at + 1]) << 8 }
    func u32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(self[at + $1]) << (8 * UInt32($1)) } }
    func u64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(self[at + $1]) << (8 * UInt64($1)) } }
}
