"""Hostile files, generated small: decompression bombs (DOCX, PDF), page-count bombs, YAML alias bombs."""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path

import docx

MIB = 1024 * 1024


def pdf(contents: list[bytes], *, pages: int = 1, compress: bool = False) -> bytes:
    """A hand-made PDF: ``pages`` pages that all show content stream(s) ``contents`` in Helvetica.

    Every page points at the same stream objects, so thousands of pages cost a few bytes each."""
    streams = [zlib.compress(c, 9) if compress else c for c in contents]
    font = 3 + len(streams)
    first_page = font + 1
    kids = b" ".join(b"%d 0 R" % (first_page + n) for n in range(pages))
    refs = b" ".join(b"%d 0 R" % (3 + n) for n in range(len(streams)))
    flate = b" /Filter /FlateDecode" if compress else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        *(b"<< /Length %d%s >>\nstream\n" % (len(s), flate) + s + b"\nendstream" for s in streams),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        *(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents [" + refs + b"]"
            b" /Resources << /Font << /F1 %d 0 R >> >> >>" % font
            for _ in range(pages)
        ),
    ]
    return pdf_file(objects)


def pdf_file(objects: list[bytes]) -> bytes:
    """PDF objects (the catalog first) as a file: numbered 1.., with their cross-reference table and trailer."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def text_stream(text: bytes) -> bytes:
    return b"BT /F1 12 Tf 72 720 Td (" + text + b") Tj ET"


def pdf_with_pages(pages: int) -> bytes:
    """A valid PDF of ``pages`` pages, each with a line of text (~60 bytes a page)."""
    return pdf([text_stream(b"Fresh beans every Tuesday.")], pages=pages)


def pdf_with_huge_stream(megabytes: int) -> bytes:
    """One page whose compressed content stream inflates to ``megabytes`` MiB of text (the file: ~100 KiB)."""
    return pdf([text_stream(b"A" * (megabytes * MIB))], compress=True)


def _docx_parts() -> dict[str, bytes]:
    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("Harbor Lane Coffee roasts beans by the harbor.")
    document.save(buffer)
    with zipfile.ZipFile(buffer) as package:
        return {name: package.read(name) for name in package.namelist()}


def docx_bomb(path: Path, megabytes: int) -> Path:
    """A DOCX whose word/document.xml inflates to ``megabytes`` MiB (mostly spaces): ~1/1000 of that on disk."""
    parts = _docx_parts()
    document = parts.pop("word/document.xml")
    head, tail = document.split(b"<w:body>", 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as package:
        for name, data in parts.items():
            package.writestr(name, data)
        with package.open("word/document.xml", "w", force_zip64=True) as xml:
            xml.write(head + b"<w:body>")
            chunk = b" " * MIB
            for _ in range(megabytes):
                xml.write(chunk)
            xml.write(tail)
    return path


def docx_with_entries(path: Path, entries: int) -> Path:
    """A valid DOCX padded with ``entries`` tiny extra parts (a zip of thousands of files)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in _docx_parts().items():
            package.writestr(name, data)
        for number in range(entries):
            package.writestr(f"padding/item{number}.xml", b"<x/>")
    return path


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    """The YAML alias bomb: ``width ** levels`` strings from a few hundred bytes."""
    lines = [f"a0: &a0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    lines.append(f"name: *a{levels}")
    return "\n".join(lines) + "\n"
