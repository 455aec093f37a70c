"""WhatsApp Cloud API (Graph) client: media lookup and download, connection check.

Configured by settings.WHATSAPP_GRAPH_URL so tests point it at a local fake. Every call is a GET through
apps/core/http.py: the timeout and the retries (network errors and 5xx) come from there.
"""

import httpx
from django.conf import settings

from apps.core import http
from apps.integrations.errors import ChannelError, ChannelRejected, DeliveryUnknown, RateLimited, safe_message

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


# --- Sending (the reply jobs) -----------------------------------------------------------------------
# A POST is sent once here (never through the GET retry policy): the job decides about retries,
# knowing whether the request can have reached WhatsApp.

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
WINDOW_CLOSED_CODES = {131047, 131026}  # re-engagement (24 hours passed), undeliverable
WINDOW_CLOSED = (
    "WhatsApp не принял ответ: с последнего сообщения клиента прошло больше 24 часов "
    "(отвечать можно только в течение 24 часов)."
)


def _post(path: str, token: str, *, json: dict | None = None, files=None, data=None, creates_message: bool) -> dict:
    if not token:
        raise ChannelRejected("Токен доступа WhatsApp не задан.", code="token_missing")
    try:
        with http.client() as session:
            response = session.post(
                _graph(path), headers={"Authorization": f"Bearer {token}"}, json=json, files=files, data=data
            )
    except httpx.HTTPError as error:
        detail = safe_message(error, token)
        if creates_message and not isinstance(error, _NOT_SENT):
            raise DeliveryUnknown(f"WhatsApp не ответил: {detail}") from None
        raise ChannelError(f"Нет связи с WhatsApp Graph API: {detail}") from None
    if response.status_code == 429:
        retry_after = float(response.headers.get("Retry-After") or 60)
        raise RateLimited("WhatsApp просит подождать перед следующей отправкой.", retry_after=retry_after)
    if response.status_code in (401, 403):
        raise ChannelRejected("WhatsApp отклонил токен доступа.", code="token_invalid", status_code=400)
    if response.status_code >= 500:
        raise ChannelError(f"WhatsApp Graph API ответил {response.status_code}.")
    if response.status_code >= 400:
        try:
            error = response.json().get("error") or {}
        except ValueError:
            error = {}
        if error.get("code") in WINDOW_CLOSED_CODES:
            raise ChannelRejected(WINDOW_CLOSED, code="window_closed")
        message = str(error.get("message") or "")[:200]
        raise ChannelRejected(f"WhatsApp Graph API ответил {response.status_code}: {message}".rstrip(": "))
    return response.json()


def _message(token: str, phone_number_id: str, to: str, body: dict) -> str:
    data = _post(f"{phone_number_id}/messages", token, creates_message=True,
                 json={"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, **body})
    return str(((data.get("messages") or [{}])[0]).get("id", ""))


def send_text(token: str, phone_number_id: str, to: str, text: str) -> str:
    """A text message (inside the 24-hour window); returns the wamid."""
    return _message(token, phone_number_id, to, {"type": "text", "text": {"body": text, "preview_url": True}})


def send_buttons(token: str, phone_number_id: str, to: str, text: str, buttons: list[dict]) -> str:
    """An interactive message with reply buttons (at most 3; body ≤ 1024, title ≤ 20 characters)."""
    action = {"buttons": [{"type": "reply", "reply": {"id": b["data"][:256], "title": b["text"][:20]}}
                          for b in buttons[:3]]}
    return _message(token, phone_number_id, to, {
        "type": "interactive", "interactive": {"type": "button", "body": {"text": text[:1024]}, "action": action}})


def upload_media(token: str, phone_number_id: str, content: bytes, content_type: str, filename: str) -> str:
    """POST /<phone_number_id>/media; returns the media id (uploading again is harmless)."""
    data = _post(f"{phone_number_id}/media", token, creates_message=False,
                 data={"messaging_product": "whatsapp", "type": content_type},
                 files={"file": (filename, content, content_type)})
    return str(data.get("id", ""))


def send_document(token: str, phone_number_id: str, to: str, media_id: str, filename: str) -> str:
    body = {"type": "document", "document": {"id": media_id, "filename": filename}}
    return _message(token, phone_number_id, to, body)
