"""The predefined DL dataflow of DNNProv-Df (what `Dataflow(tag, predefined=True)` starts with)."""
from .model import Attribute, AttributeType, Set, SetType, Transformation

N = AttributeType.NUMERIC
T = AttributeType.TEXT
F = AttributeType.FILE

HYPERPARAMETERS = [("OPTIMIZER_NAME", T), ("LEARNING_RATE", N), ("NUM_EPOCHS", N),
                   ("NUM_LAYERS", N), ("BATCH_SIZE", N), ("MOMENTUM", N), ("DECAY", N)]
LAYER_ATTRIBUTES = [("NAME", T), ("TYPE", T), ("ACTIVATION", T), ("UNITS", N), ("FILTERS", N),
                    ("KERNEL_SIZE", T), ("STRIDES", T), ("PADDING", T), ("DROPOUT_RATE", N),
                    ("PARAMS", N)]
TRAINING_OUTPUT = [("TIMESTAMP", T), ("ELAPSED_TIME", N), ("LOSS", N), ("ACCURACY", N), ("EPOCH", N)]
ADAPTATION_INPUT = [("EPOCHS_DROP", N), ("DROP", N), ("INITIAL_LRATE", N)]
ADAPTATION_OUTPUT = [("NEW_LRATE", N), ("TIMESTAMP", T), ("EPOCH_ID", N), ("ADAPTATION_ID", N)]
TESTING_OUTPUT = [("ACCURACY", N), ("LOSS", N), ("EPOCH", N)]
# One row per model file (checkpoint) a training wrote: the file, its size in bytes, its SHA-256
# (hex), the 1-based epoch that wrote it, its modification time (see dnnprov.model_files).
MODEL_FILE_OUTPUT = [("PATH", F), ("SIZE", N), ("SHA256", T), ("EPOCH", N), ("TIMESTAMP", T)]


def attrs(pairs):
    return [Attribute(name, kind) for name, kind in pairs]


def dl_transformations(hyperparameters=HYPERPARAMETERS, training_output=TRAINING_OUTPUT,
                       testing_output=TESTING_OUTPUT, adaptation=True, model_files=False):
    """TrainingModel (iTrainingModel, iLayers -> oTrainingModel, and oModelFile when
    `model_files`), Adaptation (oTrainingModel, iAdaptation -> oAdaptation) and TestingModel
    (oTrainingModel -> oTestingModel)."""
    training = Transformation("TrainingModel", [
        Set("iTrainingModel", SetType.INPUT, attrs(hyperparameters)),
        Set("iLayers", SetType.INPUT, attrs(LAYER_ATTRIBUTES)),
        Set("oTrainingModel", SetType.OUTPUT, attrs(training_output)),
    ] + ([Set("oModelFile", SetType.OUTPUT, attrs(MODEL_FILE_OUTPUT))] if model_files else []))
    consumed = Set("oTrainingModel", SetType.INPUT, dependency=training)
    out = [training]
    if adaptation:
        out.append(Transformation("Adaptation", [
            consumed,
            Set("iAdaptation", SetType.INPUT, attrs(ADAPTATION_INPUT)),
            Set("oAdaptation", SetType.OUTPUT, attrs(ADAPTATION_OUTPUT)),
        ]))
    out.append(Transformation("TestingModel", [
        consumed,
        Set("oTestingModel", SetType.OUTPUT, attrs(testing_output)),
    ]))
    return out
