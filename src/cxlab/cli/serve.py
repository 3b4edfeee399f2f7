"""``cxlab serve --models DIR``: the authenticated scoring API (FastAPI + uvicorn, extra ``serve``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cxlab.cli._common import err_console, fail, handle_errors

INSTALL = "pip install 'cxlab[serve]'"


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


@handle_errors
def serve(
    models: Annotated[Path, typer.Option("--models", "-m", help="Folder of model bundles (every bundle under it is loaded).")],
    host: Annotated[str, typer.Option(help="Address to listen on; 127.0.0.1 keeps it on this machine.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65_535, help="TCP port.")] = 8000,
    api_key_file: Annotated[Path | None, typer.Option("--api-key-file", dir_okay=False, help="File of API keys, one a line (also: CXLAB_API_KEYS=KEY1,KEY2).")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Serve predictions: /v1/satisfaction/predict, /v1/clv/predict, /v1/models, /healthz, /metrics.

    Every route but /healthz needs 'Authorization: Bearer KEY'. The OpenAPI
    document is at /openapi.json, browsable at /docs.
    """
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError:
        fail(f"'cxlab serve' needs FastAPI and uvicorn, which are not installed. Install them with: {INSTALL}", 1)
    from cxlab.service import Settings, create_app

    settings = Settings.from_env(models, api_key_file=api_key_file)
    app = create_app(settings)  # verifies every bundle before listening
    err_console.print(f"serving the models under {models} on http://{host}:{port} (docs at /docs)",
                      highlight=False, markup=False)
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    else:
        import os

        os.environ["CXLAB_SERVE_MODELS"] = str(models)
        if api_key_file is not None:
            os.environ["CXLAB_SERVE_KEY_FILE"] = str(api_key_file)
        uvicorn.run("cxlab.service.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                    log_level="warning", access_log=False)
