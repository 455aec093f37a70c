"""The Telegram Bot API client: python-telegram-bot pointed at settings.TELEGRAM_API_BASE_URL.

PTB is asynchronous. Two ways in, and no event-loop thread in the web process:
- the job worker (an asyncio program) awaits `send_message_async`, with one Bot and its pooled
  HTTP connections per token kept for the life of the worker's loop (~2 ms per reply instead of
  ~50-250 ms for a fresh client);
- rare synchronous callers (activating a bot in the admin, `telegram_poll`, media jobs running in
  a worker thread) use the plain functions, each running its call on a short `asyncio.run`.
Every call has timeouts; errors become ChannelError with a Russian message that never carries
the token. RateLimited and ChannelRejected tell a job whether and when a retry can help.
"""

import asyncio
import contextlib
import hashlib
import logging
import warnings
from collections import OrderedDict

import httpx
from django.conf import settings
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from apps.integrations.errors import ChannelError, ChannelRejected, DeliveryUnknown, RateLimited, safe_message

# PTB logs the Bot API URL — which contains the token — at DEBUG. Never let that reach a handler.
logging.getLogger("telegram").setLevel(logging.INFO)

MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # the Bot API's own limit for getFile
MAX_CACHED_BOTS = 32
LONG_POLL_MAX = 50
# Messages, and presses of our inline buttons (the consent button).
ALLOWED_UPDATES = ["message", "callback_query"]


class FileTooBig(ChannelError):
    default_code = "file_too_big"


# httpx errors raised before the request left this machine: nothing reached Telegram.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _timeout() -> float:
    return float(settings.HTTP_TIMEOUT_SECONDS)


def _new_bot(token: str, *, pool_size: int = 16) -> tuple[Bot, tuple[HTTPXRequest, ...]]:
    """A Bot and its two HTTP clients (kept to close them: Bot.shutdown() skips never-initialised ones)."""
    base = settings.TELEGRAM_API_BASE_URL.rstrip("/")
    timeout = _timeout()
    request = HTTPXRequest(
        connection_pool_size=pool_size,
        connect_timeout=timeout,
        read_timeout=timeout,
        write_timeout=timeout,
        pool_timeout=timeout,
    )
    updates_request = HTTPXRequest(
        connect_timeout=timeout, read_timeout=timeout + LONG_POLL_MAX, write_timeout=timeout, pool_timeout=timeout
    )
    bot = Bot(
        token,
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=request,
        get_updates_request=updates_request,
    )
    return bot, (request, updates_request)


async def _close(requests: tuple[HTTPXRequest, ...]) -> None:
    for request in requests:
        with contextlib.suppress(Exception):  # closing a pooled client is best effort
            await request.shutdown()


@contextlib.contextmanager
def _translated(token: str):
    """Telegram's exceptions → ChannelError subclasses (message without the token)."""
    try:
        yield
    except ChannelError:
        raise
    except RetryAfter as error:
        with warnings.catch_warnings():  # PTB 22 warns that retry_after becomes a timedelta one day
            warnings.simplefilter("ignore")
            seconds = error.retry_after
        seconds = seconds.total_seconds() if hasattr(seconds, "total_seconds") else float(seconds)
        raise RateLimited("Telegram просит подождать перед следующей отправкой.", retry_after=seconds) from None
    except InvalidToken:
        raise ChannelRejected("Telegram отклонил токен бота.", code="token_invalid", status_code=400) from None
    except Forbidden as error:
        raise ChannelRejected(f"Telegram: {safe_message(error, token)}", code="forbidden") from None
    except BadRequest as error:
        if "too big" in str(error).lower():
            raise FileTooBig("Файл больше 20 МБ: Telegram не отдаёт его боту.") from None
        raise ChannelRejected(f"Telegram: {safe_message(error, token)}") from None
    except TelegramError as error:
        cause = error.__cause__
        if isinstance(cause, httpx.HTTPError) and not isinstance(cause, _NOT_SENT):
            # The request may have reached Telegram (read timeout, connection reset after sending).
            raise DeliveryUnknown(f"Telegram не ответил: {safe_message(error, token)}") from None
        # Not connected, or Telegram answered 5xx: nothing was delivered, a retry is safe.
        raise ChannelError(f"Нет связи с Telegram: {safe_message(error, token)}") from None


def _run(token: str, call, *, read_timeout: float | None = None):
    """Await call(bot) on a short-lived loop of this thread (web requests, commands, sync jobs)."""
    if not token:
        raise ChannelError("Токен бота не задан.", code="token_missing")

    async def main():
        bot, requests = _new_bot(token, pool_size=1)
        try:
            return await asyncio.wait_for(call(bot), (read_timeout or _timeout()) + _timeout())
        finally:
            await _close(requests)

    with _translated(token):
        try:
            return asyncio.run(main())
        except TimeoutError:
            raise ChannelError("Telegram не ответил вовремя.", code="timeout") from None


def get_me(token: str) -> dict:
    async def call(bot):
        return (await bot.get_me()).to_dict()

    return _run(token, call)


def set_webhook(token: str, url: str, secret_token: str) -> None:
    async def call(bot):
        await bot.set_webhook(url=url, secret_token=secret_token, allowed_updates=ALLOWED_UPDATES)

    _run(token, call)


def delete_webhook(token: str) -> None:
    async def call(bot):
        await bot.delete_webhook()

    _run(token, call)


def get_updates(token: str, *, offset: int, timeout: int = 0, limit: int = 100) -> list[dict]:
    async def call(bot):
        updates = await bot.get_updates(
            offset=offset, timeout=timeout, limit=limit, allowed_updates=ALLOWED_UPDATES,
            read_timeout=timeout + _timeout(),
        )
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


def send_message(token: str, chat_id: int | str, text: str) -> int:
    async def call(bot):
        return (await bot.send_message(chat_id=chat_id, text=text)).message_id

    return _run(token, call)


# --- The worker's side: Bots kept for the life of its event loop ----------------------------------


class _BotPool:
    """A few Bot objects (one per token and API URL) bound to the running loop; a new loop (tests
    run several workers one after another) starts a new pool."""

    def __init__(self):
        self._loop: asyncio.AbstractEventLoop | None = None
        self._bots: OrderedDict[str, tuple[Bot, tuple[HTTPXRequest, ...]]] = OrderedDict()

    async def get(self, token: str) -> Bot:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop, self._bots = loop, OrderedDict()
        key = hashlib.sha256(f"{settings.TELEGRAM_API_BASE_URL}\n{token}\n{_timeout()}".encode()).hexdigest()
        cached = self._bots.get(key)
        if cached is None:
            cached = self._bots[key] = _new_bot(token)
            while len(self._bots) > MAX_CACHED_BOTS:
                await _close(self._bots.popitem(last=False)[1][1])
        self._bots.move_to_end(key)
        return cached[0]


_pool = _BotPool()


def _keyboard(buttons: list[dict] | None):
    """Channel-neutral buttons [{"text", "data"}] → an inline keyboard, one button per row."""
    if not buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b["text"], callback_data=b["data"])] for b in buttons])


async def send_message_async(token: str, chat_id: int | str, text: str, *, buttons: list[dict] | None = None) -> int:
    """sendMessage from async code (the worker); returns Telegram's message_id."""
    if not token:
        raise ChannelRejected("Токен бота не задан.", code="token_missing")
    bot = await _pool.get(token)
    with _translated(token):
        return (await bot.send_message(chat_id=chat_id, text=text, reply_markup=_keyboard(buttons))).message_id


async def send_document_async(token: str, chat_id: int | str, content: bytes, filename: str) -> int:
    """sendDocument (multipart upload, up to 50 MB for bots); returns Telegram's message_id."""
    if not token:
        raise ChannelRejected("Токен бота не задан.", code="token_missing")
    bot = await _pool.get(token)
    with _translated(token):
        return (await bot.send_document(chat_id=chat_id, document=content, filename=filename)).message_id


def answer_callback_query(token: str, callback_query_id: str, text: str) -> None:
    """Stop the button's spinner in the customer's app and show `text` (best effort)."""

    async def call(bot):
        await bot.answer_callback_query(callback_query_id, text=text)

    _run(token, call)
