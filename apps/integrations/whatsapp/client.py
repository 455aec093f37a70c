"""WhatsApp Cloud API (Graph) client: media lookup and download, connection check.

Configured by settings.WHATSAPP_GRAPH_URL so tests point it at a local fake. Every call is a GET through
apps/core/http.py: the timeout and the retries (network errors and 5xx) come from there.
"""

import httpx
from django.conf import settings

from apps.core import http
from apps.integrations.errors import ChannelError, ChannelRejected, safe_message

MAX_MEDIA_BYTES = 100 * 1024 * 1024  # the Cloud API's largest media (documents)


def _get(url: str, token: str) -> httpx.Response:
    if not token:
        raise ChannelError("Токен доступа WhatsApp не задан.", code="token_missing")
    try:
        response = http.get(url, headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as error:
        raise ChannelError(f"Нет связи с WhatsApp Graph API: {safe_message(error, token)}") from None
    if response.status_code in (401, 403):
        raise ChannelRejected("WhatsApp отклонил токен доступа.", code="token_invalid", status_code=400)
    if response.status_code in (400, 404, 410):  # unknown or expired media: asking again cannot help
        raise ChannelRejected(f"WhatsApp Graph API ответил {response.status_code}.")
    if response.status_code >= 400:
        raise ChannelError(f"WhatsApp Graph API ответил {response.status_code}.")
    return response


def _graph(path: str) -> str:
    return f"{settings.WHATSAPP_GRAPH_URL.rstrip('/')}/{path}"


def media_info(token: str, media_id: str) -> dict:
    """GET /<media_id> → {"url", "mime_type", "file_size", ...}."""
    return _get(_graph(media_id), token).json()


def download_media(token: str, media_id: str) -> tuple[dict, bytes | None]:
    """The media's metadata and content (None when larger than the limit)."""
    info = media_info(token, media_id)
    if int(info.get("file_size") or 0) > MAX_MEDIA_BYTES:
        return info, None
    return info, _get(info["url"], token).content


def check_phone_number(token: str, phone_number_id: str) -> str:
    data = _get(_graph(phone_number_id), token).json()
    return data.get("verified_name") or data.get("display_phone_number") or ""
