from dnnprov.model import File

__all__ = ["File"]
