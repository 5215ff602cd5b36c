from dnnprov.model import Set

__all__ = ["Set"]
