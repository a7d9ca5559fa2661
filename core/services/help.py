"""The help center: categories, articles and FAQs, with full-text search.

Anyone signed in reads published articles; admins also see drafts and can publish or withdraw
them. Search uses PostgreSQL full text (English stemming) over title, tags and content, ranked,
with a substring match on titles and tags so short words and product terms are found too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import SYSTEM_CLOCK, Clock
from core.db.models.support import FAQ, HelpArticle, HelpCategory
from core.errors import InvalidInput, NotFound
from core.services.actor import Actor, recheck, require_admin
from core.services.audit import audit

QUERY_MAX = 200


@dataclass(frozen=True, slots=True)
class CategoryView:
    id: str
    slug: str
    name: str
    description: str | None
    icon: str | None
    articles: int


@dataclass(frozen=True, slots=True)
class ArticleSummary:
    slug: str
    title: str
    category_slug: str
    tags: tuple[str, ...]
    published: bool


@dataclass(frozen=True, slots=True)
class Article(ArticleSummary):
    content: str
    views: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class FaqView:
    id: str
    question: str
    answer: str
    category_id: str | None


@dataclass(frozen=True, slots=True)
class SearchResults:
    articles: tuple[ArticleSummary, ...]
    faqs: tuple[FaqView, ...]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def _visible(session: AsyncSession, actor: Actor) -> ColumnElement[bool]:
    """Drafts are seen by administrators (as the database has the actor's role now)."""
    admin = (await recheck(session, actor)).is_admin
    return true() if admin else HelpArticle.published.is_(True)


def _summary(row: HelpArticle, category_slug: str) -> ArticleSummary:
    return ArticleSummary(row.slug, row.title, category_slug, tuple(row.tags), row.published)


async def list_categories(session: AsyncSession, actor: Actor) -> list[CategoryView]:
    count = (
        select(func.count(HelpArticle.id))
        .where(HelpArticle.category_id == HelpCategory.id, await _visible(session, actor))
        .scalar_subquery()
    )
    rows = await session.execute(
        select(HelpCategory, count).order_by(HelpCategory.order, HelpCategory.name)
    )
    return [
        CategoryView(c.id, c.slug, c.name, c.description, c.icon, int(n)) for c, n in rows.all()
    ]


async def list_articles(
    session: AsyncSession, actor: Actor, *, category: str | None = None
) -> list[ArticleSummary]:
    stmt = (
        select(HelpArticle, HelpCategory.slug)
        .join(HelpCategory, HelpCategory.id == HelpArticle.category_id)
        .where(await _visible(session, actor))
        .order_by(HelpCategory.order, HelpArticle.title)
    )
    if category is not None:
        stmt = stmt.where(HelpCategory.slug == category)
    return [_summary(a, slug) for a, slug in (await session.execute(stmt)).all()]


async def get_article(session: AsyncSession, actor: Actor, slug: str) -> Article:
    """Read an article (counts a view)."""
    found = (
        await session.execute(
            select(HelpArticle, HelpCategory.slug)
            .join(HelpCategory, HelpCategory.id == HelpArticle.category_id)
            .where(HelpArticle.slug == slug, await _visible(session, actor))
        )
    ).first()
    if found is None:
        raise NotFound(f"No help article {slug!r}.")
    row, category_slug = found
    views = await session.scalar(
        update(HelpArticle)
        .where(HelpArticle.id == row.id)
        .values(views=HelpArticle.views + 1, updated_at=HelpArticle.updated_at)
        .returning(HelpArticle.views)
    )
    return Article(
        row.slug, row.title, category_slug, tuple(row.tags), row.published,
        row.content, int(views or 0), row.updated_at,
    )  # fmt: skip


async def list_faqs(
    session: AsyncSession, actor: Actor, *, category: str | None = None
) -> list[FaqView]:
    stmt = select(FAQ).order_by(FAQ.order, FAQ.question)
    if category is not None:
        ids = select(HelpCategory.id).where(HelpCategory.slug == category).scalar_subquery()
        stmt = stmt.where(FAQ.category_id == ids)
    return [FaqView(f.id, f.question, f.answer, f.category_id) for f in await session.scalars(stmt)]


async def search_help(
    session: AsyncSession, actor: Actor, query: str, *, limit: int = 20
) -> SearchResults:
    text = (query or "").strip()
    if not text:
        raise InvalidInput("Type something to search for.", field="query")
    if len(text) > QUERY_MAX:
        raise InvalidInput(f"A search is at most {QUERY_MAX} characters.", field="query")
    if not 1 <= limit <= 100:
        raise InvalidInput("limit must be between 1 and 100.", field="limit")
    tsq = func.websearch_to_tsquery("english", text)
    like = "%" + _escape_like(text) + "%"

    doc = func.to_tsvector(
        "english",
        HelpArticle.title
        + " "
        + func.array_to_string(HelpArticle.tags, " ")
        + " "
        + HelpArticle.content,
    )
    rank = func.ts_rank(doc, tsq)
    articles = await session.execute(
        select(HelpArticle, HelpCategory.slug)
        .join(HelpCategory, HelpCategory.id == HelpArticle.category_id)
        .where(
            await _visible(session, actor),
            or_(
                doc.op("@@")(tsq),
                HelpArticle.title.ilike(like),
                func.array_to_string(HelpArticle.tags, " ").ilike(like),
            ),
        )
        .order_by(rank.desc(), HelpArticle.title)
        .limit(limit)
    )
    faq_doc = func.to_tsvector("english", FAQ.question + " " + FAQ.answer)
    faqs = await session.scalars(
        select(FAQ)
        .where(or_(faq_doc.op("@@")(tsq), FAQ.question.ilike(like)))
        .order_by(func.ts_rank(faq_doc, tsq).desc(), FAQ.order)
        .limit(limit)
    )
    return SearchResults(
        articles=tuple(_summary(a, slug) for a, slug in articles.all()),
        faqs=tuple(FaqView(f.id, f.question, f.answer, f.category_id) for f in faqs),
    )


async def set_published(
    session: AsyncSession, actor: Actor, slug: str, published: bool, *, clock: Clock = SYSTEM_CLOCK
) -> ArticleSummary:
    """Admins: publish or withdraw an article."""
    actor = await require_admin(session, actor)
    found = (
        await session.execute(
            select(HelpArticle, HelpCategory.slug)
            .join(HelpCategory, HelpCategory.id == HelpArticle.category_id)
            .where(HelpArticle.slug == slug)
        )
    ).first()
    if found is None:
        raise NotFound(f"No help article {slug!r}.")
    row, category_slug = found
    row.published = published
    await session.flush()
    await audit(
        session,
        user_id=actor.user_id,
        action="help_article_published" if published else "help_article_withdrawn",
        at=clock.now(),
        ip_address=actor.ip_address,
        details={"slug": slug},
    )
    return _summary(row, category_slug)
