"""Run the copywriter's studio alone: ``python ui.py`` (the local model starts on demand; 127.0.0.1, port from
GRADIO_SERVER_PORT, default 7860). The studio itself is ``generator.ui`` (and its ``generator.ui_*`` modules);
``cvj serve`` mounts it at /ui beside the API."""

from __future__ import annotations

from generator.runtime import components
from generator.ui import build_ui


def main() -> None:
    """Open the service once (the index refreshed, the model running) and serve the studio until stopped."""
    parts = components()
    with parts.service() as service:
        build_ui(lambda: service, examples_dir=parts.settings.examples_dir).queue().launch(server_name="127.0.0.1")


if __name__ == "__main__":
    main()
