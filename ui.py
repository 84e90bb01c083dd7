"""Run the copywriters' UI alone: ``python ui.py`` (the local model starts on demand; 127.0.0.1, port from
GRADIO_SERVER_PORT). The UI itself is ``generator.ui``; ``cvj serve`` mounts it at /ui beside the API."""

from __future__ import annotations

from generator.runtime import components
from generator.ui import build_ui


def main() -> None:
    parts = components()
    with parts.service() as service:
        build_ui(lambda: service, examples_dir=parts.settings.examples_dir).queue().launch(server_name="127.0.0.1")


if __name__ == "__main__":
    main()
