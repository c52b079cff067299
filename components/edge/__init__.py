"""The Edge component (routes, TLS, the proxy's protections) and its spec."""

from components.edge.component import Edge, EdgeArgs
from components.edge.spec import EdgeSpec

__all__ = ["Edge", "EdgeArgs", "EdgeSpec"]
