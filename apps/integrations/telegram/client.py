"""The Telegram Bot API client: python-telegram-bot pointed at settings.TELEGRAM_API_BASE_URL.

PTB is asynchronous. Sync Django views and commands call it through one event loop per process,
running in a daemon thread, with one Bot (and its pooled HTTP connections) per token and API URL:
creating a loop and an HTTP client for every call cost ~50-250 ms, reusing them costs ~2 ms.
Every call has timeouts; errors become ChannelError with a Russian message that never carries
the token.
"""

import asyncio
import concurrent.futures
import hashlib
import logging
import os
import threading
from collections import OrderedDict

from django.conf import settings
from telegram import Bot
from telegram.error import BadRequest, InvalidToken, TelegramError
from telegram.request import HTTPXRequest

from apps.integrations.errors import ChannelError, safe_message

# PTB logs the Bot API URL — which contains the token — at DEBUG. Never let that reach a handler.
logging.getLogger("telegram").setLevel(logging.INFO)

MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # the Bot API's own limit for getFile
MAX_CACHED_BOTS = 32
LONG_POLL_MAX = 50


class FileTooBig(ChannelError):
    default_code = "file_too_big"


def _timeout() -> float:
    return float(settings.HTTP_TIMEOUT_SECONDS)


class _BotRunner:
    """One asyncio loop per process (re-created after fork) and a small cache of Bot objects."""

    def __init__(self):
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._bots: OrderedDict[str, tuple[Bot, tuple[HTTPXRequest, ...]]] = OrderedDict()

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._loop.run_forever, name="telegram-client", daemon=True)
                self._thread.start()
                self._pid = os.getpid()
                self._bots = OrderedDict()
            return self._loop

    async def _bot(self, token: str) -> Bot:
        base = settings.TELEGRAM_API_BASE_URL.rstrip("/")
        timeout = _timeout()
        key = hashlib.sha256(f"{base}\n{token}\n{timeout}".encode()).hexdigest()
        cached = self._bots.get(key)
        if cached is None:
            request = HTTPXRequest(
                connection_pool_size=16,
                connect_timeout=timeout,
                read_timeout=timeout,
                write_timeout=timeout,
                pool_timeout=timeout,
            )
            updates_request = HTTPXRequest(
                connect_timeout=timeout,
                read_timeout=timeout + LONG_POLL_MAX,
                write_timeout=timeout,
                pool_timeout=timeout,
            )
            bot = Bot(
                token,
                base_url=f"{base}/bot",
                base_file_url=f"{base}/file/bot",
                request=request,
                get_updates_request=updates_request,
            )
            cached = self._bots[key] = (bot, (request, updates_request))
            while len(self._bots) > MAX_CACHED_BOTS:
                _, (_, requests) = self._bots.popitem(last=False)
                await _close(requests)
        self._bots.move_to_end(key)
        return cached[0]

    def submit(self, token: str, call) -> concurrent.futures.Future:
        async def main():
            return await call(await self._bot(token))

        return asyncio.run_coroutine_threadsafe(main(), self._ensure_loop())

    def run(self, token: str, call, *, wait: float):
        future = self.submit(token, call)
        try:
            return future.result(wait)
        except TimeoutError:
            future.cancel()
            raise ChannelError("Telegram не ответил вовремя.", code="timeout") from None


async def _close(requests: tuple[HTTPXRequest, ...]) -> None:
    for request in requests:
        try:
            await request.shutdown()
        except Exception:  # noqa: BLE001, S110 — closing a pooled client is best effort
            pass


_runner = _BotRunner()


def _run(token: str, call, *, read_timeout: float | None = None):
    """Await call(bot) for `token` on the client loop; Telegram errors become ChannelError."""
    if not token:
        raise ChannelError("Токен бота не задан.", code="token_missing")
    try:
        return _runner.run(token, call, wait=(read_timeout or _timeout()) + _timeout())
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
        updates = await bot.get_updates(
            offset=offset, timeout=timeout, limit=limit, allowed_updates=["message"], read_timeout=timeout + _timeout()
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


def send_message(token: str, chat_id: int | str, text: str) -> None:
    async def call(bot):
        await bot.send_message(chat_id=chat_id, text=text)

    _run(token, call)


# --- Replies that do not hold the request ---------------------------------------------------------

logger = logging.getLogger("travelcrm.integrations.telegram")
_pending: set[concurrent.futures.Future] = set()
_pending_lock = threading.Lock()


def send_message_later(token: str, chat_id: int | str, text: str) -> concurrent.futures.Future:
    """Queue sendMessage on the client loop and return at once (the webhook does not wait for
    Telegram's round trip). A failure is logged, never raised: the lead is already saved."""

    async def call(bot):
        await bot.send_message(chat_id=chat_id, text=text)

    future = _runner.submit(token, call)
    with _pending_lock:
        _pending.add(future)
    future.add_done_callback(_reply_done)
    return future


def _reply_done(future: concurrent.futures.Future) -> None:
    with _pending_lock:
        _pending.discard(future)
    if future.cancelled():
        return
    error = future.exception()
    if error is not None:
        logger.warning("telegram reply failed", extra={"error_type": type(error).__name__})


def wait_for_replies(timeout: float = 10.0) -> None:
    """Block until queued replies are sent (tests, commands that exit right after)."""
    with _pending_lock:
        pending = list(_pending)
    if pending:
        concurrent.futures.wait(pending, timeout=timeout)
