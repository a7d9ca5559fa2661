"""The help center's categories, articles and FAQs about using BlockbotX.

Seeding upserts by slug (articles, categories) and by question (FAQs), so content shipped with a
new release replaces the old text while view counts are kept.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models.support import FAQ, HelpArticle, HelpCategory

CATEGORIES: tuple[tuple[str, str, str, str], ...] = (
    # slug, name, description, icon
    (
        "getting-started",
        "Getting started",
        "Install, first start, finding your way around.",
        "rocket",
    ),
    ("bots", "Bots and strategies", "Creating, running and backtesting trading bots.", "robot"),
    (
        "security",
        "Account and security",
        "Passwords, two-factor authentication, exchange keys.",
        "lock",
    ),
    ("notifications", "Notifications", "Channels, quiet hours and digests.", "bell"),
    ("defi", "DeFi wallets", "Wallets, staking, farms and liquidity positions.", "wallet"),
    ("privacy", "Privacy and data", "Privacy settings and exporting your data.", "shield"),
    ("support", "Getting help", "Support tickets and what to include in them.", "lifebuoy"),
)

ARTICLES: tuple[tuple[str, str, str, tuple[str, ...], str], ...] = (
    # slug, category slug, title, tags, content
    (
        "first-start",
        "getting-started",
        "Your first start",
        ("install", "start", "database", "login"),
        """Run `blockbotx` in a terminal. Without `DATABASE_URL` BlockbotX starts its own embedded
PostgreSQL in your user data directory and applies the database migrations, telling you so.
The first account you register becomes the superadmin of this installation.

To use an existing PostgreSQL server set `DATABASE_URL` (for example
`postgresql://user:password@host/blockbotx`) and run `blockbotx db upgrade` once.

`blockbotx doctor` checks the database, the migrations and the secret vault and tells you what
is wrong in one line each. `blockbotx demo` creates a demo account with paper bots on the
simulated market, which is the quickest way to look around without any exchange keys.""",
    ),
    (
        "keyboard",
        "getting-started",
        "Finding your way with the keyboard",
        ("keys", "keyboard", "vim", "palette", "filter"),
        """Everything in the dashboard works from the keyboard. Every screen shows its keys in the
footer. Lists move with the arrow keys or the vim keys `j` and `k`; `g` and `G` jump to the
top and the bottom; `/` filters the list you are looking at.

Every action is also in the command palette: press `ctrl+p` and type a few letters of what
you want to do. The dashboard is usable in an 80×24 terminal and over a slow SSH connection,
and honours `NO_COLOR`.""",
    ),
    (
        "paper-bot",
        "bots",
        "Running your first paper bot",
        ("bot", "paper", "simulated", "engine"),
        """Paper bots trade against simulated fills, so you can try a strategy without risking
money. Create a bot, pick its type and trading pair, keep "paper trading" on and start it.

Bots are run by the bot engine. When no engine process is running, the dashboard runs one
itself while it is open; on a server run `blockbotx engine` so bots keep trading after you
close the dashboard. Several engines can share one database: each bot is worked on by one
engine at a time.

Every trade, position change and bot status change appears on open dashboards as it happens,
and the bot's alerts arrive as notifications (see "Notification channels").""",
    ),
    (
        "backtesting",
        "bots",
        "Backtesting a strategy on history",
        ("backtest", "history", "csv", "ohlcv"),
        """The backtester runs the same strategy code as live bots over historical candles.
Import candles with `blockbotx data import FILE --symbol SYM --timeframe TF`: the CSV needs a
date or datetime column first, then open, high, low, close and volume. A bad row is reported
with its line number and nothing is imported.

Then run `blockbotx backtest` (or use the Backtests screen) and compare total return, maximum
drawdown, win rate and the other figures before you let a bot trade for real.""",
    ),
    (
        "exchange-keys",
        "security",
        "Connecting an exchange safely",
        ("exchange", "api key", "secret", "vault", "testnet"),
        """Create an API key on your exchange with trading permission only: never enable
withdrawals for a trading bot. Restrict the key to your server's IP address if the exchange
allows it. Try the exchange's testnet first where there is one.

BlockbotX encrypts exchange keys at rest with AES-256-GCM under a master key kept in your
system keyring (or in `BLOCKBOTX_MASTER_KEY`, or a key file readable only by you). Keys are
decrypted only for the moment of an exchange call, are never shown unmasked and are never
included in a data export. `blockbotx vault rotate` re-encrypts every secret under a new
master key.""",
    ),
    (
        "two-factor",
        "security",
        "Two-factor authentication",
        ("2fa", "totp", "authenticator", "backup codes"),
        """Turn on two-factor authentication in your account settings. BlockbotX shows a QR code
right in the terminal (and the secret as text) for your authenticator app; 2FA is switched on
only after you enter a correct code. Keep the ten backup codes somewhere safe: each works
once, and they are shown only once.

You will get a security notification whenever 2FA is enabled, your password changes, your
account is locked after failed sign-ins or you sign in from a new device. These security
notifications can't be switched off in-app.""",
    ),
    (
        "notification-channels",
        "notifications",
        "Notification channels",
        ("email", "telegram", "discord", "push", "sms", "channels"),
        """Notifications always appear in the dashboard. You can also receive them by email,
Telegram and Discord; choose per channel which kinds (bot alerts, trades, payments, support)
you want in your notification preferences.

Email needs the operator to configure an SMTP server (`smtp_host` and friends in the
configuration). Telegram needs the installation's bot token and your chat id: start a
conversation with the bot, then enter your numeric chat id. For Discord, create a webhook in
your server's channel settings (Integrations → Webhooks) and paste its URL; it is stored
encrypted. "Critical only" limits Telegram or Discord to CRITICAL alerts.

Push and SMS are not available yet: if you switch them on, their notifications are recorded
as undeliverable with the reason, until a provider is configured.""",
    ),
    (
        "quiet-hours-digest",
        "notifications",
        "Quiet hours and digests",
        ("quiet hours", "digest", "timezone", "batch"),
        """Quiet hours hold email, Telegram and Discord messages between two hours of your day (for
example 22 to 7), in the time zone of your profile. Held messages go out when the quiet hours
end. CRITICAL notifications are always sent at once.

Digest mode collects messages and sends one summary per channel: every hour (at the top of the
hour) or every day (at 09:00 your time). The dashboard's notification list is never delayed.""",
    ),
    (
        "defi-wallets",
        "defi",
        "Tracking DeFi wallets and positions",
        ("wallet", "ethereum", "bsc", "polygon", "staking", "liquidity", "impermanent loss"),
        """Add a wallet by its address on Ethereum, BNB Smart Chain or Polygon. Addresses are
checked against their EIP-55 checksum, so a mistyped mixed-case address is refused.

Record staking, farming and liquidity positions on the wallet. BlockbotX values them at
current token prices, accrues rewards from the APY over time, and shows impermanent loss for
liquidity in constant-product pools: how much less the position is worth than simply holding
the tokens you deposited (20 % when one token's price has changed 4× against the other).
Managed wallets keep their private key encrypted in the vault; it is never shown again.""",
    ),
    (
        "export-data",
        "privacy",
        "Exporting your data",
        ("export", "gdpr", "csv", "json", "download"),
        """Request an export of your trades, bots, settings, profile or everything from the privacy
settings. BlockbotX writes a zip of CSV files (one per table) or a JSON file into your data
directory and shows where. Exports expire after seven days.

Exports never contain secrets: no password hashes, 2FA secrets or backup codes, exchange or
wallet keys, API key hashes, session tokens or webhook URLs.""",
    ),
    (
        "support-tickets",
        "support",
        "Opening a support ticket",
        ("ticket", "support", "help", "contact"),
        """Open a ticket with a subject, a category (technical, billing or general), a priority and
your first message. You are notified whenever support replies or changes the ticket's status,
and you can reply until the ticket is closed.

For bot problems include the bot's name, the pair, the time it happened and the message the
bot showed. Never paste API keys, passwords or 2FA codes into a ticket: support will never ask
for them.""",
    ),
)

FAQS: tuple[tuple[str, str, str], ...] = (
    # category slug, question, answer
    ("getting-started", "Do I need my own PostgreSQL server?", "No. Without DATABASE_URL BlockbotX starts an embedded PostgreSQL in your user data directory. Set DATABASE_URL to use your own server."),
    ("getting-started", "Can I use BlockbotX over SSH?", "Yes. It is a terminal application designed for 80×24 terminals and slow links; `blockbotx serve` also serves it to a browser."),
    ("bots", "Do paper bots use real money?", "No. Paper bots fill orders against simulated prices and never touch an exchange account."),
    ("bots", "Will my bots stop when I close the dashboard?", "Only if the dashboard was running the engine itself. Run `blockbotx engine` on a server to keep bots running around the clock."),
    ("security", "Where are my exchange keys stored?", "In the database, encrypted with AES-256-GCM under a master key kept in your keyring, BLOCKBOTX_MASTER_KEY or a private key file."),
    ("security", "I lost my authenticator. How do I sign in?", "Use one of your backup codes in place of the 2FA code; each works once."),
    ("notifications", "Why didn't I get an SMS?", "SMS and push notifications are not available yet; they are recorded as undeliverable until a provider is configured."),
    ("notifications", "Can I turn off security notifications?", "Not in the dashboard: new-device, password, 2FA and lockout notices always appear there. Other channels follow your settings."),
    ("defi", "Which chains are supported for wallets?", "Ethereum, BNB Smart Chain (bsc) and Polygon."),
    ("privacy", "What does a data export contain?", "Your profile, settings, bots, trades and other records you chose, as CSV files in a zip or as JSON, without any secrets."),
    ("support", "How fast will support answer?", "Urgent tickets are looked at first. You get a notification as soon as support replies."),
)  # fmt: skip


async def seed_help_center(session: AsyncSession) -> None:
    for order, (slug, name, description, icon) in enumerate(CATEGORIES):
        stmt = insert(HelpCategory).values(
            slug=slug, name=name, description=description, icon=icon, order=order
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["slug"],
                set_={"name": name, "description": description, "icon": icon, "order": order},
            )
        )
    ids = dict((await session.execute(select(HelpCategory.slug, HelpCategory.id))).all())
    for slug, category, title, tags, content in ARTICLES:
        values = {
            "title": title,
            "content": content,
            "category_id": ids[category],
            "tags": list(tags),
            "published": True,
        }
        await session.execute(
            insert(HelpArticle)
            .values(slug=slug, **values)
            .on_conflict_do_update(index_elements=["slug"], set_=values)
        )
    known = dict((await session.execute(select(FAQ.question, FAQ.id))).all())
    for order, (category, question, answer) in enumerate(FAQS):
        if question in known:
            row = await session.get(FAQ, known[question])
            assert row is not None
            row.answer, row.category_id, row.order = answer, ids[category], order
        else:
            session.add(
                FAQ(question=question, answer=answer, category_id=ids[category], order=order)
            )
    await session.flush()
