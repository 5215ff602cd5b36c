from dnnprov.model import Element

__all__ = ["Element"]
