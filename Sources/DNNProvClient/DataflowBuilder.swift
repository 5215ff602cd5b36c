import DNNProvModel

/// Builds a `DataflowSpec` fluently:
///
///     let spec = DataflowBuilder("mnist")
///         .transformation("trainingmodel")
///         .input("itrainingmodel", [.text("OPTIMIZER_NAME"), .numeric("LEARNING_RATE")])
///         .output("otrainingmodel", [.numeric("LOSS"), .numeric("EPOCH")])
///         .transformation("adaptation")
///         .input("otrainingmodel", from: "trainingmodel")
///         .output("oadaptation", [.numeric("NEW_LRATE")])
///         .spec
///
/// `input`/`output` add to the transformation named last. Naming a transformation or set again
/// extends it (the server also extends a registered dataflow in place).
public struct DataflowBuilder: Sendable {
    public private(set) var spec: DataflowSpec
    private var current: Int?

    public init(_ tag: String) {
        spec = DataflowSpec(tag: tag, transformations: [])
    }

    public init(_ spec: DataflowSpec) {
        self.spec = spec
        current = spec.transformations.indices.last
    }

    public func transformation(_ tag: String, programs: [ProgramSpec] = []) -> DataflowBuilder {
        var b = self
        if let i = b.spec.transformations.firstIndex(where: { $0.tag.lowercased() == tag.lowercased() }) {
            b.spec.transformations[i].programs += programs
            b.current = i
        } else {
            b.spec.transformations.append(TransformationSpec(tag: tag, sets: [], programs: programs))
            b.current = b.spec.transformations.count - 1
        }
        return b
    }

    public func input(_ set: String, _ attributes: [AttributeSpec]) -> DataflowBuilder {
        adding(SetSpec(tag: set, role: .input, attributes: attributes))
    }

    /// A set this transformation consumes from `producer` (which outputs it).
    public func input(_ set: String, from producer: String) -> DataflowBuilder {
        adding(SetSpec(tag: set, role: .input, attributes: [], dependency: producer))
    }

    public func output(_ set: String, _ attributes: [AttributeSpec]) -> DataflowBuilder {
        adding(SetSpec(tag: set, role: .output, attributes: attributes))
    }

    private func adding(_ set: SetSpec) -> DataflowBuilder {
        var b = self
        guard let t = b.current else {
            preconditionFailure("DataflowBuilder: call transformation(_:) before adding sets")
        }
        if let s = b.spec.transformations[t].sets.firstIndex(where: { $0.tag.lowercased() == set.tag.lowercased() }) {
            var old = b.spec.transformations[t].sets[s]
            for a in set.attributes where !old.attributes.contains(where: { $0.name.lowercased() == a.name.lowercased() }) {
                old.attributes.append(a)
            }
            old.dependency = set.dependency ?? old.dependency
            b.spec.transformations[t].sets[s] = old
        } else {
            b.spec.transformations[t].sets.append(set)
        }
        return b
    }
}

extension AttributeSpec {
    public static func numeric(_ name: String) -> AttributeSpec { AttributeSpec(name: name, type: .numeric) }
    public static func text(_ name: String) -> AttributeSpec { AttributeSpec(name: name, type: .text) }
    public static func file(_ name: String) -> AttributeSpec { AttributeSpec(name: name, type: .file) }
}
