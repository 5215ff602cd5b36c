"""DnnprovLogger against a real dnnprov server: the rows are what Lightning reported."""
import hashlib
import os

import pytest

torch = pytest.importorskip("torch")
pl = pytest.importorskip("lightning.pytorch")

from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

import dnnprov  # noqa: E402
from dnnprov.lightning import DnnprovLogger  # noqa: E402

from conftest import assert_training_failed  # noqa: E402

ALL_HYPERPARAMETERS = {"OPTIMIZER_NAME": True, "LEARNING_RATE": True, "DECAY": True, "MOMENTUM": True,
                       "NUM_EPOCHS": True, "BATCH_SIZE": True, "NUM_LAYERS": True}


def close(a, b, tol=1e-5):
    return a is not None and b is not None and abs(a - b) <= tol * max(1.0, abs(b))


class Recorder(pl.Callback):
    """What Lightning reports at each epoch's end, and the learning rate each epoch trains with."""

    def __init__(self):
        self.epochs, self.lrs = [], []

    def on_train_epoch_start(self, trainer, pl_module):
        self.lrs.append(trainer.optimizers[0].param_groups[0]["lr"])

    def on_train_epoch_end(self, trainer, pl_module):
        self.epochs.append({k: float(v) for k, v in trainer.callback_metrics.items()})


class Steps(pl.loggers.Logger):
    """A second logger: the per-step metrics Lightning sent to loggers."""
    name, version = "steps", "0"

    def __init__(self):
        super().__init__()
        self.rows = []

    def log_hyperparams(self, params, *args, **kwargs):
        pass

    def log_metrics(self, metrics, step=None):
        if "train_loss_step" in metrics:
            self.rows.append((step, metrics["train_loss_step"]))


class Net(pl.LightningModule):
    def __init__(self, lr=0.1, hidden=16, scheduler=True, fail_at_epoch=None):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Linear(8, hidden), nn.ReLU(), nn.Dropout(0.25), nn.Linear(hidden, 2))

    def _metrics(self, batch):
        x, y = batch
        out = self.net(x)
        return nn.functional.cross_entropy(out, y), (out.argmax(1) == y).float().mean()

    def training_step(self, batch, batch_idx):
        if self.hparams.fail_at_epoch is not None and self.current_epoch == self.hparams.fail_at_epoch:
            raise RuntimeError("boom in training_step")
        loss, acc = self._metrics(batch)
        self.log("train_loss", loss, on_step=True, on_epoch=True)
        self.log("train_acc", acc, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        loss, acc = self._metrics(batch)
        self.log("val_loss", loss)
        self.log("val_acc", acc)

    def test_step(self, batch, batch_idx):
        loss, acc = self._metrics(batch)
        self.log("test_loss", loss)
        self.log("test_acc", acc)

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=0.9, weight_decay=1e-4)
        if not self.hparams.scheduler:
            return opt
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)}


def loaders(batch_size=16):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(96, 8, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long()
    train = DataLoader(TensorDataset(x[:64], y[:64]), batch_size=batch_size)
    val = DataLoader(TensorDataset(x[64:], y[64:]), batch_size=batch_size)
    return train, val


def trainer(tmp_path, logger, *callbacks, **kw):
    kw.setdefault("max_epochs", 3)
    return pl.Trainer(accelerator="cpu", logger=logger, enable_progress_bar=False, enable_model_summary=False,
                      default_root_dir=str(tmp_path), callbacks=list(callbacks), **kw)


def test_fit_with_validation_scheduler_checkpoints_and_test(server, use_client, tmp_path):
    flow = "plval"
    use_client(server.url)
    torch.manual_seed(0)
    train, val = loaders()
    rec, steps = Recorder(), Steps()
    logger = DnnprovLogger(flow, hyperparameters=ALL_HYPERPARAMETERS)
    ckpt = pl.callbacks.ModelCheckpoint(dirpath=str(tmp_path / "ckpt"), save_top_k=-1)
    t = trainer(tmp_path, [logger, steps], rec, ckpt, log_every_n_steps=1)
    model = Net()
    t.fit(model, train, val)
    result = t.test(model, val, verbose=False)[0]
    assert dnnprov.flush(30)

    hp = server.query("select * from ds_itrainingmodel", flow)
    assert len(hp) == 1
    hp = hp[0]
    assert hp["optimizer_name"] == "sgd" and close(hp["learning_rate"], 0.1)
    assert (hp["num_epochs"], hp["batch_size"], hp["num_layers"]) == (3, 16, 4)
    assert close(hp["momentum"], 0.9) and close(hp["decay"], 1e-4)
    assert close(hp["lr"], 0.1) and hp["hidden"] == 16 and hp["scheduler"] == "true"

    layers = server.query("select name, type, units, dropout_rate, params from ds_ilayers order by id", flow)
    assert [(r["name"], r["type"]) for r in layers] == [
        ("net.0", "Linear"), ("net.1", "ReLU"), ("net.2", "Dropout"), ("net.3", "Linear")]
    assert layers[0]["units"] == 16 and layers[2]["dropout_rate"] == 0.25 and layers[0]["params"] == 8 * 16 + 16

    rows = server.query("select * from ds_otrainingmodel order by id", flow)
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    for r, m in zip(rows, rec.epochs):
        assert close(r["loss"], m["train_loss"]) and close(r["accuracy"], m["train_acc"])
        assert close(r["val_loss"], m["val_loss"]) and close(r["val_accuracy"], m["val_acc"])
        assert r["elapsed_time"] > 0 and len(r["timestamp"]) == 19
    assert not any(k.endswith("_step") or k.endswith("_epoch") for k in rows[0])

    step_rows = server.query("select step, epoch, loss from ds_otrainingstep order by step", flow)
    assert [(s["step"], round(s["loss"], 5)) for s in step_rows] == [(st + 1, round(v, 5)) for st, v in steps.rows]
    assert len(step_rows) == 3 * 4 and [s["epoch"] for s in step_rows] == [1] * 4 + [2] * 4 + [3] * 4

    assert rec.lrs == pytest.approx([0.1, 0.05, 0.025])
    adapt = server.query("select new_lrate, epoch_id, adaptation_id from ds_oadaptation order by id", flow)
    assert [(a["new_lrate"], a["epoch_id"], a["adaptation_id"]) for a in adapt] == [
        (pytest.approx(0.05), 2, 1), (pytest.approx(0.025), 3, 2)]

    test = server.query("select * from ds_otestingmodel", flow)
    assert len(test) == 1
    assert close(test[0]["loss"], result["test_loss"]) and close(test[0]["accuracy"], result["test_acc"])
    assert test[0]["epoch"] == 3

    files = server.query("select path, sha256, epoch from ds_omodelfile order by epoch", flow)
    assert [f["epoch"] for f in files] == [1, 2, 3]
    for f in files:
        with open(f["path"], "rb") as fh:
            assert f["sha256"] == hashlib.sha256(fh.read()).hexdigest()
        assert os.path.dirname(f["path"]) == str(tmp_path / "ckpt")

    tasks = server.tasks(flow)
    assert sorted((t["transformation"], t["identifier"], t["status"]) for t in tasks) == [
        ("adaptation", "2", "FINISHED"), ("testingmodel", "3", "FINISHED"), ("trainingmodel", "1", "FINISHED")]
    assert len({t["execution"] for t in tasks}) == 1

    q = server.query("select trainingmodel_task_id, max(accuracy) as acc, min(loss) as loss "
                     "from ds_otrainingmodel group by 1", flow)
    assert len(q) == 1
    assert close(q[0]["acc"], max(m["train_acc"] for m in rec.epochs))
    assert close(q[0]["loss"], min(m["train_loss"] for m in rec.epochs))


def test_fit_without_validation_or_scheduler(server, use_client, tmp_path):
    flow = "plnoval"
    use_client(server.url)
    torch.manual_seed(1)
    train, _ = loaders(batch_size=32)
    rec = Recorder()
    t = trainer(tmp_path, DnnprovLogger(flow), rec, enable_checkpointing=False)
    t.fit(Net(lr=0.05, scheduler=False), train)
    assert dnnprov.flush(30)
    hp = server.query("select * from ds_itrainingmodel", flow)[0]
    assert hp["optimizer_name"] == "sgd" and hp["batch_size"] == 32 and hp["num_epochs"] == 3
    assert "momentum" not in hp and "decay" not in hp  # Keras-Prov's default choice
    rows = server.query("select * from ds_otrainingmodel order by id", flow)
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert all(close(r["loss"], m["train_loss"]) for r, m in zip(rows, rec.epochs))
    assert "val_loss" not in rows[0]
    assert server.query("select * from ds_oadaptation", flow) == []
    assert all(t["status"] == "FINISHED" for t in server.tasks(flow))


def test_fit_that_raises_ends_failed(server, use_client, tmp_path):
    flow = "plfail"
    use_client(server.url)
    train, val = loaders()
    t = trainer(tmp_path, DnnprovLogger(flow), enable_checkpointing=False)
    with pytest.raises(RuntimeError, match="boom"):
        t.fit(Net(fail_at_epoch=1), train, val)
    assert dnnprov.flush(30)
    rows = server.query("select epoch from ds_otrainingmodel", flow)
    assert [r["epoch"] for r in rows] == [1]
    assert_training_failed(server, flow, "RuntimeError", "boom in training_step")


def test_test_without_fit(server, use_client, tmp_path):
    flow = "pltestonly"
    use_client(server.url)
    _, val = loaders()
    result = trainer(tmp_path, DnnprovLogger(flow), enable_checkpointing=False).test(Net(), val, verbose=False)[0]
    assert dnnprov.flush(30)
    test = server.query("select * from ds_otestingmodel", flow)
    assert len(test) == 1 and close(test[0]["loss"], result["test_loss"]) and test[0]["epoch"] is None
    assert server.query("select * from ds_otrainingmodel", flow) == []
    assert all(t["status"] == "FINISHED" for t in server.tasks(flow))


def test_logger_pickles():
    import pickle
    lg = pickle.loads(pickle.dumps(DnnprovLogger("plpickle", hyperparameters={"MOMENTUM": True})))
    assert lg.dataflow == "plpickle" and lg.chosen == {"MOMENTUM": True} and lg.callback is not None


def test_hooks_passed_by_hand_without_autolog_hparams(server, use_client, tmp_path):
    flow = "plnoautolog"
    use_client(server.url)
    train, val = loaders()
    logger = DnnprovLogger(flow)
    t = trainer(tmp_path, logger, logger.callback, enable_checkpointing=False, enable_autolog_hparams=False,
                max_epochs=2)
    t.fit(Net(), train, val)
    assert dnnprov.flush(30)
    assert [r["epoch"] for r in server.query("select epoch from ds_otrainingmodel", flow)] == [1, 2]
    assert t.callbacks.count(logger.callback) == 1
