"""The Business tab: pick an example, upload a YAML/JSON profile, or fill in a form; problems are shown beside the
field they are about; the business can be saved to the data dir and picked again later.

The form is declared once (:data:`FIELDS`): each field knows where it lives in the profile and how it is typed
(one line, a list one per line, a comma list, a price, ``name | price | description`` rows), so filling the form
from a profile, reading a profile from the form and placing a validation error are three small loops.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import gradio as gr
import yaml

from generator.errors import CVJError, ProfileError
from generator.files import write_text_atomic
from generator.profile import MAX_PROFILE_BYTES, BusinessProfile, load_yaml, profile_from_data, read_text_file
from generator.ui_common import Studio, friendly

Kind = Literal["text", "long", "lines", "csv", "price", "upsells", "testimonials"]
Location = tuple[str, ...]


@dataclass(frozen=True)
class FormField:
    """One input of the form: where its value lives in the profile, how it is typed, and a line of help."""

    path: Location
    label: str
    kind: Kind = "text"
    help: str = ""


def _offer(key: str, label: str, help: str) -> list[FormField]:
    return [
        FormField(("offers", key, "name"), f"{label}: name", help=help),
        FormField(("offers", key, "price"), f"{label}: price", "price", "In the currency above; 0 means free."),
        FormField(("offers", key, "description"), f"{label}: what it is", "long"),
    ]


SECTIONS: list[tuple[str, list[FormField]]] = [
    ("The business", [
        FormField(("name",), "Name", help="As customers know it."),
        FormField(("what_it_sells",), "What it sells", "long"),
        FormField(("market",), "Market", help="Where and to whom, e.g. 'Local: Portland, OR' or 'Global B2B'."),
        FormField(("language",), "Language", help="The copy's language, a BCP 47 tag: en, es, de, pt-BR (empty: en)."),
        FormField(("website",), "Website"),
        FormField(("channels",), "Channels", "csv", "Comma-separated: instagram, facebook, email, blog..."),
        FormField(("id",), "Id (optional)", help="A stable id for its documents in the index; default: from the name."),
    ]),
    ("Audience", [
        FormField(("audience", "who"), "Who they are", "long"),
        FormField(("audience", "pains"), "Pains", "lines", "One per line."),
        FormField(("audience", "desires"), "Desires", "lines", "One per line."),
        FormField(("audience", "objections"), "Objections", "lines", "One per line."),
    ]),
    ("Offers ladder", [
        FormField(("offers", "currency"), "Currency", help="Three letters, e.g. USD, EUR, GBP."),
        *_offer("lead_magnet", "Lead magnet", "Free: what people get for their email (optional)."),
        *_offer("entry_offer", "Entry offer", "A small first purchase, priced below the core offer (optional)."),
        *_offer("core_offer", "Core offer", "What the business mainly sells (required)."),
        FormField(("offers", "upsells"), "Upsells", "upsells", "One per line: name | price | what it is."),
    ]),
    ("Voice, proof and limits", [
        FormField(("brand_voice", "tone"), "Tone of voice"),
        FormField(("brand_voice", "words_to_use"), "Words to use", "csv", "Comma-separated."),
        FormField(("brand_voice", "words_to_avoid"), "Words to avoid", "csv", "Comma-separated; never in a draft."),
        FormField(("proof", "testimonials"), "Testimonials", "testimonials", "One per line: quote | who said it."),
        FormField(("proof", "numbers"), "Proof in numbers", "lines", "One per line: '4.9 stars, 640 reviews'."),
        FormField(("compliance", "never_claim"), "Never claim", "lines", "One per line: claims drafts must not make."),
    ]),
]  # fmt: skip
FIELDS: list[FormField] = [f for _, fields in SECTIONS for f in fields]
# Errors about a whole object go beside the field that usually fixes them.
_OWNER: dict[Location, Location] = {
    ("offers",): ("offers", "entry_offer", "price"),  # the ladder: an entry offer priced at or above the core offer
    ("offers", "lead_magnet"): ("offers", "lead_magnet", "name"),
    ("offers", "entry_offer"): ("offers", "entry_offer", "name"),
    ("offers", "core_offer"): ("offers", "core_offer", "name"),
    ("audience",): ("audience", "who"),
}


def _split(text: str, sep: str) -> list[str]:
    return [part.strip() for part in (text or "").split(sep) if part.strip()]


def _price(text: str) -> float | str:
    try:
        return float(text.replace(",", "").strip())
    except ValueError:
        return text  # left as typed: the profile's own check says what is wrong, beside this field


def _rows(text: str, names: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = []
    for line in _split(text, "\n"):
        parts = [p.strip() for p in line.split("|")]
        row: dict[str, Any] = {k: v for k, v in zip(names, parts, strict=False) if v}
        if "price" in row:
            row["price"] = _price(str(row["price"]))
        rows.append(row)
    return rows


def _read(field: FormField, text: str) -> Any:
    """The value a form input stands for (None: left empty)."""
    text = (text or "").strip()
    if not text:
        return None
    if field.kind in ("text", "long"):
        return text
    if field.kind in ("lines", "csv"):
        return _split(text, "\n" if field.kind == "lines" else ",")
    if field.kind == "price":
        return _price(text)
    return _rows(text, ("name", "price", "description") if field.kind == "upsells" else ("quote", "author"))


def _shown(field: FormField, value: Any) -> str:
    """A profile's value as the form shows it."""
    if value is None:
        return ""
    if field.kind == "price":
        return f"{value:g}" if isinstance(value, int | float) else str(value)
    if field.kind in ("upsells", "testimonials"):
        names = ("name", "price", "description") if field.kind == "upsells" else ("quote", "author")
        rows = [row if isinstance(row, dict) else {names[0]: row} for row in value]
        price = FormField((), "", "price")
        cells = [[_shown(price, r.get(n)) if n == "price" else str(r.get(n) or "") for n in names] for r in rows]
        return "\n".join(" | ".join(row).rstrip(" |") for row in cells)
    if isinstance(value, list):
        return (", " if field.kind == "csv" else "\n").join(str(v) for v in value)
    return str(value)


UNSHOWN = ("id", "voice")  # kept in the profile, not in the form: a learned voice is not lost by editing the form


def with_unshown(data: dict[str, Any], current: str) -> dict[str, Any]:
    """The form's profile plus what the form does not show, from the business in use."""
    try:
        kept = yaml.safe_load(current) if current else None
    except yaml.YAMLError:
        return data
    extra = {key: kept[key] for key in UNSHOWN if isinstance(kept, dict) and kept.get(key) is not None}
    return {**data, **extra}


def form_to_data(values: list[str]) -> dict[str, Any]:
    """The profile the form describes (empty inputs left out, so defaults and 'Field required' apply)."""
    data: dict[str, Any] = {}
    for field, text in zip(FIELDS, values, strict=True):
        value = _read(field, text)
        if value is None:
            continue
        node = data
        for key in field.path[:-1]:
            node = node.setdefault(key, {})
        node[field.path[-1]] = value
    return data


def data_to_form(data: dict[str, Any]) -> list[str]:
    """What each form input shows for this (parsed, maybe invalid) profile."""
    values = []
    for field in FIELDS:
        node: Any = data
        for key in field.path:
            node = node.get(key) if isinstance(node, dict) else None
        values.append(_shown(field, node))
    return values


def field_errors(details: object) -> tuple[dict[Location, list[str]], list[str]]:
    """The validation errors by the form field they are about, and those no field owns (shown in the status)."""
    paths = {f.path for f in FIELDS}
    placed: dict[Location, list[str]] = {}
    loose: list[str] = []
    for error in details if isinstance(details, list) else []:
        loc = tuple(str(p) for p in error.get("loc", []) if not str(p).startswith("function-"))
        msg = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        owner = next((loc[:n] for n in range(len(loc), 0, -1) if loc[:n] in paths), None) or _OWNER.get(loc)
        if owner is None:
            loose.append(f"{'.'.join(loc) or 'profile'}: {msg}")
            continue
        rest = " ".join(f"line {int(p) + 1}" if p.isdigit() else p.replace("_", " ") for p in loc[len(owner) :])
        placed.setdefault(owner, []).append(f"{rest}: {msg}" if rest else msg)
    return placed, loose


def profile_yaml(profile: BusinessProfile) -> str:
    return yaml.safe_dump(profile.model_dump(mode="json", exclude_none=True), sort_keys=False, allow_unicode=True)


def header(profile: BusinessProfile | None) -> str:
    if profile is None:
        return "**No business chosen yet.** Start on the Business tab."
    return f"**Business in use:** {profile.name} · `{profile.key}`"


@dataclass(frozen=True)
class Checked:
    """The outcome of checking a profile: the updates for the page, and the profile if it is valid."""

    profile: BusinessProfile | None
    updates: list[Any]  # state, header, status, yaml view, then one per form field


def check(data: dict[str, Any], fill: bool, *, keep: str = "", saved: Path | None = None) -> Checked:
    """Validate ``data``; every field gets its help back or its problems; the business is used only when valid."""
    values = data_to_form(data) if fill else None
    try:
        profile: BusinessProfile | None = profile_from_data(data, source="The profile")
        placed: dict[Location, list[str]] = {}
        loose: list[str] = []
    except ProfileError as exc:
        profile = None
        placed, loose = field_errors(exc.details)
        loose = loose or ([] if placed else [exc.message])
    fields = []
    for n, field in enumerate(FIELDS):
        problems = placed.get(field.path)
        info = "⚠ " + "; ".join(problems) if problems else field.help or None
        fields.append(gr.update(info=info, value=values[n]) if values is not None else gr.update(info=info))
    opened = [gr.update(open=True) if any(f.path in placed for f in group) else gr.update() for _, group in SECTIONS]
    if profile is None:
        labels = {f.path: f.label for f in FIELDS}
        lines = [f"{labels[path]}: {problem}" for path, problems in placed.items() for problem in problems] + loose
        count = len(lines)
        status = f"⚠ **{count} problem(s) to fix** (each is marked beside its field too):\n" + "".join(
            f"\n- {line}" for line in lines
        )
        return Checked(None, [keep, gr.update(), status, gr.update(), *fields, *opened])
    status = f"✓ **{profile.name}** is ready: the Draft, Knowledge and Journey tabs use it."
    if saved is not None:
        status += f" Saved to `{saved}`."
    return Checked(profile, [profile_yaml(profile), header(profile), status, profile_yaml(profile), *fields, *opened])


def saved_choices(studio: Studio) -> list[tuple[str, str]]:
    """The picker's entries: the examples, then the businesses saved in the data dir."""
    choices = [(f"Example: {name}", f"example:{name}") for name in studio.examples()]
    for path in sorted(studio.folder("businesses").glob("*.yaml")):
        choices.append((f"Saved: {path.stem}", f"saved:{path.stem}"))
    return choices


def read_profile_data(text: str, source: str) -> dict[str, Any]:
    """Parsed YAML or JSON (JSON is YAML), as a mapping of fields, or a readable error."""
    data = load_yaml(text, source=source)
    if not isinstance(data, dict):
        raise ProfileError(
            f"{source} must be a mapping of fields (name, what_it_sells, ...), not {type(data).__name__}."
        )
    return data


def build_business_tab(studio: Studio, state: gr.State, banner: gr.Markdown, data: dict[str, Any]) -> gr.Dropdown:
    """The tab's layout and events, the form filled with ``data``; returns the picker (the page adds the saved
    businesses to it on load)."""
    first = next(iter(studio.examples()), None)
    gr.Markdown("Pick an example, upload a profile (YAML or JSON), or fill in the form, then **Use this business**.")
    with gr.Row():
        choices = [(f"Example: {n}", f"example:{n}") for n in studio.examples()]
        value = f"example:{first}" if first else None
        picker = gr.Dropdown(choices, value=value, label="Start from", elem_id="business-picker", scale=2)
        upload = gr.File(label="Upload a profile", file_types=[".yaml", ".yml", ".json"], height=120, scale=1)
    inputs: list[gr.Textbox] = []
    sections: list[gr.Accordion] = []
    shown = iter(data_to_form(data))
    for title, fields in SECTIONS:
        with gr.Accordion(title, open=title == "The business") as section, gr.Row(equal_height=False):
            sections.append(section)
            for field in fields:
                lines = 3 if field.kind in ("long", "lines", "upsells", "testimonials") else 1
                inputs.append(gr.Textbox(next(shown), label=field.label, info=field.help or None, lines=lines,
                                         min_width=240, elem_id="field-" + "-".join(field.path)))  # fmt: skip
    with gr.Row():
        use = gr.Button("Use this business", variant="primary", elem_id="business-use")
        save = gr.Button("Save it", elem_id="business-save")
    status = gr.Markdown(elem_id="business-status")
    with gr.Accordion("The profile as YAML (edit or paste one, then use it)", open=False):
        code = gr.Code(state.value, language="yaml", interactive=True, label="Profile (YAML)")
        use_yaml = gr.Button("Use this YAML")
    outputs = [state, banner, status, code, *inputs, *sections]
    unchanged = [gr.update()] * (len(FIELDS) + len(SECTIONS))

    @friendly
    def on_pick(choice: str | None, current: str) -> list[Any]:
        kind, _, name = (choice or "").partition(":")
        folder = studio.examples_dir if kind == "example" else studio.folder("businesses")
        path = folder / f"{name}.yaml"
        if kind not in ("example", "saved") or not path.is_file():
            return [current, gr.update(), "Pick a business from the list.", gr.update(), *unchanged]
        text = read_text_file(path, limit=MAX_PROFILE_BYTES, what="profile")
        return check(read_profile_data(text, path.name), True, keep=current).updates

    @friendly
    def on_upload(path: str | None, current: str) -> list[Any]:
        if not path:
            return [current, gr.update(), "", gr.update(), *unchanged]
        text = read_text_file(Path(path), limit=MAX_PROFILE_BYTES, what="profile")
        return check(read_profile_data(text, Path(path).name), True, keep=current).updates

    @friendly
    def on_use(current: str, *values: str) -> list[Any]:
        return check(with_unshown(form_to_data(list(values)), current), False, keep=current).updates

    @friendly
    def on_save(current: str, *values: str) -> list[Any]:
        data = with_unshown(form_to_data(list(values)), current)
        checked = check(data, False, keep=current)
        if checked.profile is None:
            return [*checked.updates, gr.update()]
        path = studio.folder("businesses") / f"{checked.profile.key}.yaml"
        write_text_atomic(path, profile_yaml(checked.profile))
        updates = check(data, False, keep=current, saved=path).updates
        return [*updates, gr.update(choices=saved_choices(studio), value=f"saved:{checked.profile.key}")]

    @friendly
    def on_yaml(text: str, current: str) -> list[Any]:
        try:
            data = read_profile_data(text or "", "The YAML")
        except CVJError as exc:
            return [current, gr.update(), f"⚠ {exc.message}", gr.update(), *unchanged]
        return check(data, True, keep=current).updates

    picker.input(on_pick, [picker, state], outputs, api_visibility="private")
    upload.upload(on_upload, [upload, state], outputs, api_visibility="private")
    use.click(on_use, [state, *inputs], outputs, api_visibility="private")
    save.click(on_save, [state, *inputs], [*outputs, picker], api_visibility="private")
    use_yaml.click(on_yaml, [code, state], outputs, api_visibility="private")
    return picker


def first_business(studio: Studio) -> tuple[BusinessProfile | None, dict[str, Any]]:
    """The business the page opens with: the first example (None and no data if there are none or it is broken)."""
    for path in studio.examples().values():
        try:
            data = read_profile_data(read_text_file(path, limit=MAX_PROFILE_BYTES, what="profile"), path.name)
            return profile_from_data(data, source=path.name), data
        except CVJError:
            return None, {}
    return None, {}
