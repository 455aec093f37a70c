"""Reading an uploaded CSV: size and type checks, encoding and delimiter detection.

UTF-8 (with or without BOM) is tried first; otherwise Windows-1251. The delimiter is the one of
";", "," or tab that splits the header line into the most columns. Anything that is not a CSV
raises ImportFileError, which the API answers with 400.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings

from apps.clients.imports.columns import COLUMNS, REQUIRED, map_header
from apps.core.errors import BusinessError

DEFAULT_MAX_BYTES = 30 * 1024 * 1024
DELIMITERS = (";", ",", "\t")
_SNIFF_BYTES = 64 * 1024


class ImportFileError(BusinessError):
    default_code = "invalid_file"


def max_import_bytes() -> int:
    return int(getattr(settings, "CLIENT_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


@dataclass
class CsvSource:
    encoding: str
    delimiter: str
    headers: list[str]
    columns: dict[str, int]  # canonical name -> position
    unknown_columns: list[str]
    text: str

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line number in the file, cells) for each data row; blank rows skipped."""
        reader = csv.reader(io.StringIO(self.text), delimiter=self.delimiter)
        next(reader, None)
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            yield reader.line_num, cells


def read_upload(uploaded) -> bytes:
    """The bytes of an uploaded file, refusing empty and oversized ones before reading them."""
    if uploaded is None:
        raise ImportFileError("Приложите CSV-файл.", code="file_required", fields={"file": ["Обязательное поле."]})
    limit = max_import_bytes()
    size = getattr(uploaded, "size", None)
    if size is not None and size > limit:
        raise too_large_error(limit)
    data = uploaded.read(limit + 1)
    if len(data) > limit:
        raise too_large_error(limit)
    return data


def too_large_error(limit: int) -> ImportFileError:
    megabytes = limit // (1024 * 1024)
    return ImportFileError(
        f"Файл больше {megabytes} МБ. Разбейте его на части.", code="file_too_large",
        fields={"file": [f"Максимальный размер — {megabytes} МБ."]},
    )


def decode(data: bytes) -> tuple[str, str]:
    """-> (text, encoding name). Refuses empty and binary files."""
    if not data.strip():
        raise ImportFileError("Файл пустой.", code="empty_file", fields={"file": ["Файл пустой."]})
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise ImportFileError(
            "Это не CSV-файл (двоичные данные). Сохраните таблицу как CSV.", code="not_csv",
            fields={"file": ["Ожидается текстовый CSV-файл."]},
        )
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            raise _bad_encoding() from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1251")
    except UnicodeDecodeError:
        raise _bad_encoding() from None
    if _looks_binary(text):
        raise ImportFileError(
            "Это не CSV-файл. Сохраните таблицу как CSV (UTF-8 или Windows-1251).", code="not_csv",
            fields={"file": ["Ожидается текстовый CSV-файл."]},
        )
    return text, "windows-1251"


def _bad_encoding() -> ImportFileError:
    return ImportFileError(
        "Не удалось определить кодировку: сохраните файл в UTF-8 или Windows-1251.", code="bad_encoding",
        fields={"file": ["Кодировка должна быть UTF-8 или Windows-1251."]},
    )


def _looks_binary(text: str) -> bool:
    sample = text[:_SNIFF_BYTES]
    control = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t")
    return control > max(5, len(sample) // 100)


def _header_line(text: str) -> str:
    return text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""


def detect_delimiter(header_line: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ";"


def open_csv(data: bytes) -> CsvSource:
    text, encoding = decode(data)
    text = text.lstrip("\ufeff")
    delimiter = detect_delimiter(_header_line(text))
    try:
        headers = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    except csv.Error:
        headers = []
    columns, unknown, repeated = map_header(headers)
    missing = [name for name in REQUIRED if name not in columns]
    if missing or repeated:
        raise ImportFileError(
            _columns_message(missing, repeated), code="wrong_columns",
            fields={"file": [_columns_message(missing, repeated)]},
            expected_columns=[aliases[0] for aliases, _ in COLUMNS.values()],
            found_columns=[header.strip() for header in headers][:50],
        )
    return CsvSource(encoding, delimiter, headers, columns, unknown, text)


def _columns_message(missing: list[str], repeated: list[str]) -> str:
    parts = []
    if missing:
        names = ", ".join(COLUMNS[name][0][0] for name in missing)
        parts.append(f"Нет обязательных столбцов: {names}. Скачайте пример файла с описанием столбцов.")
    if repeated:
        names = ", ".join(COLUMNS[name][0][0] for name in repeated)
        parts.append(f"Столбцы указаны дважды: {names}.")
    return " ".join(parts)
