from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from core.config import Settings
from tests.notifications.servers import ChatApi, MailSink, start_http, start_smtp


@pytest.fixture
async def smtp() -> AsyncIterator[tuple[int, MailSink]]:
    server, port, sink = await start_smtp()
    yield port, sink
    server.close()
    await server.wait_closed()


@pytest.fixture
async def chat_api() -> AsyncIterator[tuple[ChatApi, str]]:
    api = ChatApi()
    runner, base = await start_http(api)
    yield api, base
    await runner.cleanup()


@pytest.fixture
def settings(smtp: tuple[int, MailSink], chat_api: tuple[ChatApi, str]) -> Settings:
    api, base = chat_api
    return Settings(
        smtp_host="127.0.0.1",
        smtp_port=smtp[0],
        smtp_security="none",
        smtp_from="BlockbotX <alerts@blockbotx.test>",
        telegram_bot_token=SecretStr(api.token),
        telegram_api_url=base,
        notification_timeout=5,
    )
