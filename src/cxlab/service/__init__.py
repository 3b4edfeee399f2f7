"""The scoring service behind ``cxlab serve`` (needs the ``serve`` extra: FastAPI, uvicorn).

Usage::

    from cxlab.service import Settings, create_app
    app = create_app(Settings.from_env(Path("models")))   # keys from CXLAB_API_KEYS
"""

from cxlab.service.app import create_app
from cxlab.service.settings import MAX_BODY_BYTES, MAX_ROWS, Settings, read_api_keys

__all__ = ["MAX_BODY_BYTES", "MAX_ROWS", "Settings", "create_app", "read_api_keys"]
