"""``cvj stages``, ``cvj doctor``, ``cvj serve`` and ``cvj llm ...``: the stages, the set-up, the servers."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from generator import local_llm
from generator.assets import asset_types_for
from generator.cli.common import JsonOpt, app, err, friendly_errors, llm_app, out
from generator.embeddings import ensure_minilm_files
from generator.llm import check_completion
from generator.runtime import components
from generator.server_lease import lease_holders
from generator.settings import EmbeddingsProvider, Provider
from generator.stages import load_stages
from generator.tokens import ENCODING, count_tokens, ensure_tiktoken_cache


@app.command()
def stages() -> None:
    """List the eight stages, what each is for, and their asset types."""
    table = Table("stage", "purpose", "asset types", show_lines=True)
    for s in load_stages():
        table.add_row(s.id, s.purpose, "\n".join(a.asset_type for a in asset_types_for(s.id)))
    out.print(table)


@app.command()
@friendly_errors
def doctor() -> None:
    """Check the configuration, prepare the offline stack, and ask the chat model for one real completion."""
    settings = components().settings
    checks: list[tuple[str, str]] = []
    ensure_tiktoken_cache()
    checks.append(("tokens", f"tiktoken {ENCODING}: {count_tokens('ready')} token(s) for 'ready'"))
    if settings.embeddings is EmbeddingsProvider.LOCAL:
        checks.append(("embeddings", f"MiniLM ONNX files in {ensure_minilm_files(settings.models_dir)}"))
    else:
        checks.append(("embeddings", f"OpenAI {settings.embedding_model}"))
    provider = settings.resolved_provider
    if provider is Provider.LOCAL:
        checks.append(("llama.cpp", local_llm.build_info()))
        where = f"local llama.cpp server with {local_llm.gguf_path(settings).name}"
    else:
        where = f"{provider.value}:{settings.resolved_model} at {settings.base_url or 'api.openai.com'}"
    with err.status("Asking the chat model for a test completion..."):
        checks.append(("chat model", f"{where}: {check_completion(settings)}"))
    for name, detail in checks:
        err.print(f"[green]ok[/] {name:<11} {detail}", highlight=False)


LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}  # only this machine can reach the API there


@app.command()
@friendly_errors
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    ui: Annotated[bool, typer.Option("--ui/--no-ui", help="Mount the Gradio UI at /ui.")] = True,
) -> None:
    """Run the HTTP API (docs at /docs) with the Gradio UI mounted at /ui. CVJ_API_KEYS (or CVJ_API_KEYS_FILE) turns
    on API keys, each with its own workspace; kit jobs left unfinished by a stopped server resume on start."""
    import uvicorn

    from generator.api import create_app
    from generator.workspaces import api_keys

    parts = components()  # fails early and readably on bad configuration
    keys = api_keys(parts.settings)
    err.print(f"CVJ Kit API on http://{host}:{port} (docs /docs{', UI /ui' if ui else ''})", markup=False)
    if keys:
        workspaces = len({key.workspace for key in keys})
        err.print(f"API keys: {len(keys)} configured ({workspaces} workspace(s)); requests need "
                  "'Authorization: Bearer <key>'.", markup=False)  # fmt: skip
    elif host not in LOOPBACK_HOSTS:
        err.print(
            f"Warning: no API keys are set (CVJ_API_KEYS), so anyone who can reach {host}:{port} can use the API, "
            "the UI and the model. Set CVJ_API_KEYS, or bind to 127.0.0.1.",
            markup=False,
            style="yellow",
        )
    uvicorn.run(create_app(parts, mount_ui=ui), host=host, port=port, log_level="info")


@llm_app.command("start")
@friendly_errors
def llm_start() -> None:
    """Start the local server (or keep the running one); it keeps running for later commands until `cvj llm stop`."""
    with err.status("Starting the local model server..."):
        state, started = local_llm.start(components().settings)
    verb = "Started" if started else "Already running:"
    err.print(f"{verb} {Path(state.model_path).name} at {state.base_url} (pid {state.pid}); `cvj llm stop` stops it.")


@llm_app.command("stop")
@friendly_errors
def llm_stop() -> None:
    """Stop the local server; one that commands are using stops when the last of them finishes."""
    outcome = local_llm.stop(components().settings)
    if outcome.users:
        pids = ", ".join(map(str, outcome.users))
        err.print(
            f"The local server is in use by {len(outcome.users)} command(s) (pid {pids}); "
            "it stops when the last of them finishes."
        )
    else:
        err.print("Stopped." if outcome.stopped else "No local server was running.")


@llm_app.command("status")
@friendly_errors
def llm_status(as_json: JsonOpt = False) -> None:
    """Show whether the local server is running, where, and which commands use it."""
    settings = components().settings
    state = local_llm.find_running(settings)
    users = lease_holders(settings.data_dir) if state else []
    if as_json:
        payload = {"running": bool(state), **(json.loads(state.model_dump_json()) if state else {})}
        sys.stdout.write(json.dumps({**payload, "users": users} if state else payload) + "\n")
    elif state:
        kept = "kept by `cvj llm start`" if state.owner == "command" else "started on demand"
        used = f"; in use by pid {', '.join(map(str, users))}" if users else ""
        out.print(f"Running {Path(state.model_path).name} at {state.base_url} (pid {state.pid}, {kept}{used})")
    else:
        out.print("Not running. The app starts it on demand; `cvj llm start` keeps one warm.")
