"""What the Keras callback reads from Keras: metric names, numbers, layers, hyperparameters.

The helpers before `optimizer` are framework neutral (dnnprov.training uses them too); Keras is
imported only by the functions that need it.
"""
from __future__ import annotations

import datetime
import re
import sys
from typing import Any

# Keras keys that fill the fixed attributes of oTrainingModel / oTestingModel.
FIXED_KEYS = frozenset({"loss", "accuracy", "acc"})


def attribute_name(key: Any) -> str:
    """A Keras metric key as an attribute name: `val_loss` -> `VAL_LOSS`, `top-5` -> `TOP-5`
    (the server takes letters, digits, `_`, `-` and `.`, starting with a letter or `_`, up to
    128 characters)."""
    name = re.sub(r"[^A-Za-z0-9_.\-]", "_", str(key)).upper()
    if not name or not (name[0].isalpha() or name[0] == "_"):
        name = "_" + name
    return name[:128]


def num(v: Any) -> float | None:
    """A number from a Python, numpy or backend scalar; None for anything else."""
    if v is None or isinstance(v, (str, bytes)):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    keras = sys.modules.get("keras")
    if keras is not None and not type(v).__module__.startswith("torch"):
        try:
            return float(keras.ops.convert_to_numpy(v))
        except Exception:
            pass
    try:  # numpy, torch (also a tensor that requires grad), JAX scalars
        return float(v.item() if hasattr(v, "item") else v)
    except Exception:
        return None


def text(v: Any) -> str | None:
    """A layer setting as text: (3, 3) -> "3x3"."""
    if v is None:
        return None
    if isinstance(v, (list, tuple)):
        return "x".join(str(x) for x in v)
    return str(v)


def timestamp() -> str:
    # isoformat, not strftime: strftime took ~100 µs per call inside a JAX fit (measured).
    return datetime.datetime.now().isoformat(" ", "seconds")


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) or (hasattr(v, "dtype") and getattr(v, "ndim", 1) == 0
                                           and v.dtype.kind in "biuf")


def optimizer(model: Any) -> Any:
    """The model's optimizer (the inner one of a loss-scaling wrapper), or None."""
    opt = getattr(model, "optimizer", None)
    return getattr(opt, "inner_optimizer", opt)


def learning_rate(opt: Any) -> float | None:
    """The rate the optimizer uses now (a schedule's current value), or None."""
    try:
        import keras
        return float(keras.ops.convert_to_numpy(opt.learning_rate))
    except Exception:
        return None


def hyperparameters(model: Any, epochs: int | None, batch_size: int | None) -> dict[str, Any]:
    """The values of Keras-Prov's hyperparameters, read from the optimizer and the model."""
    import keras
    opt = optimizer(model)
    lr_obj = getattr(opt, "_learning_rate", None)
    if isinstance(lr_obj, keras.optimizers.schedules.LearningRateSchedule):
        lr = num(getattr(lr_obj, "initial_learning_rate", None))
    else:
        lr = learning_rate(opt)
    decay = getattr(opt, "weight_decay", None)
    if decay is None:
        decay = getattr(opt, "decay", None)
    return {
        "OPTIMIZER_NAME": type(opt).__name__.lower() if opt is not None else None,
        "LEARNING_RATE": lr,
        "NUM_EPOCHS": epochs,
        "NUM_LAYERS": len(model.layers),
        "BATCH_SIZE": batch_size,
        "MOMENTUM": num(getattr(opt, "momentum", None)),
        "DECAY": num(decay),
    }


def layer_rows(model: Any) -> list[list[Any]]:
    """One iLayers row per layer (see predefined.LAYER_ATTRIBUTES)."""
    rows = []
    for layer in model.layers:
        try:
            cfg = layer.get_config()
        except Exception:
            cfg = {}
        act = cfg.get("activation")
        if act is not None and not isinstance(act, str):
            act = getattr(act, "__name__", None) or str(act)
        try:
            params = layer.count_params() if layer.built else None
        except Exception:
            params = None
        rows.append([layer.name, type(layer).__name__, act, num(cfg.get("units")), num(cfg.get("filters")),
                     text(cfg.get("kernel_size") or cfg.get("pool_size")), text(cfg.get("strides")),
                     text(cfg.get("padding")), num(cfg.get("rate")), params])
    return rows
