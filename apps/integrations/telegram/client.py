"""The Telegram Bot API client: python-telegram-bot pointed at settings.TELEGRAM_API_BASE_URL.

PTB is asynchronous; each call here runs it to completion with asyncio.run, so sync Django views
and commands can use it. Every call has timeouts; errors become ChannelError with a Russian
message that never carries the token.
"""

import asyncio
import logging

from django.conf import settings
from telegram import Bot
from telegram.error import BadRequest, InvalidToken, TelegramError
from telegram.request import HTTPXRequest

from apps.integrations.errors import ChannelError, safe_message

# PTB logs the Bot API URL — which contains the token — at DEBUG. Never let that reach a handler.
logging.getLogger("telegram").setLevel(logging.INFO)

MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # the Bot API's own limit for getFile


class FileTooBig(ChannelError):
    default_code = "file_too_big"


def _timeout() -> float:
    return float(settings.HTTP_TIMEOUT_SECONDS)


def _run(token: str, call, *, read_timeout: float | None = None):
    """Build a Bot for `token`, await call(bot), close the HTTP clients."""

    async def main():
        timeout = _timeout()
        request = HTTPXRequest(
            connect_timeout=timeout, read_timeout=read_timeout or timeout, write_timeout=timeout, pool_timeout=timeout
        )
        base = settings.TELEGRAM_API_BASE_URL.rstrip("/")
        bot = Bot(
            token,
            base_url=f"{base}/bot",
            base_file_url=f"{base}/file/bot",
            request=request,
            get_updates_request=request,
        )
        try:
            return await call(bot)
        finally:
            await request.shutdown()

    if not token:
        raise ChannelError("Токен бота не задан.", code="token_missing")
    try:
        return asyncio.run(main())
    except InvalidToken:
        raise ChannelError("Telegram отклонил токен бота.", code="token_invalid", status_code=400) from None
    except BadRequest as error:
        if "too big" in str(error).lower():
            raise FileTooBig("Файл больше 20 МБ: Telegram не отдаёт его боту.") from None
        raise ChannelError(f"Telegram: {safe_message(error, token)}") from None
    except TelegramError as error:
        raise ChannelError(f"Нет связи с Telegram: {safe_message(error, token)}") from None


def get_me(token: str) -> dict:
    async def call(bot):
        return (await bot.get_me()).to_dict()

    return _run(token, call)


def set_webhook(token: str, url: str, secret_token: str) -> None:
    async def call(bot):
        await bot.set_webhook(url=url, secret_token=secret_token, allowed_updates=["message"])

    _run(token, call)


def delete_webhook(token: str) -> None:
    async def call(bot):
        await bot.delete_webhook()

    _run(token, call)


def get_updates(token: str, *, offset: int, timeout: int = 0, limit: int = 100) -> list[dict]:
    async def call(bot):
        updates = await bot.get_updates(offset=offset, timeout=timeout, limit=limit, allowed_updates=["message"])
        return [update.to_dict() for update in updates]

    return _run(token, call, read_timeout=timeout + _timeout())


def download_file(token: str, file_id: str) -> bytes:
    """getFile + download; raises FileTooBig for files over 20 MB."""

    async def call(bot):
        file = await bot.get_file(file_id)
        if file.file_size and file.file_size > MAX_DOWNLOAD_BYTES:
            raise FileTooBig("Файл больше 20 МБ: Telegram не отдаёт его боту.")
        return bytes(await file.download_as_bytearray())

    return _run(token, call)


def send_message(token: str, chat_id: int | str, text: str) -> None:
    async def call(bot):
        await bot.send_message(chat_id=chat_id, text=text)

    _run(token, call)
