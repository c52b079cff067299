"""A second web service beside the app: a frontend (Next.js or another Node server)."""

from components.frontend.spec import FRONTEND, FrontendSpec, frontend_env

__all__ = ["FRONTEND", "FrontendSpec", "frontend_env"]
