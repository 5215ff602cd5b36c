"""The tests' training: a tiny CNN on scikit-learn's 8x8 digits (ships offline)."""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

_data = None


def data():
    global _data
    if _data is None:
        from sklearn.datasets import load_digits
        d = load_digits()
        x = (d.images / 16.0).astype("float32")[..., None]
        y = d.target.astype("int32")
        _data = (x[:1400], y[:1400], x[1400:], y[1400:])
    return _data


def model(optimizer=None, seed=1):
    keras.utils.set_random_seed(seed)
    m = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.25),
        keras.layers.Dense(10, activation="softmax"),
    ])
    m.compile(optimizer=optimizer or keras.optimizers.SGD(0.05, momentum=0.9),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


class Slow(keras.callbacks.Callback):
    """Makes each epoch last at least `seconds` (to act on a server mid-training)."""

    def __init__(self, seconds, on_epoch=None):
        super().__init__()
        self.seconds = seconds
        self.on_epoch = on_epoch

    def on_epoch_end(self, epoch, logs=None):
        import time
        time.sleep(self.seconds)
        if self.on_epoch:
            self.on_epoch(epoch)


def close(a, b, tol=1e-5):
    return a is not None and b is not None and abs(float(a) - float(b)) <= tol * max(1.0, abs(float(b)))


__all__ = ["data", "model", "Slow", "close", "np"]
