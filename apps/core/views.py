"""The download of a stored file the app decrypts and streams (links from presigned_download_url)."""

from django.core.files.storage import default_storage
from django.http import Http404
from django.views.decorators.http import require_GET

from apps.core.files import app_download_payload, streamed_download


@require_GET
def file_download(request, token: str):
    payload = app_download_payload(token)
    if payload is None:
        raise Http404("Ссылка на файл устарела или недействительна.")
    try:
        handle = default_storage.open(payload["k"], "rb")
    except FileNotFoundError:
        raise Http404("Файл не найден.") from None
    return streamed_download(handle, filename=payload["n"], content_type=payload["t"] or None)
