"""The help center: articles by category and FAQs, full-text search, an article reader.

Typing in the search box searches as you type (ranked full text in PostgreSQL); an empty box
lists every article by category and the FAQs. Enter opens an article (or a FAQ's answer) in the
reader on the right. Administrators also see drafts and can publish or withdraw an article.
"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Input, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from core.services import help as help_service
from core.services.help import ArticleSummary, CategoryView, FaqView
from tui.compact import compact
from tui.screens.base import BaseScreen

SEARCH_DELAY = 0.25
WELCOME = (
    "# Help center\n\nChoose an article on the left and press **Enter** to read it, or type in "
    "the search box (`/`) to search every article and FAQ.\n\nStill stuck? Open a support "
    "ticket from the Support screen."
)


class HelpCenterScreen(BaseScreen):
    CSS_PATH = "help_center.tcss"
    LOAD_AFTER_FIRST_FRAME = True  # the index follows the first frame (the welcome shows)
    BINDINGS = [  # noqa: RUF012
        Binding("slash", "search", "Search", id="help-center.search",
                tooltip="Search articles and FAQs"),
        Binding("j", "move(1)", "Down", show=False),
        Binding("k", "move(-1)", "Up", show=False),
        Binding("p", "publish", "Publish/withdraw", id="help-center.publish",
                tooltip="Admins: publish a draft or withdraw an article"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.articles: dict[str, ArticleSummary] = {}
        self.faqs: dict[str, FaqView] = {}
        self.categories: dict[str, CategoryView] = {}

    def compose_body(self) -> ComposeResult:
        yield compact(Input(placeholder="search help (/)", id="help-search"))
        with Horizontal(id="help-body"):
            with Vertical(id="help-index"):
                yield OptionList(id="help-list")
            yield Markdown(WELCOME, id="reader")
        yield Static("", id="status", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#help-list").focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "publish":
            return self.actor.is_admin
        return True

    @work(exclusive=True, group="help-load")
    async def load(self) -> None:
        text = self.query_one("#help-search", Input).value.strip()

        async def index(session: Any, actor: Any) -> tuple[Any, ...]:
            cats = await help_service.list_categories(session, actor)
            if text:
                found = await help_service.search_help(session, actor, text)
                return cats, list(found.articles), list(found.faqs)
            return (
                cats,
                await help_service.list_articles(session, actor),
                await help_service.list_faqs(session, actor),
            )

        found = await self.service(index)
        if found is None:
            return
        cats, articles, faqs = found
        self.categories = {c.slug: c for c in cats}
        self.articles = {a.slug: a for a in articles}
        self.faqs = {f.id: f for f in faqs}
        self._show(articles, faqs, searching=bool(text))

    def _show(
        self, articles: list[ArticleSummary], faqs: list[FaqView], *, searching: bool
    ) -> None:
        options: list[Option | None] = []
        current = None
        for a in articles:
            if not searching and a.category_slug != current:
                current = a.category_slug
                name = self.categories[current].name if current in self.categories else current
                options.append(Option(heading(name), disabled=True))
            draft = "" if a.published else " (draft)"
            prompt = Content.from_markup("  $title[dim]$draft[/]", title=a.title, draft=draft)
            options.append(Option(prompt, id=f"a:{a.slug}"))
        if faqs:
            options.append(Option(heading("Frequently asked"), disabled=True))
            options.extend(Option(Content(f"  {f.question}"), id=f"f:{f.id}") for f in faqs)
        listing = self.query_one("#help-list", OptionList)
        listing.set_options(options)
        first = next((i for i, o in enumerate(options) if o is not None and not o.disabled), None)
        if first is not None:
            listing.highlighted = first
        count = len(articles) + len(faqs)
        self.say(
            f"{count} result{'s' if count != 1 else ''}" if searching
            else f"{len(articles)} articles, {len(faqs)} FAQs"
        )  # fmt: skip

    @on(Input.Changed, "#help-search")
    def _typed(self) -> None:
        self.set_timer(SEARCH_DELAY, self.load, name="help-search")

    @on(Input.Submitted, "#help-search")
    def _searched(self) -> None:
        self.query_one("#help-list").focus()

    @on(OptionList.OptionSelected, "#help-list")
    def _opened(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.open(event.option.id)

    @work(exclusive=True, group="help-read")
    async def open(self, option_id: str) -> None:
        kind, _, key = option_id.partition(":")
        reader = self.query_one("#reader", Markdown)
        if kind == "f":
            faq = self.faqs[key]
            await reader.update(f"# {faq.question}\n\n{faq.answer}")
            return
        article = await self.service(help_service.get_article, key, write=True)
        if article is None:
            return
        draft = "" if article.published else "\n\n> Draft: only administrators see it."
        tags = f"\n\n*{', '.join(article.tags)}*" if article.tags else ""
        await reader.update(f"# {article.title}{draft}{tags}\n\n{article.content}")

    def action_search(self) -> None:
        self.query_one("#help-search", Input).focus()

    def action_move(self, step: int) -> None:
        listing = self.query_one("#help-list", OptionList)
        listing.action_cursor_down() if step > 0 else listing.action_cursor_up()

    @work(exclusive=True, group="help-write")
    async def action_publish(self) -> None:
        listing = self.query_one("#help-list", OptionList)
        if listing.highlighted is None:
            return
        option_id = listing.get_option_at_index(listing.highlighted).id or ""
        if not option_id.startswith("a:"):
            return
        article = self.articles[option_id[2:]]
        done = await self.service(help_service.set_published, article.slug,
                                  not article.published, write=True, clock=self.clock)  # fmt: skip
        if done is not None:
            self.notify(f"{'Published' if done.published else 'Withdrawn'}: {done.title}")
            self.load()


def heading(name: str) -> Content:
    return Content.from_markup("[b $primary]$name[/]", name=name)
