import io

from django.core.files.storage import default_storage
from pypdf import PdfReader


def pdf_text(document) -> str:
    with default_storage.open(document.file.name, "rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return "\n".join(page.extract_text() for page in reader.pages)


def pdf_bytes_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def normalise(text: str) -> str:
    """pypdf keeps no-break spaces and may split lines: compare on single ordinary spaces."""
    return " ".join(text.replace("\u00a0", " ").split())


def pdf_font_names(data: bytes) -> set[str]:
    """Base font names of the embedded fonts (those with a font file in their descriptor)."""
    names = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for font in fonts.values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target.get("/FontDescriptor")
            if descriptor is not None and any(k in descriptor.get_object() for k in ("/FontFile", "/FontFile2",
                                                                                       "/FontFile3")):
                names.add(str(font["/BaseFont"]).split("+", 1)[-1])
    return names
