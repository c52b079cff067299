"""The Cache component (Redis) and its spec."""

from components.cache.component import Cache, CacheArgs
from components.cache.spec import BrokerSpec, CacheSpec

__all__ = ["BrokerSpec", "Cache", "CacheArgs", "CacheSpec"]
