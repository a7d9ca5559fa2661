"""A notification's type said in words, the one place for every screen and message that shows
it: ``Bot paused`` (not ``Bot stopped``), ``Bot resumed`` (not ``Bot started``), ``Two-factor
authentication enabled`` (not ``Two fa enabled``)."""

from __future__ import annotations

from core.db.models.notifications import NotificationType

# Types whose name doesn't read as words.
WORDS = {
    NotificationType.TWO_FA_ENABLED.value: "Two-factor authentication enabled",
}
# A bot's lifecycle types carry what happened in their metadata's ``action``: pausing is a
# BOT_STOPPED, resuming a BOT_STARTED, and the words must say which.
BOT_ACTIONS = {
    "started": "Bot started",
    "resumed": "Bot resumed",
    "paused": "Bot paused",
    "daily_loss_limit": "Bot paused",
    "stopped": "Bot stopped",
}


def type_words(type_: str, action: object = None) -> str:
    """``BOT_STOPPED`` (action ``paused``) → ``Bot paused``; ``TWO_FA_ENABLED`` →
    ``Two-factor authentication enabled``; others from their name (``Stop loss hit``)."""
    type_ = str(type_)
    if type_.startswith("BOT_") and isinstance(action, str) and action in BOT_ACTIONS:
        return BOT_ACTIONS[action]
    return WORDS.get(type_, type_.replace("_", " ").capitalize())


def type_choices() -> list[tuple[str, str]]:
    """(words, type) for every type, as a filter offers them."""
    return [(type_words(t.value), t.value) for t in NotificationType]
