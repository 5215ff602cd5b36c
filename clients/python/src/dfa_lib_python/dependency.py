from dnnprov.model import Dependency

__all__ = ["Dependency"]
