"""The DNNProv / DfAnalyzer instrumentation API: prospective provenance (Dataflow,
Transformation, Set, Attribute) and retrospective provenance (Task, DataSet, Element).

Specification objects are copied when they are added to their parent, as dfa_lib_python did,
so the seeds' idiom of reusing one Set under several transformations after changing its type
and dependency keeps working. Capture calls (`save`, `begin`, `end`, ...) never raise: they
log a warning on the "dnnprov" logger instead.
"""
from __future__ import annotations

import copy
import enum
import logging
import threading
import time
from typing import Any, Union

from . import client as client_mod
from .execution import Execution, current_execution, start_execution

log = logging.getLogger("dnnprov")

# (dataflow, set tag) -> attribute names, from the dataflows saved by this process; events
# carry them so the sender can match the attribute order the server has.
_known_sets: dict[tuple[str, str], list[str]] = {}
_known_lock = threading.Lock()


class AttributeType(enum.Enum):
    TEXT = "TEXT"
    NUMERIC = "NUMERIC"
    FILE = "FILE"
    LONG_TEXT = "LONG_TEXT"


class SetType(enum.Enum):
    INPUT = "INPUT"
    OUTPUT = "OUTPUT"


class TaskStatus(enum.Enum):
    READY = "READY"
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FINISHED_WITH_ERROR = "FINISHED_WITH_ERROR"
    FAILED = "FAILED"


def error_text(exc: BaseException) -> str:
    """`RuntimeError: boom`, or just `KeyboardInterrupt` when there is no message."""
    return type(exc).__name__ + (f": {exc}" if str(exc) else "")


def _enum_value(v: Any) -> str:
    return v.value if isinstance(v, enum.Enum) else str(v).upper()


class Attribute:
    def __init__(self, name: str, type: AttributeType | str = AttributeType.TEXT) -> None:
        self.name = name
        self.type = type

    def get_specification(self) -> dict[str, Any]:
        return {"name": self.name, "type": _enum_value(self.type)}

    def __repr__(self) -> str:
        return f"Attribute({self.name!r}, {_enum_value(self.type)})"


class Program:
    def __init__(self, name: str, path: str = "") -> None:
        self.name = name
        self.path = path

    def get_specification(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.path}


class Set:
    """A dataset schema: `Set(tag, SetType.OUTPUT, [Attribute(...), ...])`. A set with a
    `dependency` (a Transformation or its tag) is that transformation's output, consumed."""

    def __init__(self, tag: str, type: SetType | str = SetType.OUTPUT,
                 attributes: list[Attribute | dict[str, Any]] | None = None, extractors: list[Any] | None = None,
                 dependency: Transformation | str | None = "") -> None:
        self._tag = tag
        self.type = type
        self._attributes = [a.get_specification() if isinstance(a, Attribute) else dict(a)
                            for a in (attributes or [])]
        self.extractors = list(extractors or [])  # raw-data extractors: accepted, not used
        self.dependency = dependency

    @property
    def tag(self) -> str:
        return self._tag

    @property
    def type(self) -> SetType:
        return self._type

    @type.setter
    def type(self, value: SetType | str) -> None:
        self._type = value if isinstance(value, SetType) else SetType(_enum_value(value))

    def set_type(self, type: SetType | str) -> None:
        self.type = type

    @property
    def dependency(self) -> str:
        return self._dependency

    @dependency.setter
    def dependency(self, value: Transformation | str | None) -> None:
        if isinstance(value, Transformation):
            value = value.tag
        self._dependency = value or ""

    @property
    def attributes(self) -> list[dict[str, Any]]:
        return self._attributes

    def add_attribute(self, attribute: Attribute) -> None:
        self._attributes.append(attribute.get_specification())

    def get_specification(self) -> dict[str, Any]:
        spec = {"tag": self._tag.lower(), "type": self._type.value,
                "attributes": copy.deepcopy(self._attributes)}
        if self._dependency:
            spec["dependency"] = self._dependency.lower()
        return spec


class Transformation:
    def __init__(self, tag: str, sets: list[Set] | None = None, programs: list[Program] | None = None) -> None:
        self._tag = tag
        self._sets: list[dict[str, Any]] = []
        self._programs: list[dict[str, Any]] = []
        for s in sets or []:
            self.add_set(s)
        for p in programs or []:
            self.add_program(p)

    @property
    def tag(self) -> str:
        return self._tag

    def add_set(self, set: Set) -> None:
        spec = set.get_specification()
        self._sets = [s for s in self._sets if s["tag"] != spec["tag"]] + [spec]

    def set_sets(self, sets: list[Set]) -> None:
        self._sets = []
        for s in sets:
            self.add_set(s)

    def add_program(self, program: Program) -> None:
        self._programs.append(program.get_specification())

    def set_programs(self, programs: list[Program]) -> None:
        self._programs = [p.get_specification() for p in programs]

    def get_specification(self) -> dict[str, Any]:
        spec = {"tag": self._tag.lower(), "sets": copy.deepcopy(self._sets)}
        if self._programs:
            spec["programs"] = list(self._programs)
        return spec


class Dataflow:
    """`Dataflow(tag, predefined=False)`. With `predefined=True` it starts with the DL
    dataflow (TrainingModel, Adaptation, TestingModel); user transformations are added to it.
    `save()` registers (or extends) the dataflow and opens a new execution."""

    def __init__(self, tag: str, predefined: bool | list[Transformation] = False,
                 transformations: list[Transformation] | None = None) -> None:
        if isinstance(predefined, list):  # upstream DfAnalyzer: Dataflow(tag, transformations)
            transformations, predefined = predefined, False
        self._tag = tag
        self._transformations: list[dict[str, Any]] = []
        if predefined:
            from .predefined import dl_transformations
            for t in dl_transformations():
                self.add_transformation(t)
        for t in transformations or []:
            self.add_transformation(t)
        self.execution: Execution | None = None

    @property
    def tag(self) -> str:
        return self._tag

    @property
    def transformations(self) -> list[dict[str, Any]]:
        return self._transformations

    def add_transformation(self, transformation: Transformation) -> None:
        spec = transformation.get_specification()
        for old in self._transformations:
            if old["tag"] == spec["tag"]:  # same tag again: its sets replace or extend ours
                tags = {s["tag"] for s in spec["sets"]}
                old["sets"] = [s for s in old["sets"] if s["tag"] not in tags] + spec["sets"]
                if spec.get("programs"):
                    old["programs"] = old.get("programs", []) + spec["programs"]
                return
        self._transformations.append(spec)

    def get_specification(self) -> dict[str, Any]:
        return {"tag": self._tag.lower(), "transformations": copy.deepcopy(self._transformations)}

    def save(self, execution: str | None = None) -> Execution | None:
        """Registers the dataflow (asynchronously, ahead of any later event) and opens an
        execution, named `execution` when given. Returns the Execution."""
        try:
            spec = self.get_specification()
            remember_sets(spec)
            client_mod.get_client().register_dataflow(spec)
            self.execution = start_execution(self._tag, execution)
        except Exception:
            log.warning("dnnprov: Dataflow(%r).save() failed", self._tag, exc_info=True)
        return self.execution


def remember_sets(spec: dict[str, Any]) -> None:
    df = spec["tag"].lower()
    with _known_lock:
        for t in spec.get("transformations", []):
            for s in t.get("sets", []):
                if s.get("attributes") and not s.get("dependency"):
                    _known_sets[(df, s["tag"].lower())] = [a["name"].lower() for a in s["attributes"]]


class Element:
    def __init__(self, values: Any) -> None:
        self.values = list(values) if isinstance(values, (list, tuple)) else [values]

    def get_specification(self) -> list[Any]:
        return list(self.values)


class DataSet:
    def __init__(self, tag: str, elements: list[Element | list[Any]] | None = None) -> None:
        self.tag = tag
        self.elements = [e.values if isinstance(e, Element) else list(e) for e in (elements or [])]

    def add_element(self, element: Element | list[Any]) -> None:
        self.elements.append(element.values if isinstance(element, Element) else list(element))

    def get_specification(self) -> dict[str, Any]:
        return {"tag": self.tag.lower(), "elements": [list(e) for e in self.elements]}


class File:
    def __init__(self, name: str, path: str = "") -> None:
        self.name = name
        self.path = path

    def get_specification(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.path}


class Dependency:
    """Tasks a task depends on: `Dependency(["trainingmodel"], ["1"])`; an id entry may list
    several ids ("1,2", or a list)."""

    def __init__(self, tags: str | list[str], ids: Any) -> None:
        self.tags = [tags] if isinstance(tags, str) else list(tags)
        self.ids = [ids] if isinstance(ids, (str, int)) else list(ids)

    def refs(self) -> list[dict[str, str]]:
        out = []
        for tag, ids in zip(self.tags, self.ids):
            if isinstance(ids, (list, tuple)):
                parts = ids
            else:
                parts = str(ids).split(",")
            for i in parts:
                if str(i).strip():
                    out.append({"transformation": str(tag).lower(), "task": str(i).strip()})
        return out


class Task:
    """One execution of a transformation, in the current execution of its dataflow:
    `Task(id, dataflow_tag, transformation_tag, dependency=t1)`; `add_dataset`, then
    `begin()`, `save()` and `end()` each send one event with the data added since the last."""

    def __init__(self, id: int | str, dataflow_tag: str, transformation_tag: str, sub_id: str = "",
                 dependency: DependencyLike | None = None, workspace: str = "", resource: str = "", output: str = "",
                 error: str = "", execution: Execution | str | None = None) -> None:
        self._id = str(id)
        self._tag = transformation_tag
        self._dataflow = dataflow_tag.lower()
        self._transformation = transformation_tag.lower()
        self._sub_id = sub_id
        self._workspace = workspace
        self._resource = resource
        self._output = output
        self._error = error or None
        self._status = TaskStatus.READY
        self._sets: dict[str, list[list[Any]]] = {}
        self._files: list[dict[str, str]] = []
        self._deps: list[dict[str, str]] = []
        if isinstance(execution, str):
            execution = Execution(self._dataflow, execution)
        self._execution = execution or current_execution(self._dataflow)
        if dependency is not None:
            self.add_dependency(dependency)

    @property
    def id(self) -> str:
        return self._id

    @property
    def execution(self) -> Execution:
        return self._execution

    @property
    def status(self) -> TaskStatus:
        return self._status

    def add_dependency(self, dependency: DependencyLike) -> None:
        if isinstance(dependency, Task):
            refs = [{"transformation": dependency._transformation, "task": dependency._id}]
        elif isinstance(dependency, Dependency):
            refs = dependency.refs()
        elif isinstance(dependency, (list, tuple)):
            for d in dependency:
                self.add_dependency(d)
            return
        else:
            raise TypeError("a dependency is a Task, a list of Tasks or a Dependency")
        for r in refs:
            if r not in self._deps:
                self._deps.append(r)

    def add_dataset(self, dataset: DataSet) -> None:
        rows = self._sets.setdefault(dataset.tag.lower(), [])
        rows.extend(list(e) for e in dataset.elements)

    def set_datasets(self, datasets: list[DataSet]) -> None:
        for d in datasets:
            self.add_dataset(d)

    def add_file(self, file: File | str, path: str | None = None) -> None:
        if isinstance(file, File):
            self._files.append(file.get_specification())
        else:
            self._files.append({"name": str(file), "path": "" if path is None else str(path)})

    def set_status(self, status: TaskStatus | str) -> None:
        self._status = status if isinstance(status, TaskStatus) else TaskStatus(_enum_value(status))

    def begin(self) -> None:
        self._status = TaskStatus.RUNNING
        self._send()

    def save(self) -> None:
        if self._status is TaskStatus.READY:
            self._status = TaskStatus.RUNNING
        self._send()

    def end(self, status: TaskStatus | str | None = None) -> None:
        if status is not None:
            self.set_status(status)
        elif self._status not in (TaskStatus.FAILED, TaskStatus.FINISHED_WITH_ERROR):
            self._status = TaskStatus.FINISHED
        self._send()

    def fail(self, error: BaseException | str) -> None:
        """Ends the task FAILED with the error's text."""
        self._status = TaskStatus.FAILED
        self._error = error if isinstance(error, str) else error_text(error)
        self._send()

    def _send(self) -> None:
        try:
            ev: dict[str, Any] = {"dataflow": self._dataflow, "transformation": self._transformation,
                  "task": self._id, "status": self._status.value, "time": time.time()}
            if self._deps:
                ev["dependencies"] = list(self._deps)
            if self._sets:
                sets = []
                for tag, rows in self._sets.items():
                    s: dict[str, Any] = {"tag": tag, "elements": rows}
                    names = _known_sets.get((self._dataflow, tag))
                    if names is not None:
                        s["_names"] = names
                    sets.append(s)
                ev["sets"] = sets
                self._sets = {}
            if self._files:
                ev["files"] = self._files
                self._files = []
            if self._error:
                ev["error"] = self._error
            for k in ("workspace", "resource", "output"):
                v = getattr(self, "_" + k)
                if v:
                    ev[k] = str(v)
            self._execution.stamp(ev)
            client_mod.get_client().send_event(ev)
        except Exception:
            log.warning("dnnprov: could not capture task %s/%s", self._transformation, self._id,
                        exc_info=True)


# What Task(dependency=...) takes: a Task, a list of Tasks, or a Dependency.
DependencyLike = Union[Task, "list[Task]", Dependency]
