"""The analytics app's models, each in the module of its concept."""

from .signal_models import Signal

__all__ = ["Signal"]
