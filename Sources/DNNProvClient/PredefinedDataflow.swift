import DNNProvModel

/// The predefined DL dataflow of DNNProv-Df (Keras-Prov), the same as the Python client's
/// `Dataflow(tag, predefined=True)`: TrainingModel (iTrainingModel, iLayers -> oTrainingModel),
/// Adaptation (oTrainingModel, iAdaptation -> oAdaptation), TestingModel (oTrainingModel ->
/// oTestingModel). Attribute order is the order of the values in each row.
public enum PredefinedDataflow {
    public static let hyperparameters: [AttributeSpec] = [
        .text("OPTIMIZER_NAME"), .numeric("LEARNING_RATE"), .numeric("NUM_EPOCHS"), .numeric("NUM_LAYERS"),
        .numeric("BATCH_SIZE"), .numeric("MOMENTUM"), .numeric("DECAY"),
    ]
    public static let layerAttributes: [AttributeSpec] = [
        .text("NAME"), .text("TYPE"), .text("ACTIVATION"), .numeric("UNITS"), .numeric("FILTERS"),
        .text("KERNEL_SIZE"), .text("STRIDES"), .text("PADDING"), .numeric("DROPOUT_RATE"), .numeric("PARAMS"),
    ]
    public static let trainingOutput: [AttributeSpec] = [
        .text("TIMESTAMP"), .numeric("ELAPSED_TIME"), .numeric("LOSS"), .numeric("ACCURACY"), .numeric("EPOCH"),
    ]
    /// Added to `trainingOutput` when the training validates.
    public static let validationOutput: [AttributeSpec] = [.numeric("VAL_LOSS"), .numeric("VAL_ACCURACY")]
    public static let adaptationInput: [AttributeSpec] = [.numeric("EPOCHS_DROP"), .numeric("DROP"), .numeric("INITIAL_LRATE")]
    public static let adaptationOutput: [AttributeSpec] = [
        .numeric("NEW_LRATE"), .text("TIMESTAMP"), .numeric("EPOCH_ID"), .numeric("ADAPTATION_ID"),
    ]
    public static let testingOutput: [AttributeSpec] = [.numeric("ACCURACY"), .numeric("LOSS"), .numeric("EPOCH")]
}

extension DataflowBuilder {
    /// The predefined DL dataflow; add your own transformations (e.g. `Filters`) after it.
    public static func predefined(
        _ tag: String, hyperparameters: [AttributeSpec] = PredefinedDataflow.hyperparameters,
        validation: Bool = false, adaptation: Bool = true
    ) -> DataflowBuilder {
        var b = DataflowBuilder(tag)
            .transformation("TrainingModel")
            .input("iTrainingModel", hyperparameters)
            .input("iLayers", PredefinedDataflow.layerAttributes)
            .output("oTrainingModel", PredefinedDataflow.trainingOutput + (validation ? PredefinedDataflow.validationOutput : []))
        if adaptation {
            b = b.transformation("Adaptation")
                .input("oTrainingModel", from: "TrainingModel")
                .input("iAdaptation", PredefinedDataflow.adaptationInput)
                .output("oAdaptation", PredefinedDataflow.adaptationOutput)
        }
        return b.transformation("TestingModel")
            .input("oTrainingModel", from: "TrainingModel")
            .output("oTestingModel", PredefinedDataflow.testingOutput)
    }
}
