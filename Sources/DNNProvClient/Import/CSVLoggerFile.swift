import DNNProvModel
import Foundation

/// A Keras `CSVLogger` file: a header `epoch,accuracy,loss,val_accuracy,val_loss,...` (any metric
/// columns, `learning_rate` or `lr` included), then one row per epoch. CSVLogger numbers epochs
/// from 0; they are stored from 1, as the Keras callback stores them (`EPOCH` = epoch + 1), so
/// that imported and captured runs line up. The separator is `,` unless the header has none and has `;` or a tab
/// (`CSVLogger(separator=...)`). Quoted fields (`"..."`, `""` for a quote) are read as the
/// `csv` module writes them. A value that is not a number is stored as null, with a warning.
public struct CSVLoggerFile: Sendable {
    public var path: String
    /// The metric columns, as the header names them (every column but `epoch`).
    public var columns: [String]
    public var rows: [ImportedRun.MetricRow]
    public var warnings: [String]

    /// Reads and parses the file at `path`.
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImportError("cannot read the CSV file \(path)")
        }
        try self.init(text: String(decoding: data, as: UTF8.self), path: path)
    }

    /// Parses `text`; `path` names the file in messages.
    public init(text: String, path: String) throws {
        self.path = path
        var lines = text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).map(String.init)
        lines = lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        guard let header = lines.first else { throw ImportError("\(path): empty file (a CSVLogger file starts with a header line: epoch,loss,...)") }
        var separator: Character = ","
        if !header.contains(","), header.contains(";") { separator = ";" } else if !header.contains(","), header.contains("\t") { separator = "\t" }
        let names = Self.fields(header, separator: separator).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let epochColumn = names.firstIndex(where: { $0.lowercased() == "epoch" }) else {
            throw ImportError("\(path): line 1: no 'epoch' column in the header (\(names.joined(separator: ","))); not a Keras CSVLogger file")
        }
        columns = names.enumerated().filter { $0.offset != epochColumn }.map(\.element)
        var rows: [ImportedRun.MetricRow] = []
        var warnings: [String] = []
        for (i, line) in lines.dropFirst().enumerated() {
            let lineNumber = i + 2
            let fields = Self.fields(line, separator: separator)
            guard fields.count == names.count else {
                throw ImportError("\(path): line \(lineNumber): \(fields.count) fields, the header has \(names.count)")
            }
            guard let epoch = Double(fields[epochColumn].trimmingCharacters(in: .whitespaces)), epoch == epoch.rounded(), abs(epoch) < 1e15 else {
                throw ImportError("\(path): line \(lineNumber): epoch '\(fields[epochColumn])' is not a whole number")
            }
            var values: [String: Double] = [:]
            for (k, name) in names.enumerated() where k != epochColumn {
                let raw = fields[k].trimmingCharacters(in: .whitespaces)
                if raw.isEmpty { continue }
                if let v = (try? Value.text(raw).numeric()) ?? nil {
                    values[name] = v
                } else if !ImportMapping.isEmptyValue(raw) {
                    warnings.append("\(path): line \(lineNumber): \(name) '\(raw.prefix(40))' is not a number; stored as null")
                }
            }
            rows.append(ImportedRun.MetricRow(step: Int64(epoch) + 1, time: nil, values: values))
        }
        self.rows = rows
        self.warnings = warnings
    }

    /// The file as a run: execution and source id are the file's name; start and end time its
    /// modification time (CSVLogger records no times); status FINISHED.
    public func run() -> ImportedRun {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let modified = (try? FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as? Date)?
            .map { $0.timeIntervalSince1970.rounded() }
        return ImportedRun(kind: .csv, sourceID: url.lastPathComponent, execution: url.lastPathComponent, location: url.path,
                           details: ["columns": columns.joined(separator: ",")], startTime: modified, endTime: modified,
                           status: .finished, stepIsEpoch: true, rows: rows)
    }

    /// The fields of one line, with `csv`-module quoting.
    static func fields(_ line: String, separator: Character) -> [String] {
        var out: [String] = []
        var field = ""
        var quoted = false
        var chars = line.makeIterator()
        var pending: Character? = nil
        while let c = pending ?? chars.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let n = chars.next() {
                        if n == "\"" { field.append("\"") } else { quoted = false; pending = n }
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
            } else if c == "\"" && field.isEmpty {
                quoted = true
            } else if c == separator {
                out.append(field)
                field = ""
            } else {
                field.append(c)
            }
        }
        out.append(field)
        return out
    }
}
