"""The DNNProv / DfAnalyzer instrumentation API: prospective provenance (Dataflow,
Transformation, Set, Attribute) and retrospective provenance (Task, DataSet, Element).

Specification objects are copied when they are added to their parent, as dfa_lib_python did,
so the seeds' idiom of reusing one Set under several transformations after changing its type
and dependency keeps working. Capture calls (`save`, `begin`, `end`, ...) never raise: they
log a warning on the "dnnprov" logger instead.
"""
import copy
import enum
import logging
import threading
import time

from . import client as client_mod
from .execution import Execution, current_execution, start_execution

log = logging.getLogger("dnnprov")

# (dataflow, set tag) -> attribute names, from the dataflows saved by this process; events
# carry them so the sender can match the attribute order the server has.
_known_sets = {}
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


def error_text(exc):
    """`RuntimeError: boom`, or just `KeyboardInterrupt` when there is no message."""
    return type(exc).__name__ + (f": {exc}" if str(exc) else "")


def _enum_value(v):
    return v.value if isinstance(v, enum.Enum) else str(v).upper()


class Attribute:
    def __init__(self, name, type=AttributeType.TEXT):
        self.name = name
        self.type = type

    def get_specification(self):
        return {"name": self.name, "type": _enum_value(self.type)}

    def __repr__(self):
        return f"Attribute({self.name!r}, {_enum_value(self.type)})"


class Program:
    def __init__(self, name, path=""):
        self.name = name
        self.path = path

    def get_specification(self):
        return {"name": self.name, "path": self.path}


class Set:
    """A dataset schema: `Set(tag, SetType.OUTPUT, [Attribute(...), ...])`. A set with a
    `dependency` (a Transformation or its tag) is that transformation's output, consumed."""

    def __init__(self, tag, type=SetType.OUTPUT, attributes=None, extractors=None, dependency=""):
        self._tag = tag
        self.type = type
        self._attributes = [a.get_specification() if isinstance(a, Attribute) else dict(a)
                            for a in (attributes or [])]
        self.extractors = list(extractors or [])  # raw-data extractors: accepted, not used
        self.dependency = dependency

    @property
    def tag(self):
        return self._tag

    @property
    def type(self):
        return self._type

    @type.setter
    def type(self, value):
        self._type = value if isinstance(value, SetType) else SetType(_enum_value(value))

    def set_type(self, type):
        self.type = type

    @property
    def dependency(self):
        return self._dependency

    @dependency.setter
    def dependency(self, value):
        if isinstance(value, Transformation):
            value = value.tag
        self._dependency = value or ""

    @property
    def attributes(self):
        return self._attributes

    def add_attribute(self, attribute):
        self._attributes.append(attribute.get_specification())

    def get_specification(self):
        spec = {"tag": self._tag.lower(), "type": self._type.value,
                "attributes": copy.deepcopy(self._attributes)}
        if self._dependency:
            spec["dependency"] = self._dependency.lower()
        return spec


class Transformation:
    def __init__(self, tag, sets=None, programs=None):
        self._tag = tag
        self._sets = []
        self._programs = []
        for s in sets or []:
            self.add_set(s)
        for p in programs or []:
            self.add_program(p)

    @property
    def tag(self):
        return self._tag

    def add_set(self, set):
        spec = set.get_specification()
        self._sets = [s for s in self._sets if s["tag"] != spec["tag"]] + [spec]

    def set_sets(self, sets):
        self._sets = []
        for s in sets:
            self.add_set(s)

    def add_program(self, program):
        self._programs.append(program.get_specification())

    def set_programs(self, programs):
        self._programs = [p.get_specification() for p in programs]

    def get_specification(self):
        spec = {"tag": self._tag.lower(), "sets": copy.deepcopy(self._sets)}
        if self._programs:
            spec["programs"] = list(self._programs)
        return spec


class Dataflow:
    """`Dataflow(tag, predefined=False)`. With `predefined=True` it starts with the DL
    dataflow (TrainingModel, Adaptation, TestingModel); user transformations are added to it.
    `save()` registers (or extends) the dataflow and opens a new execution."""

    def __init__(self, tag, predefined=False, transformations=None):
        if isinstance(predefined, list):  # upstream DfAnalyzer: Dataflow(tag, transformations)
            predefined, transformations = False, predefined
        self._tag = tag
        self._transformations = []
        if predefined:
            from .predefined import dl_transformations
            for t in dl_transformations():
                self.add_transformation(t)
        for t in transformations or []:
            self.add_transformation(t)
        self.execution = None

    @property
    def tag(self):
        return self._tag

    @property
    def transformations(self):
        return self._transformations

    def add_transformation(self, transformation):
        spec = transformation.get_specification()
        for old in self._transformations:
            if old["tag"] == spec["tag"]:  # same tag again: its sets replace or extend ours
                tags = {s["tag"] for s in spec["sets"]}
                old["sets"] = [s for s in old["sets"] if s["tag"] not in tags] + spec["sets"]
                if spec.get("programs"):
                    old["programs"] = old.get("programs", []) + spec["programs"]
                return
        self._transformations.append(spec)

    def get_specification(self):
        return {"tag": self._tag.lower(), "transformations": copy.deepcopy(self._transformations)}

    def save(self, execution=None):
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


def remember_sets(spec):
    df = spec["tag"].lower()
    with _known_lock:
        for t in spec.get("transformations", []):
            for s in t.get("sets", []):
                if s.get("attributes") and not s.get("dependency"):
                    _known_sets[(df, s["tag"].lower())] = [a["name"].lower() for a in s["attributes"]]


class Element:
    def __init__(self, values):
        self.values = list(values) if isinstance(values, (list, tuple)) else [values]

    def get_specification(self):
        return list(self.values)


class DataSet:
    def __init__(self, tag, elements=None):
        self.tag = tag
        self.elements = [e.values if isinstance(e, Element) else list(e) for e in (elements or [])]

    def add_element(self, element):
        self.elements.append(element.values if isinstance(element, Element) else list(element))

    def get_specification(self):
        return {"tag": self.tag.lower(), "elements": [list(e) for e in self.elements]}


class File:
    def __init__(self, name, path=""):
        self.name = name
        self.path = path

    def get_specification(self):
        return {"name": self.name, "path": self.path}


class Dependency:
    """Tasks a task depends on: `Dependency(["trainingmodel"], ["1"])`; an id entry may list
    several ids ("1,2", or a list)."""

    def __init__(self, tags, ids):
        self.tags = [tags] if isinstance(tags, str) else list(tags)
        self.ids = [ids] if isinstance(ids, (str, int)) else list(ids)

    def refs(self):
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

    def __init__(self, id, dataflow_tag, transformation_tag, sub_id="", dependency=None,
                 workspace="", resource="", output="", error="", execution=None):
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
        self._sets = {}
        self._files = []
        self._deps = []
        if isinstance(execution, str):
            execution = Execution(self._dataflow, execution)
        self._execution = execution or current_execution(self._dataflow)
        if dependency is not None:
            self.add_dependency(dependency)

    @property
    def id(self):
        return self._id

    @property
    def execution(self):
        return self._execution

    @property
    def status(self):
        return self._status

    def add_dependency(self, dependency):
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

    def add_dataset(self, dataset):
        rows = self._sets.setdefault(dataset.tag.lower(), [])
        rows.extend(list(e) for e in dataset.elements)

    def set_datasets(self, datasets):
        for d in datasets:
            self.add_dataset(d)

    def add_file(self, file, path=None):
        if isinstance(file, File):
            self._files.append(file.get_specification())
        else:
            self._files.append({"name": str(file), "path": "" if path is None else str(path)})

    def set_status(self, status):
        self._status = status if isinstance(status, TaskStatus) else TaskStatus(_enum_value(status))

    def begin(self):
        self._status = TaskStatus.RUNNING
        self._send()

    def save(self):
        if self._status is TaskStatus.READY:
            self._status = TaskStatus.RUNNING
        self._send()

    def end(self, status=None):
        if status is not None:
            self.set_status(status)
        elif self._status not in (TaskStatus.FAILED, TaskStatus.FINISHED_WITH_ERROR):
            self._status = TaskStatus.FINISHED
        self._send()

    def fail(self, error):
        """Ends the task FAILED with the error's text."""
        self._status = TaskStatus.FAILED
        self._error = error if isinstance(error, str) else error_text(error)
        self._send()

    def _send(self):
        try:
            ev = {"dataflow": self._dataflow, "transformation": self._transformation,
                  "task": self._id, "status": self._status.value, "time": time.time()}
            if self._deps:
                ev["dependencies"] = list(self._deps)
            if self._sets:
                sets = []
                for tag, rows in self._sets.items():
                    s = {"tag": tag, "elements": rows}
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
