"""Provider settings (``signal_providers.config``), one pydantic model per provider type.

The webhook path and the key are not settings: the path is ``/signals/<provider id>`` and the key
lives in ``signal_providers.api_key`` (vault ciphertext). An ``api`` provider's endpoint is the
``url`` column.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, HttpUrl, StringConstraints, TypeAdapter, ValidationError

from core.errors import InvalidInput
from core.strategies.config import ConfigModel, describe_validation_error

ProviderType = Literal["webhook", "api", "telegram"]
PROVIDER_TYPES: tuple[str, ...] = ("webhook", "api", "telegram")
WEBHOOK_PATH = "/signals/"

HeaderName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,64}$")]


class WebhookConfig(ConfigModel):
    rate_limit_per_minute: int = Field(
        default=60, ge=1, le=6000, description="Signed requests accepted per minute (a burst)."
    )


class ApiConfig(ConfigModel):
    poll_interval_seconds: int = Field(
        default=60, ge=5, le=86400, description="Seconds between two polls when all is well."
    )
    auth_header: HeaderName = Field(
        default="Authorization", description="The request header that carries the key."
    )
    auth_scheme: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{0,32}$")] = Field(
        default="Bearer", description="Written before the key in that header ('' for none)."
    )
    timeout_seconds: float = Field(default=10, gt=0, le=120, description="Per request.")


class TelegramConfig(ConfigModel):
    chat_ids: list[int] = Field(
        min_length=1,
        max_length=50,
        description="Only messages from these chats count; anyone can message a bot.",
    )
    poll_interval_seconds: int = Field(default=10, ge=1, le=3600)
    api_url: HttpUrl | None = Field(
        default=None, description="The Bot API base URL (default: the telegram_api_url setting)."
    )
    timeout_seconds: float = Field(default=10, gt=0, le=120)


CONFIG_MODELS: dict[str, type[ConfigModel]] = {
    "webhook": WebhookConfig,
    "api": ApiConfig,
    "telegram": TelegramConfig,
}
_URL = TypeAdapter(HttpUrl)


def check_type(provider_type: object) -> str:
    if provider_type not in CONFIG_MODELS:
        raise InvalidInput(
            f"The provider type must be one of: {', '.join(PROVIDER_TYPES)}.", field="type"
        )
    return str(provider_type)


def validate_config(provider_type: str, config: object) -> ConfigModel:
    model = CONFIG_MODELS[check_type(provider_type)]
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise InvalidInput("The provider settings must be a JSON object.", field="config")
    try:
        return model.model_validate(config)
    except ValidationError as exc:
        raise describe_validation_error(exc, "config") from None


def stored_config(model: ConfigModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


def read_config(provider_type: str, stored: dict[str, Any] | None) -> Any:
    """The settings of a stored provider (written validated, so this only fills defaults)."""
    return CONFIG_MODELS[provider_type].model_validate(stored or {})


def validate_url(url: object) -> str:
    """An ``api`` provider's endpoint: an http(s) URL."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidInput("An api provider needs the URL to poll.", field="url")
    try:
        parsed = _URL.validate_python(url.strip())
    except ValidationError:
        raise InvalidInput(f"{url.strip()[:100]!r} is not an http(s) URL.", field="url") from None
    if len(str(parsed)) > 2000:
        raise InvalidInput("The URL is longer than 2000 characters.", field="url")
    return str(parsed)


def webhook_path(provider_id: str) -> str:
    return f"{WEBHOOK_PATH}{provider_id}"
