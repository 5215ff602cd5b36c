"""DnnprovCallback against a real dnnprov server: the rows are what the Hugging Face Trainer logged.

A tiny BERT built from a config and data made here: nothing is downloaded."""
import hashlib
import math
import os

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("accelerate")

from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments  # noqa: E402

import dnnprov  # noqa: E402
from dnnprov.huggingface import DnnprovCallback  # noqa: E402

from conftest import assert_training_failed  # noqa: E402

ALL_HYPERPARAMETERS = {"OPTIMIZER_NAME": True, "LEARNING_RATE": True, "DECAY": True, "MOMENTUM": True,
                       "NUM_EPOCHS": True, "BATCH_SIZE": True, "NUM_LAYERS": True}


def close(a, b, tol=1e-5):
    return a is not None and b is not None and abs(a - b) <= tol * max(1.0, abs(b))


class Tokens(torch.utils.data.Dataset):
    """Sequences of token ids; the label is whether token 5 occurs."""

    def __init__(self, n, seed):
        g = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(6, 64, (n, 8), generator=g)
        self.ids[: n // 2, 3] = 5
        self.labels = (self.ids == 5).any(1).long()

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "attention_mask": torch.ones(8, dtype=torch.long), "labels": self.labels[i]}


def model():
    torch.manual_seed(0)
    return BertForSequenceClassification(BertConfig(vocab_size=64, hidden_size=16, num_hidden_layers=1,
                                                    num_attention_heads=2, intermediate_size=32,
                                                    max_position_embeddings=16, num_labels=2))


def accuracy(pred):
    return {"accuracy": float((pred.predictions.argmax(-1) == pred.label_ids).mean())}


def arguments(tmp_path, **kw):
    base = dict(output_dir=str(tmp_path / "out"), num_train_epochs=3, per_device_train_batch_size=8,
                per_device_eval_batch_size=16, learning_rate=5e-3, weight_decay=0.01, use_cpu=True,
                report_to="none", disable_tqdm=True, save_strategy="no", logging_strategy="steps",
                logging_steps=2, seed=0)
    base.update(kw)
    return TrainingArguments(**base)


def by_epoch(history, key):
    """The last value of `key` logged in each epoch (1-based)."""
    out = {}
    for h in history:
        if key in h:
            out[math.ceil(h["epoch"])] = h[key]
    return out


def test_train_with_evaluation_scheduler_checkpoints_and_evaluate(server, use_client, tmp_path):
    flow = "hfval"
    use_client(server.url)
    args = arguments(tmp_path, eval_strategy="epoch", save_strategy="epoch", lr_scheduler_type="linear",
                     warmup_steps=2)
    trainer = Trainer(model(), args, train_dataset=Tokens(32, 1), eval_dataset=Tokens(16, 2),
                      compute_metrics=accuracy, callbacks=[DnnprovCallback(flow, hyperparameters=ALL_HYPERPARAMETERS)])
    trainer.train()
    ev = trainer.evaluate()
    assert dnnprov.flush(30)
    history = trainer.state.log_history

    hp = server.query("select * from ds_itrainingmodel", flow)
    assert len(hp) == 1
    hp = hp[0]
    assert hp["optimizer_name"] == "adamw" and close(hp["learning_rate"], 5e-3)
    assert (hp["num_epochs"], hp["batch_size"]) == (3, 8)
    assert close(hp["decay"], 0.01) and hp["lr_scheduler_type"] == "linear" and hp["warmup_steps"] == 2
    layers = server.query("select name, type from ds_ilayers order by id", flow)
    assert hp["num_layers"] == len(layers) and len(layers) > 10
    assert ("classifier", "Linear") in [(r["name"], r["type"]) for r in layers]

    rows = server.query("select * from ds_otrainingmodel order by id", flow)
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    losses, val_losses, val_accs = by_epoch(history, "loss"), by_epoch(history, "eval_loss"), by_epoch(
        history, "eval_accuracy")
    for r in rows:
        e = r["epoch"]
        assert close(r["loss"], losses[e]) and close(r["val_loss"], val_losses[e])
        assert close(r["val_accuracy"], val_accs[e])
        assert r["elapsed_time"] > 0 and len(r["timestamp"]) == 19
    assert "val_runtime" not in rows[0] and "learning_rate" in rows[0]

    steps = server.query("select step, epoch, loss, learning_rate from ds_otrainingstep order by step", flow)
    logged = [h for h in history if "loss" in h]
    assert [(s["step"], round(s["loss"], 5)) for s in steps] == [(h["step"], round(h["loss"], 5)) for h in logged]
    assert [s["epoch"] for s in steps] == [math.ceil(h["epoch"]) for h in logged]

    # Adaptations: each logged learning rate that differs from the one before (the first from 5e-3).
    expected, last = [], 5e-3
    for h in logged:
        if not math.isclose(h["learning_rate"], last, rel_tol=1e-7):
            expected.append((h["learning_rate"], math.ceil(h["epoch"])))
        last = h["learning_rate"]
    assert len(expected) >= 3
    adapt = server.query("select new_lrate, epoch_id, adaptation_id from ds_oadaptation order by id", flow)
    assert [(pytest.approx(a["new_lrate"]), a["epoch_id"]) for a in adapt] == expected
    assert [a["adaptation_id"] for a in adapt] == list(range(1, len(expected) + 1))

    test = server.query("select * from ds_otestingmodel", flow)
    assert len(test) == 1
    assert close(test[0]["loss"], ev["eval_loss"]) and close(test[0]["accuracy"], ev["eval_accuracy"])
    assert test[0]["epoch"] == 3

    files = server.query("select path, sha256, epoch from ds_omodelfile order by id", flow)
    weights = [f for f in files if os.path.basename(f["path"]) == "model.safetensors"]
    assert sorted(f["epoch"] for f in weights) == [1, 2, 3]
    for f in weights:
        assert os.path.basename(os.path.dirname(f["path"])).startswith("checkpoint-")
        with open(f["path"], "rb") as fh:
            assert f["sha256"] == hashlib.sha256(fh.read()).hexdigest()

    tasks = server.tasks(flow)
    assert sorted((t["transformation"], t["identifier"], t["status"]) for t in tasks) == [
        ("adaptation", "2", "FINISHED"), ("testingmodel", "3", "FINISHED"), ("trainingmodel", "1", "FINISHED")]
    assert len({t["execution"] for t in tasks}) == 1

    q = server.query("select trainingmodel_task_id, max(accuracy) as acc, min(loss) as loss "
                     "from ds_otrainingmodel group by 1", flow)
    assert len(q) == 1 and close(q[0]["loss"], min(losses.values()))


def test_report_to_without_evaluation_or_scheduler(server, use_client, tmp_path, monkeypatch):
    flow = "hfnoval"
    monkeypatch.setenv("DNNPROV_DATAFLOW", flow)
    use_client(server.url)
    args = arguments(tmp_path, report_to="dnnprov", logging_strategy="epoch", lr_scheduler_type="constant")
    trainer = Trainer(model(), args, train_dataset=Tokens(32, 3))
    assert any(isinstance(cb, DnnprovCallback) for cb in trainer.callback_handler.callbacks)
    trainer.train()
    assert dnnprov.flush(30)
    hp = server.query("select * from ds_itrainingmodel", flow)[0]
    assert hp["optimizer_name"] == "adamw" and hp["batch_size"] == 8
    assert "momentum" not in hp and "decay" not in hp  # Keras-Prov's default choice
    rows = server.query("select * from ds_otrainingmodel order by id", flow)
    losses = by_epoch(trainer.state.log_history, "loss")
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert all(close(r["loss"], losses[r["epoch"]]) for r in rows)
    assert "val_loss" not in rows[0]
    assert server.query("select * from ds_oadaptation", flow) == []
    names = {r["tag"] for r in server.query(
        "select s.tag from data_set s join dataflow d on d.id = s.df_id where d.tag = 'hfnoval'")}
    assert "otrainingstep" not in names  # logged per epoch: no step rows
    assert all(t["status"] == "FINISHED" for t in server.tasks(flow))


class Boom(transformers.TrainerCallback):
    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == 6:
            raise RuntimeError("boom at step 6")


def test_train_that_raises_ends_failed(server, use_client, tmp_path):
    flow = "hffail"
    use_client(server.url)
    args = arguments(tmp_path, logging_strategy="epoch")
    trainer = Trainer(model(), args, train_dataset=Tokens(32, 4), callbacks=[DnnprovCallback(flow), Boom()])
    with pytest.raises(RuntimeError, match="boom at step 6"):
        trainer.train()
    assert dnnprov.flush(30)
    rows = server.query("select epoch from ds_otrainingmodel", flow)
    assert [r["epoch"] for r in rows] == [1]
    assert_training_failed(server, flow, "RuntimeError", "boom at step 6")


def test_evaluate_without_train(server, use_client, tmp_path):
    flow = "hfevalonly"
    use_client(server.url)
    trainer = Trainer(model(), arguments(tmp_path), eval_dataset=Tokens(16, 5), compute_metrics=accuracy,
                      callbacks=[DnnprovCallback(flow)])
    ev = trainer.evaluate()
    assert dnnprov.flush(30)
    test = server.query("select * from ds_otestingmodel", flow)
    assert len(test) == 1 and close(test[0]["loss"], ev["eval_loss"])
    assert close(test[0]["accuracy"], ev["eval_accuracy"])
    assert server.query("select * from ds_otrainingmodel", flow) == []
    assert all(t["status"] == "FINISHED" for t in server.tasks(flow))
