"""Manual instrumentation with the DNNProv API (seed 003, Fig. 5), with a user-defined
`Filters` transformation added to the predefined DL dataflow, as the seeds' user did when they
started converting the images to grey levels. Each filter gives one execution; at the end the
script asks query Q8: which filter was applied in the executions with the best and the worst
accuracy, and with how many epochs?

    pip install './clients/python[examples]'       # Keras, JAX and scikit-learn
    python examples/dnnprov_manual.py --filters none,grayscale --epochs 10

The training is a small Keras CNN on scikit-learn's digits, instrumented by hand (no
ProvenanceCallback): any framework can be instrumented the same way.
"""
import argparse
import datetime
import json
import math
import os
import time
import urllib.request

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import dnnprov  # noqa: E402
from dnnprov import Attribute, AttributeType, Dataflow, DataSet, Element, Set, SetType, Task, Transformation  # noqa: E402

DATAFLOW = "alexnet-manual"


def define_dataflow():
    """Prospective provenance: the predefined DL dataflow plus Filters -> TrainingModel."""
    df = Dataflow(DATAFLOW, True)
    filters = Transformation("Filters")
    filters.set_sets([
        Set("iFilters", SetType.INPUT, [Attribute("DATASET", AttributeType.TEXT),
                                        Attribute("NUM_IMAGES", AttributeType.NUMERIC)]),
        Set("oFilters", SetType.OUTPUT, [Attribute("FILTER_NAME", AttributeType.TEXT),
                                         Attribute("GRAY_LEVELS", AttributeType.NUMERIC)]),
    ])
    df.add_transformation(filters)
    training = Transformation("TrainingModel")  # extends the predefined one
    training.set_sets([Set("oFilters", SetType.INPUT, dependency=filters)])
    df.add_transformation(training)
    return df


def apply_filter(images, name):
    """`grayscale` reduces the 17 intensity levels of the digits to 4 grey levels."""
    if name == "grayscale":
        return np.round(images * 3) / 3, 4
    return images, 17


def run(filter_name, epochs, x, y, x_test, y_test):
    df = define_dataflow()
    df.save()  # registers (or extends) the dataflow and opens a new execution

    t0 = Task(4, DATAFLOW, "Filters")
    t0.add_dataset(DataSet("iFilters", [Element(["sklearn-digits", len(x)])]))
    t0.begin()
    x, levels = apply_filter(x, filter_name)
    x_test, _ = apply_filter(x_test, filter_name)
    t0.add_dataset(DataSet("oFilters", [Element([filter_name, levels])]))
    t0.end()

    initial_lrate, drop, epochs_drop = 0.05, 0.5, 4.0
    keras.utils.set_random_seed(3)
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.4),
        keras.layers.Dense(10, activation="softmax"),
    ])
    optimizer = keras.optimizers.SGD(learning_rate=initial_lrate, momentum=0.9)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    t1 = Task(1, DATAFLOW, "TrainingModel", dependency=t0)
    t1.add_dataset(DataSet("iTrainingModel", [Element(
        ["sgd", initial_lrate, epochs, len(model.layers), 64, 0.9, None])]))
    t1.begin()

    # Fig. 5: the adaptation task, with the schedule's parameters as its input
    t2 = Task(2, DATAFLOW, "Adaptation", dependency=t1)
    t2.add_dataset(DataSet("iAdaptation", [Element([epochs_drop, drop, initial_lrate])]))
    t2.begin()

    class Instrumented(keras.callbacks.Callback):
        adaptation_id = 0

        def schedule(self, epoch):
            return initial_lrate * math.pow(drop, math.floor((1 + epoch) / epochs_drop))

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.time()
            lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            new_lr = self.schedule(epoch)
            if not math.isclose(lr, new_lr, rel_tol=1e-6):  # the optimizer keeps float32
                self.adaptation_id += 1
                self.model.optimizer.learning_rate = new_lr
                t2.add_dataset(DataSet("oAdaptation", [Element(
                    [new_lr, datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"), epoch + 1,
                     self.adaptation_id])]))
                t2.save()

        def on_epoch_end(self, epoch, logs=None):
            t1.add_dataset(DataSet("oTrainingModel", [Element(
                [datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"), time.time() - self.start,
                 logs["loss"], logs["accuracy"], epoch + 1])]))
            t1.save()

    try:
        model.fit(x, y, batch_size=64, epochs=epochs, verbose=0, callbacks=[Instrumented()])
    except BaseException as e:
        t1.fail(e)
        t2.fail(e)
        raise
    t1.end()
    t2.end()

    t3 = Task(3, DATAFLOW, "TestingModel", dependency=t1)
    t3.begin()
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    t3.add_dataset(DataSet("oTestingModel", [Element([accuracy, loss, epochs])]))
    t3.end()
    print(f"filter {filter_name:10s} test accuracy {accuracy:.3f}")


Q8 = """
with runs as (
  select tf.df_exec as execution, f.filter_name as filter, te.accuracy, h.num_epochs as epochs
  from ds_ofilters f
  join task tf on tf.id = f.filters_task_id
  join task tt on tt.df_exec = tf.df_exec
  join ds_otestingmodel te on te.testingmodel_task_id = tt.id
  join task th on th.df_exec = tf.df_exec
  join ds_itrainingmodel h on h.trainingmodel_task_id = th.id)
select filter, round(accuracy, 3) as accuracy, epochs from runs
where accuracy = (select max(accuracy) from runs) or accuracy = (select min(accuracy) from runs)
order by accuracy desc
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--filters", default="none,grayscale")
    ap.add_argument("--epochs", type=int, default=10)
    args = ap.parse_args()

    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    y = digits.target
    for name in args.filters.split(","):
        run(name.strip(), args.epochs, x[:1400], y[:1400], x[1400:], y[1400:])

    if not dnnprov.flush(30):
        print("the server did not acknowledge everything yet; the rest is spooled")
        return
    url = os.environ.get("DNNPROV_URL", "http://localhost:22000").rstrip("/") + "/api/v1/query"
    req = urllib.request.Request(url, data=json.dumps({"sql": Q8, "dataflow": DATAFLOW}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        ans = json.loads(r.read())
    print("Q8:", [c["name"] for c in ans["columns"]])
    for row in ans["rows"]:
        print("   ", row)


if __name__ == "__main__":
    main()
