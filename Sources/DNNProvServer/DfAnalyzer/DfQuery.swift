import Foundation

/// A query in DfAnalyzer's query language (its Query Interface, `POST /query_interface/...`):
/// which datasets to join along the dataflow's paths, how to join them, what to project and
/// what to select. `DfQueryParser` reads it from text; `sql(over:)` (DfQuery+SQL.swift) turns it
/// into one SQL statement over the dataflow's `ds_<set>` tables.
///
/// ```
/// mapping(physical)
/// source(itrainingmodel)
/// target(oadaptation)
/// projection(itrainingmodel.optimizer_name; otrainingmodel.epoch; oadaptation.new_lrate)
/// selection(otrainingmodel.loss < 0.5)
/// ```
public struct DfQuery: Sendable, Equatable {
    /// How consecutive datasets of a path are joined.
    public enum Mapping: String, Sendable, Equatable, CaseIterable {
        /// By provenance: the rows a task of the linking transformation consumed and produced
        /// (`<transformation>_task_id` on both sides).
        case physical
        /// By domain values: every attribute the two datasets have under the same name.
        case logical
        /// Both: the task ids and the same-named attributes.
        case hybrid
    }

    /// One part of a written name: bare (`loss`) or double-quoted (`"val-loss"`).
    public struct Name: Sendable, Hashable, CustomStringConvertible {
        public var text: String
        public var quoted: Bool

        public init(_ text: String, quoted: Bool = false) {
            self.text = text
            self.quoted = quoted
        }

        public var description: String { quoted ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text }
    }

    /// An attribute as written: `loss`, `otrainingmodel.loss`, `ds_otrainingmodel.loss`,
    /// `otrainingmodel.*` or `*` (`star`: every attribute of the dataset, or of all).
    public struct Reference: Sendable, Hashable, CustomStringConvertible {
        public var parts: [Name]
        public var star: Bool

        public init(_ parts: [Name], star: Bool = false) {
            self.parts = parts
            self.star = star
        }

        public var description: String {
            (parts.map(\.description) + (star ? ["*"] : [])).joined(separator: ".")
        }
    }

    /// One projected column, with the name it is given in the result (`AS`), if any.
    public struct Projection: Sendable, Equatable {
        public var reference: Reference
        public var alias: Name?

        public init(_ reference: Reference, alias: Name? = nil) {
            self.reference = reference
            self.alias = alias
        }
    }

    /// A literal value of a selection.
    public enum Literal: Sendable, Equatable {
        /// A number as written (digits, an optional fraction and exponent).
        case number(String)
        case string(String)
        case null
        case bool(Bool)
    }

    /// A selection condition: comparisons of attributes and values, combined with AND, OR, NOT.
    public indirect enum Expression: Sendable, Equatable {
        case literal(Literal)
        case column(Reference)
        /// `-x`, `+x`, `NOT x`.
        case unary(String, Expression)
        /// `AND`, `OR`, `=`, `!=`, `<>`, `<`, `<=`, `>`, `>=`, `LIKE`, `NOT LIKE`, `GLOB`,
        /// `NOT GLOB`, `IS`, `IS NOT`, `+`, `-`, `*`, `/`, `%`, `||`.
        case binary(String, Expression, Expression)
        /// `x [NOT] IN (a, b, ...)`.
        case inList(Expression, not: Bool, [Expression])
        /// `x [NOT] BETWEEN a AND b`.
        case between(Expression, not: Bool, Expression, Expression)
        /// `( x )` as written.
        case group(Expression)
    }

    /// `mapping(...)`; physical when the query names none.
    public var mapping: Mapping
    /// The datasets the paths start from (`source(a; b)`), as written, lower-cased.
    public var sources: [String]
    /// The datasets the paths end at (`target(...)`).
    public var targets: [String]
    /// Datasets every path must pass through (`include(...)`).
    public var includes: [String]
    /// Datasets no path may pass through (`exclude(...)`).
    public var excludes: [String]
    /// The columns of the answer; empty: every attribute of the sources and targets.
    public var projections: [Projection]
    /// Conditions every row must meet (all of them).
    public var selections: [Expression]

    public init(mapping: Mapping = .physical, sources: [String] = [], targets: [String] = [], includes: [String] = [],
                excludes: [String] = [], projections: [Projection] = [], selections: [Expression] = []) {
        self.mapping = mapping
        self.sources = sources
        self.targets = targets
        self.includes = includes
        self.excludes = excludes
        self.projections = projections
        self.selections = selections
    }
}
