"""A deterministic simulated market: the default price source for the demo, paper bots and tests.

The price of every symbol is a pure function of ``(seed, origin, symbol, time)``, so two markets
built with the same seed agree to the last digit whatever order they are queried in, and a test
that moves a ``FrozenClock`` sees exactly the prices it saw last run.

Model, per symbol:

- **days**: a Markov chain of regimes (calm, normal, volatile, bull, bear) sets each day's
  volatility and drift; the day's log return is drawn from it. This chain is the only sequential
  part and is cheap (one draw per day), so any date is reachable at once.
- **ticks** (every ``TICK_SECONDS``): a random walk inside the day, pinned to the day's open and
  the next day's open (a Brownian bridge), with an intraday activity curve and hourly wobble.
  Small caps sometimes **pump**: a fast rise of 15-80 % with a volume burst, then a slide back
  by the end of the day.
- prices and volumes are integers of the pair's price tick and quantity step, so candles of
  every timeframe are exact aggregates of the same ticks (a 1d bar's high is the highest tick
  of the day, its volume the exact sum of its 1h bars' volumes, and the last bar's close is the
  ticker's last price).

Floats appear only inside the random model; everything leaving this module is Decimal.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from core.clock import SYSTEM_CLOCK, Clock
from core.errors import InvalidInput
from core.market.feed import MAX_CANDLES
from core.market.types import Candle, MarketInfo, Ticker, Timeframe

TICK_SECONDS = 5
TICKS_PER_DAY = 86_400 // TICK_SECONDS
DEFAULT_ORIGIN = datetime(2024, 1, 1, tzinfo=UTC)
DEFAULT_SEED = 20_240_101
_BLOCK_DAYS = 64
_DAY_CACHE = 48  # day arrays kept per market (~280 KB each)


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    symbol: str
    start_price: float
    daily_vol: float  # standard deviation of a normal day's log return
    price_precision: int
    quantity_precision: int
    min_quantity: Decimal
    daily_volume: float  # typical base volume traded per day
    spread_bps: float
    pump_chance: float = 0.0  # chance per day of a pump-and-dump

    @property
    def base(self) -> str:
        return self.symbol.split("/")[0]

    @property
    def quote(self) -> str:
        return self.symbol.split("/")[1]


DEFAULT_SYMBOLS: tuple[SymbolSpec, ...] = (
    SymbolSpec("BTC/USDT", 65_000.0, 0.028, 2, 5, Decimal("0.00001"), 22_000, 0.5),
    SymbolSpec("ETH/USDT", 3_200.0, 0.036, 2, 4, Decimal("0.0001"), 350_000, 0.8),
    SymbolSpec("SOL/USDT", 150.0, 0.050, 2, 3, Decimal("0.001"), 3_000_000, 1.2),
    SymbolSpec("BNB/USDT", 580.0, 0.030, 2, 3, Decimal("0.001"), 400_000, 1.0),
    SymbolSpec("PEPE/USDT", 0.0000105, 0.085, 8, 0, Decimal("1000"), 4.0e12, 6.0, 0.12),
    SymbolSpec("WIF/USDT", 2.5, 0.080, 4, 2, Decimal("0.1"), 60_000_000, 5.0, 0.10),
    SymbolSpec("BONK/USDT", 0.000025, 0.090, 8, 0, Decimal("1000"), 9.0e12, 7.0, 0.14),
)

# Regimes: (volatility multiplier, drift in daily sigmas). Calm markets drift nowhere, bulls up.
_REGIMES = ((0.55, 0.0), (1.0, 0.0), (1.9, 0.0), (1.0, 0.35), (1.25, -0.35))
_REGIME_STAY = 0.88
# A weak daily pull of the log price back toward the start price (half-life ~ 3 months), so
# years of simulated history stay in a believable band instead of wandering off to zero.
_REVERSION = 0.008

# Busier in the European/US afternoon, quiet in the Asian night (normalised: mean square = 1).
_HOURS = np.arange(24)
_ACTIVITY = 1.0 + 0.35 * np.cos(2 * np.pi * (_HOURS - 15) / 24)
_ACTIVITY = _ACTIVITY / np.sqrt(np.mean(_ACTIVITY**2))


@dataclass
class _Day:
    price: np.ndarray  # int64 price ticks, one per TICK_SECONDS
    volume: np.ndarray  # int64 quantity steps traded during each tick
    _sums: tuple[np.ndarray, ...] | None = None

    def sums(self) -> tuple[np.ndarray, ...]:
        """Running highs, lows, volumes and price x volume from the start of the day and from
        its end (made once), so a ticker's trailing 24 hours cost a few lookups."""
        if self._sums is None:
            p, v = self.price, self.volume
            self._sums = (
                np.maximum.accumulate(p),
                np.minimum.accumulate(p),
                np.cumsum(v),
                np.cumsum(p * v),
                np.maximum.accumulate(p[::-1])[::-1],
                np.minimum.accumulate(p[::-1])[::-1],
            )
        return self._sums


@dataclass
class SimulatedMarket:
    """The simulated exchange: implements ``MarketFeed``. Time comes from the injected clock."""

    seed: int = DEFAULT_SEED
    clock: Clock = SYSTEM_CLOCK
    origin: datetime = DEFAULT_ORIGIN
    symbols: Sequence[SymbolSpec] = DEFAULT_SYMBOLS
    name: str = "simulated"
    api_url: str = "simulated://local"
    maker_fee: Decimal = Decimal("0.001")
    taker_fee: Decimal = Decimal("0.001")
    _specs: dict[str, tuple[int, SymbolSpec]] = field(init=False, repr=False)
    _levels: dict[int, list[float]] = field(init=False, repr=False)
    _regimes: dict[int, list[int]] = field(init=False, repr=False)
    _days: OrderedDict[tuple[int, int], _Day] = field(init=False, repr=False)
    _daily: dict[tuple[int, int], tuple[int, int, int, int, int]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.origin.tzinfo is None:
            raise ValueError("origin must be timezone-aware")
        self.origin = self.origin.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self._specs = {spec.symbol: (index, spec) for index, spec in enumerate(self.symbols)}
        self._levels = {}
        self._regimes = {}
        self._days = OrderedDict()
        self._daily = {}

    # -- MarketFeed ---------------------------------------------------------------------------

    async def markets(self) -> list[MarketInfo]:
        return [self.info(spec.symbol) for spec in self.symbols]

    async def ticker(self, symbol: str) -> Ticker:
        return self.ticker_at(symbol, self.clock.now())

    async def tickers(self, symbols: Sequence[str]) -> dict[str, Ticker]:
        now = self.clock.now()
        return {symbol: self.ticker_at(symbol, now) for symbol in symbols}

    async def ohlcv(
        self,
        symbol: str,
        timeframe: Timeframe,
        *,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[Candle]:
        return self.candles(symbol, timeframe, since=since, limit=limit, now=self.clock.now())

    async def close(self) -> None:
        self._days.clear()

    # -- synchronous API (cheap; used by the async one and by tests) ---------------------------

    def info(self, symbol: str) -> MarketInfo:
        _, spec = self._spec(symbol)
        return MarketInfo(
            symbol=spec.symbol,
            base=spec.base,
            quote=spec.quote,
            price_precision=spec.price_precision,
            quantity_precision=spec.quantity_precision,
            min_quantity=spec.min_quantity,
            max_quantity=None,
            maker_fee=self.maker_fee,
            taker_fee=self.taker_fee,
        )

    def price_at(self, symbol: str, when: datetime) -> Decimal:
        index, spec = self._spec(symbol)
        day, tick = self._position(when)
        return self._price(spec, int(self._day(index, day).price[tick]))

    def ticker_at(self, symbol: str, when: datetime) -> Ticker:
        index, spec = self._spec(symbol)
        day, tick = self._position(when)
        today = self._day(index, day)
        last = int(today.price[tick])
        # The trailing 24 hours: the end of yesterday plus today up to now.
        high, low, volume, quote, _, _ = (int(a[tick]) for a in today.sums())
        first = int(today.price[0])
        if day > 0 and tick + 1 < TICKS_PER_DAY:
            yesterday = self._day(index, day - 1)
            _, _, y_volume, y_quote, y_after_high, y_after_low = yesterday.sums()
            high = max(high, int(y_after_high[tick + 1]))
            low = min(low, int(y_after_low[tick + 1]))
            volume += int(y_volume[-1] - y_volume[tick])
            quote += int(y_quote[-1] - y_quote[tick])
            first = int(yesterday.price[tick + 1])
        half_spread = max(1, round(last * spec.spread_bps / 20_000))
        step = Decimal(1).scaleb(-spec.quantity_precision)
        tick_size = Decimal(1).scaleb(-spec.price_precision)
        return Ticker(
            symbol=spec.symbol,
            timestamp=self._tick_time(day, tick),
            last=self._price(spec, last),
            bid=self._price(spec, max(1, last - half_spread)),
            ask=self._price(spec, last + half_spread),
            high_24h=self._price(spec, high),
            low_24h=self._price(spec, low),
            open_24h=self._price(spec, first),
            volume_24h=volume * step,
            # Rounded to the price tick: an indication, not a ledger amount.
            quote_volume_24h=(Decimal(quote) * step * tick_size).quantize(tick_size),
        )

    def candles(
        self,
        symbol: str,
        timeframe: Timeframe,
        *,
        since: datetime | None = None,
        limit: int = 100,
        now: datetime,
    ) -> list[Candle]:
        index, spec = self._spec(symbol)
        if not 1 <= limit <= MAX_CANDLES:
            raise InvalidInput(f"limit must be between 1 and {MAX_CANDLES}.", field="limit")
        width = timeframe.seconds
        now_s = self._seconds(now)
        current = now_s - now_s % width
        if since is None:
            first = current - (limit - 1) * width
        else:
            since_s = self._seconds(since, clamp=True)
            first = since_s - since_s % width
            if since_s % width:
                first += width  # like exchanges: the first bar opening at or after ``since``
        first = max(first, 0)
        out: list[Candle] = []
        start = first
        per_bar = width // TICK_SECONDS
        while start <= current and len(out) < limit:
            day = start // 86_400
            if width == 86_400 and start < current:
                out.append(self._daily_candle(index, spec, day))
                start += width
                continue
            arrays = self._day(index, day)
            day_start = day * 86_400
            # All bars of this day within range, at once.
            day_end = min(day_start + 86_400, current + width)
            bars = (day_end - start) // width
            bars = min(bars, limit - len(out))
            lo = (start - day_start) // TICK_SECONDS
            for bar in range(bars):
                a = lo + bar * per_bar
                b = a + per_bar
                bar_start = start + bar * width
                if bar_start == current:
                    b = min(b, (now_s - day_start) // TICK_SECONDS + 1)
                p = arrays.price[a:b]
                out.append(
                    Candle(
                        timestamp=self.origin + timedelta(seconds=bar_start),
                        open=self._price(spec, int(p[0])),
                        high=self._price(spec, int(p.max())),
                        low=self._price(spec, int(p.min())),
                        close=self._price(spec, int(p[-1])),
                        volume=int(arrays.volume[a:b].sum())
                        * Decimal(1).scaleb(-spec.quantity_precision),
                    )
                )
            start += bars * width
        return out

    def _daily_candle(self, index: int, spec: SymbolSpec, day: int) -> Candle:
        """A finished day's bar, kept so long daily charts don't regenerate every tick."""
        key = (index, day)
        bar = self._daily.get(key)
        if bar is None:
            arrays = self._day(index, day)
            p = arrays.price
            bar = (int(p[0]), int(p.max()), int(p.min()), int(p[-1]), int(arrays.volume.sum()))
            self._daily[key] = bar
        o, h, low, c, v = bar
        return Candle(
            timestamp=self.origin + timedelta(days=day),
            open=self._price(spec, o),
            high=self._price(spec, h),
            low=self._price(spec, low),
            close=self._price(spec, c),
            volume=v * Decimal(1).scaleb(-spec.quantity_precision),
        )

    # -- the model ----------------------------------------------------------------------------

    def _spec(self, symbol: str) -> tuple[int, SymbolSpec]:
        try:
            return self._specs[symbol]
        except KeyError:
            raise InvalidInput(
                f"The simulated market has no pair {symbol!r}.", field="symbol"
            ) from None

    def _seconds(self, when: datetime, *, clamp: bool = False) -> int:
        if when.tzinfo is None:
            raise ValueError("times must be timezone-aware")
        seconds = math.floor((when - self.origin).total_seconds())
        if seconds < 0:
            if clamp:
                return 0
            raise InvalidInput(
                f"The simulated market starts at {self.origin:%Y-%m-%d}; {when:%Y-%m-%d %H:%M} is before it.",
                field="time",
            )
        return seconds

    def _position(self, when: datetime) -> tuple[int, int]:
        seconds = self._seconds(when)
        return seconds // 86_400, (seconds % 86_400) // TICK_SECONDS

    def _tick_time(self, day: int, tick: int) -> datetime:
        return self.origin + timedelta(days=day, seconds=tick * TICK_SECONDS)

    @staticmethod
    def _price(spec: SymbolSpec, units: int) -> Decimal:
        return Decimal(units).scaleb(-spec.price_precision)

    def _rng(self, *key: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence([self.seed, *key]))

    def _level(self, index: int, spec: SymbolSpec, day: int) -> tuple[float, int]:
        """The log price at the open of ``day`` and that day's regime."""
        levels = self._levels.setdefault(index, [math.log(spec.start_price)])
        regimes = self._regimes.setdefault(index, [])
        while len(regimes) <= day:
            block = len(regimes) // _BLOCK_DAYS
            rng = self._rng(index, 0, block)
            state = regimes[-1] if regimes else 1
            for _ in range(_BLOCK_DAYS):
                if rng.random() > _REGIME_STAY:
                    state = int(rng.integers(len(_REGIMES)))
                vol_mult, drift = _REGIMES[state]
                sigma = spec.daily_vol * vol_mult
                pull = _REVERSION * (levels[-1] - levels[0])
                step = drift * spec.daily_vol - pull + sigma * rng.standard_normal()
                regimes.append(state)
                levels.append(levels[-1] + step)
        return levels[day], regimes[day]

    def _day(self, index: int, day: int) -> _Day:
        key = (index, day)
        cached = self._days.get(key)
        if cached is not None:
            self._days.move_to_end(key)
            return cached
        spec = self.symbols[index]
        start, regime = self._level(index, spec, day)
        end, _ = self._level(index, spec, day + 1)
        rng = self._rng(index, 1, day)
        n = TICKS_PER_DAY
        vol_mult = _REGIMES[regime][0]
        hourly = np.exp(rng.normal(0.0, 0.25, 24))
        hourly /= np.sqrt(np.mean(hourly**2))
        sigma = np.repeat(_ACTIVITY * hourly, n // 24) * (spec.daily_vol * vol_mult / math.sqrt(n))
        shocks = rng.standard_normal(n)
        walk = np.concatenate(([0.0], np.cumsum(sigma * shocks)))
        frac = np.arange(n + 1) / n
        log_price = start + walk - frac * walk[-1] + frac * (end - start)
        activity = sigma / sigma.mean()
        if spec.pump_chance and rng.random() < spec.pump_chance:
            bump = self._pump(rng, n)
            log_price[:n] += bump
            activity = activity * (1.0 + 12.0 * bump / max(bump.max(), 1e-12))
        tick = 10.0**-spec.price_precision
        price = np.maximum(np.rint(np.exp(log_price[:n]) / tick), 1).astype(np.int64)
        step = 10.0**-spec.quantity_precision
        noise = rng.lognormal(0.0, 0.35, n) * (0.4 + np.abs(shocks))
        volume = spec.daily_volume / n * vol_mult * activity * noise
        volume_units = np.floor(volume / step).astype(np.int64)
        arrays = _Day(price=price, volume=volume_units)
        self._days[key] = arrays
        if len(self._days) > _DAY_CACHE:
            self._days.popitem(last=False)
        return arrays

    @staticmethod
    def _pump(rng: np.random.Generator, n: int) -> np.ndarray:
        """A pump-and-dump in log price: quadratic rise, exponential slide, gone by midnight."""
        start = int(rng.integers(0, int(n * 0.7)))
        rise = int(rng.integers(20 * 60, 90 * 60) // TICK_SECONDS)
        gain = math.log1p(rng.uniform(0.15, 0.8))
        decay = rng.uniform(3_600, 4 * 3_600) / TICK_SECONDS
        i = np.arange(n, dtype=np.float64)
        up = np.clip((i - start) / rise, 0.0, 1.0) ** 2
        after = np.clip(i - start - rise, 0.0, None)
        peak_end = start + rise
        taper = np.clip((n - i) / max(n - peak_end, 1), 0.0, 1.0)
        return gain * up * np.exp(-after / decay) * np.where(i < peak_end, 1.0, taper)


@dataclass
class AcceleratedClock:
    """Market time that runs ``speed`` times faster than the wall clock, from ``start``.

    The demo uses it to show a day of trading in minutes; tests use ``FrozenClock`` instead.
    """

    speed: float = 60.0
    start: datetime = field(default_factory=lambda: datetime.now(UTC))
    wall: Clock = SYSTEM_CLOCK
    _wall_start: datetime = field(init=False)

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError("speed must be positive")
        self._wall_start = self.wall.now()

    def now(self) -> datetime:
        return self.start + (self.wall.now() - self._wall_start) * self.speed
