"""Keras-Prov's case study, offline: an AlexNet-style CNN (scaled down to the 8x8 images of
scikit-learn's digits) with a step-decay learning-rate schedule, trained once per optimizer of
the Provenance Dashboard paper (SGD, RMSprop, Adam, Adadelta, Adagrad, Adamax, Nadam), then
evaluated. Provenance is captured by one callback; every training is one execution of the
`alexnet` dataflow.

    pip install './clients/python[examples]'       # Keras, JAX and scikit-learn
    KERAS_BACKEND=jax python examples/keras_alexnet_digits.py --epochs 20
    python examples/keras_alexnet_digits.py --epochs 5 --optimizers adam,sgd

The server is DNNPROV_URL (default http://localhost:22000; start it with `dnnprov serve`).
"""
import argparse
import json
import math
import os
import urllib.request

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import dnnprov  # noqa: E402
from dnnprov.keras import ProvenanceCallback  # noqa: E402

# Initial learning rates: each optimizer's usual default.
OPTIMIZERS = {"sgd": ("SGD", 0.01), "rmsprop": ("RMSprop", 0.001), "adam": ("Adam", 0.001),
              "adadelta": ("Adadelta", 1.0), "adagrad": ("Adagrad", 0.01),
              "adamax": ("Adamax", 0.002), "nadam": ("Nadam", 0.002)}

# Keras-Prov's choice of hyperparameters (seed 002, Fig. 4.5).
HYPERPARAMETERS = {"OPTIMIZER_NAME": True, "LEARNING_RATE": True, "DECAY": False,
                   "MOMENTUM": False, "NUM_EPOCHS": True, "BATCH_SIZE": True, "NUM_LAYERS": True}


def alexnet(dropout=0.4):
    """AlexNet's shape (5 convolutions with pooling and batch normalisation, two dense layers
    with dropout) at the scale of an 8x8 image."""
    return keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.BatchNormalization(momentum=0.9),
        keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.BatchNormalization(momentum=0.9),
        keras.layers.Conv2D(96, 3, padding="same", activation="relu"),
        keras.layers.Conv2D(96, 3, padding="same", activation="relu"),
        keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.BatchNormalization(momentum=0.9),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(dropout),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(dropout),
        keras.layers.Dense(10, activation="softmax"),
    ])


def step_decay(initial_lrate, drop, epochs_drop):
    """The seeds' schedule: divide the rate by 1/drop every epochs_drop epochs."""
    return lambda epoch: initial_lrate * math.pow(drop, math.floor((1 + epoch) / epochs_drop))


def query(sql, dataflow):
    url = os.environ.get("DNNPROV_URL", "http://localhost:22000").rstrip("/") + "/api/v1/query"
    req = urllib.request.Request(url, data=json.dumps({"sql": sql, "dataflow": dataflow}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        ans = json.loads(r.read())
    return [c["name"] for c in ans["columns"]], ans["rows"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--optimizers", default=",".join(OPTIMIZERS),
                    help="comma-separated, among: " + ", ".join(OPTIMIZERS))
    ap.add_argument("--dataflow", default="alexnet")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--drop", type=float, default=0.5)
    ap.add_argument("--epochs-drop", type=float, default=10.0)
    ap.add_argument("--dropout", type=float, default=0.4)
    args = ap.parse_args()

    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    y = digits.target
    x_train, y_train, x_test, y_test = x[:1400], y[:1400], x[1400:], y[1400:]

    for key in args.optimizers.split(","):
        cls, initial_lrate = OPTIMIZERS[key.strip().lower()]
        keras.utils.set_random_seed(7)
        model = alexnet(args.dropout)
        model.compile(optimizer=getattr(keras.optimizers, cls)(learning_rate=initial_lrate),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        provenance = ProvenanceCallback(
            dataflow_tag=args.dataflow, adaptation=True, hyperparameters=HYPERPARAMETERS,
            extra={"DROPOUT": args.dropout},
            adaptation_params={"EPOCHS_DROP": args.epochs_drop, "DROP": args.drop,
                               "INITIAL_LRATE": initial_lrate})
        schedule = keras.callbacks.LearningRateScheduler(
            step_decay(initial_lrate, args.drop, args.epochs_drop))
        model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
                  validation_split=0.2, shuffle=True, verbose=0, callbacks=[schedule, provenance])
        loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
        print(f"{cls:9s} test accuracy {accuracy:.3f} loss {loss:.3f}")

    if not dnnprov.flush(30):
        print("the server did not acknowledge everything yet; the rest is spooled")
        return
    # The Provenance Dashboard's question: best training accuracy and loss per optimizer.
    try:
        cols, rows = query(
            "select h.optimizer_name, max(o.accuracy) as accuracy, min(o.loss) as loss, "
            "round(avg(o.elapsed_time), 3) as mean_epoch_time "
            "from ds_otrainingmodel o join ds_itrainingmodel h "
            "on h.trainingmodel_task_id = o.trainingmodel_task_id "
            "group by o.trainingmodel_task_id order by accuracy desc", args.dataflow)
    except OSError as e:
        print("query failed:", e)
        return
    print("\t".join(cols))
    for r in rows:
        print("\t".join(str(v) for v in r))


if __name__ == "__main__":
    main()
