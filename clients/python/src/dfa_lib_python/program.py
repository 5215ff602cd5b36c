from dnnprov.model import Program

__all__ = ["Program"]
