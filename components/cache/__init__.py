"""The Cache component (Redis) and its spec."""

from components.cache.component import Cache, CacheArgs
from components.cache.spec import CacheSpec

__all__ = ["Cache", "CacheArgs", "CacheSpec"]
