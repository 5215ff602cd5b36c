from dnnprov.model import Task

__all__ = ["Task"]
