"""The life of one call, described once for both drivers.  No I/O: times come in as arguments.

A call is a series of attempts::

    life = Lifecycle(call, hooks, log, now)
    loop:
        request, timeout = life.begin(now)         # before_request hooks; limits applied
        head = transport.send(request, timeout)
        info = life.responded(status, headers, now)  # DEBUG log line; after_response hooks
        ... read the body (or the first event of a stream), finish ...
      on an R9SError:
        delay = life.retry_or_raise(err, now, wall, rand)   # after_error hooks; INFO log
        sleep(delay)

The drivers (``r9s/_sync_driver.py``, ``r9s/_async_driver.py``) only send, read and sleep;
every decision (hooks, logs, retries, deadlines) is made here, the same for sync and async.

Limits, per call (seconds; ``None`` = none):

- ``deadline``: the whole call, wall clock: every attempt, every wait between attempts, and
  the streamed body.  No attempt starts, and no retry wait is taken (whatever ``Retry-After``
  asks), that would end past it;
- ``first_event_timeout``: from sending a streamed request to its first event (connect, head
  and any keep-alive comments included);
- ``idle_timeout``: the longest wait for the next event of a stream once events flow (bytes
  that carry no event, such as keep-alive comments, do not reset it).

A streamed call is retried like any request until its first event: the drivers read the first
event before handing the stream out, so a stream that fails before it (a timeout, a reset, an
``overloaded`` error event) is retried under the call's retry policy.  After the first event
nothing is retried (the caller has seen events); the error says whether a retry could succeed
(``err.retryable``) and how many events came before it (``err.events_received``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, NamedTuple

from r9s._core.headers import Headers
from r9s._core.request import Request, Timeout, can_resend
from r9s._core.retry import retry_delay
from r9s.errors import NoResponseError, R9SError, RequestTimeoutError
from r9s.utils.retries import RetryConfig

if TYPE_CHECKING:
    import logging

    from r9s._core.meta import ResponseInfo
    from r9s._core.operations import Call

_DEBUG = 10  # logging.DEBUG, without importing logging for every client

__all__ = [
    "AfterError",
    "AfterResponse",
    "BeforeRequest",
    "Hooks",
    "Lifecycle",
    "Limits",
    "RequestContext",
    "StreamClock",
]


class Limits(NamedTuple):
    """A call's time limits in seconds (see the module docstring); ``None`` for none."""

    deadline: float | None = None
    first_event_timeout: float | None = None
    idle_timeout: float | None = None

    @classmethod
    def checked(
        cls,
        deadline: float | None = None,
        first_event_timeout: float | None = None,
        idle_timeout: float | None = None,
    ) -> Limits | None:
        """The limits, checked (positive numbers of seconds); ``None`` when none is set.

        Raises:
            TypeError, ValueError: a limit that is not a positive number.
        """
        values = {
            "deadline": deadline,
            "first_event_timeout": first_event_timeout,
            "idle_timeout": idle_timeout,
        }
        for name, value in values.items():
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{name} must be a number of seconds, not {value!r}")
            if not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds, got {value}")
        if deadline is None and first_event_timeout is None and idle_timeout is None:
            return None
        return cls(deadline, first_event_timeout, idle_timeout)


class RequestContext:
    """One attempt of a call, as hooks see it.

    Attributes:
        operation: ``"chat.create"``, ``"completions.create"`` or ``"responses.create"``.
        attempt: 1 for the first try, 2 for the first retry, ...
        request: the request about to be sent (``method``, ``url``, ``headers``, ``body``);
            its repr hides the API key.
    """

    __slots__ = ("attempt", "operation", "request")

    def __init__(self, operation: str, attempt: int, request: Request) -> None:
        self.operation = operation
        self.attempt = attempt
        self.request = request

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def url(self) -> str:
        return self.request.url

    @property
    def stream(self) -> bool:
        return self.request.stream

    def set_header(self, name: str, value: str) -> None:
        """Add a header to this attempt's request, or replace every field of that name.

        Raises:
            ValueError: CR, LF or NUL in the name or value (header injection).
        """
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError("header names and values must be strings")
        for ch in ("\r", "\n", "\x00"):
            if ch in name or ch in value:
                raise ValueError(f"header {name!r} contains a CR, LF or NUL character")
        self.request = self.request._replace(headers=self.request.headers.merged({name: value}))

    def __repr__(self) -> str:
        return f"<RequestContext {self.operation} attempt {self.attempt} {self.request!r}>"


#: ``hook(ctx)``: runs before each attempt is sent; may call ``ctx.set_header``.
BeforeRequest = Callable[[RequestContext], object]
#: ``hook(ctx, info)``: runs when a response head arrives, whatever its status.
AfterResponse = Callable[[RequestContext, "ResponseInfo"], object]
#: ``hook(ctx, error, retry_in)``: runs after each failed attempt (``retry_in`` seconds until
#: the next one, ``None`` when the error is about to be raised) and for an error that ends a
#: stream after its first event (``retry_in`` ``None``).
AfterError = Callable[[RequestContext, R9SError, "float | None"], object]


class Hooks:
    """Callables run at each step of every call, by the sync and the async driver alike.

    Register them on the client (``R9S(hooks=Hooks(...))``, or ``client.hooks.before_request
    .append(fn)``).  Hooks are plain functions (also for async calls: keep them quick); an
    exception raised by a hook propagates out of the call.
    """

    __slots__ = ("after_error", "after_response", "before_request")

    def __init__(
        self,
        before_request: Iterable[BeforeRequest] = (),
        after_response: Iterable[AfterResponse] = (),
        after_error: Iterable[AfterError] = (),
    ) -> None:
        self.before_request: list[BeforeRequest] = list(before_request)
        self.after_response: list[AfterResponse] = list(after_response)
        self.after_error: list[AfterError] = list(after_error)

    def __bool__(self) -> bool:
        return bool(self.before_request or self.after_response or self.after_error)

    def __repr__(self) -> str:
        return (
            f"Hooks(before_request={len(self.before_request)}, "
            f"after_response={len(self.after_response)}, after_error={len(self.after_error)})"
        )


_NO_HOOKS = Hooks()


def _is_limit_error(err: BaseException) -> bool:
    return getattr(err, "_r9s_limit", False) is True


def _cap(value: float | None, cap: float) -> float:
    return cap if value is None or value > cap else value


def _secs(value: float) -> str:
    return f"{value:g} s"


class StreamClock:
    """When the next read of a body must give up, under a call's limits.

    ``read_timeout`` is called before each read; it returns the seconds that read may wait
    (the transport's own read timeout when no limit is nearer) or raises the limit's
    ``RequestTimeoutError`` when one has passed.  ``explain`` turns a transport's read
    timeout into the limit's error when that limit was the one that ran out.
    """

    __slots__ = ("deadline", "deadline_at", "first_at", "first_event_timeout", "idle", "read")

    def __init__(self, limits: Limits, start: float, sent: float, read: float | None) -> None:
        """
        Args:
            limits: the call's limits.
            start: when the call began (monotonic seconds), for the deadline.
            sent: when this attempt's request was sent, for ``first_event_timeout``.
            read: the transport's read timeout (seconds between bytes), or ``None``.
        """
        self.deadline = limits.deadline
        self.deadline_at = None if limits.deadline is None else start + limits.deadline
        self.first_event_timeout = limits.first_event_timeout
        self.first_at = (
            None if limits.first_event_timeout is None else sent + (limits.first_event_timeout)
        )
        self.idle = limits.idle_timeout
        self.read = read

    def expired(self, now: float, waiting_since: float, events: int) -> RequestTimeoutError | None:
        """The error of the first limit that has passed, or ``None``."""
        if self.deadline_at is not None and now >= self.deadline_at:
            message = f"the call's deadline of {_secs(self.deadline or 0)} passed"
        elif events == 0:
            if self.first_at is None or now < self.first_at:
                return None
            message = f"no event within first_event_timeout {_secs(self.first_event_timeout or 0)}"
        elif self.idle is not None and now >= waiting_since + self.idle:
            message = f"no event for {_secs(self.idle)} (idle_timeout)"
        else:
            return None
        err = RequestTimeoutError(f"{message} after {events} events" if events else message)
        err.events_received = events
        err._r9s_limit = True  # type: ignore[attr-defined]
        return err

    def read_timeout(self, now: float, waiting_since: float, events: int) -> float | None:
        """Seconds the next read may wait.

        Args:
            now: the monotonic clock.
            waiting_since: when the reader began waiting for the next event (the idle timer
                runs from there, so a slow consumer never makes the stream look idle).
            events: events received so far.

        Raises:
            RequestTimeoutError: a limit has already passed.
        """
        err = self.expired(now, waiting_since, events)
        if err is not None:
            raise err
        wait = self.read
        if self.deadline_at is not None:
            wait = _cap(wait, self.deadline_at - now)
        if events == 0:
            if self.first_at is not None:
                wait = _cap(wait, self.first_at - now)
        elif self.idle is not None:
            wait = _cap(wait, waiting_since + self.idle - now)
        return wait

    def explain(
        self, err: BaseException, now: float, waiting_since: float, events: int
    ) -> BaseException:
        """The limit's error if ``err`` is a read timeout that a limit caused, else ``err``."""
        if not isinstance(err, RequestTimeoutError) or _is_limit_error(err):
            return err
        # A read capped at exactly the limit may wake a hair early: allow for clock grain.
        limit_err = self.expired(now + 0.002, waiting_since, events)
        if limit_err is None:
            return err
        limit_err.__cause__ = err
        return limit_err


class Lifecycle:
    """One call's attempts: hooks, logs, limits and the retry decision (see the module doc)."""

    __slots__ = (
        "_ctx",
        "_log",
        "_sent",
        "_start",
        "attempt",
        "call_retry",
        "hooks",
        "limits",
        "operation",
        "request",
        "stream",
        "timeout",
    )

    def __init__(
        self,
        *,
        operation: str,
        request: Request,
        timeout: Timeout,
        retry: RetryConfig | None,
        limits: Limits | None,
        hooks: Hooks | None,
        log: logging.Logger,
        now: float,
    ) -> None:
        self.operation = operation
        self.request = request
        self.stream = request.stream
        self.timeout = timeout
        self.call_retry = retry
        self.limits = limits
        self.hooks = hooks if hooks is not None else _NO_HOOKS
        self._log = log
        self._start = now
        self._sent = now
        self.attempt = 0
        self._ctx: RequestContext | None = None

    @classmethod
    def of(cls, call: Call, hooks: Hooks | None, log: logging.Logger, now: float) -> Lifecycle:
        """The lifecycle of a prepared call (``r9s._core.operations.Call``)."""
        return cls(
            operation=call.op.name,
            request=call.request,
            timeout=call.timeout,
            retry=call.retry,
            limits=call.limits,
            hooks=hooks,
            log=log,
            now=now,
        )

    @property
    def context(self) -> RequestContext:
        ctx = self._ctx
        if ctx is None:  # an error before the first attempt began
            ctx = self._ctx = RequestContext(self.operation, max(self.attempt, 1), self.request)
        return ctx

    def begin(self, now: float) -> tuple[Request, Timeout]:
        """Start the next attempt: its request (after the hooks) and its timeouts.

        Raises:
            RequestTimeoutError: the deadline has passed (no attempt may start).
        """
        self.attempt += 1
        limits = self.limits
        timeout = self.timeout
        if limits is not None:
            cap: float | None = None
            if limits.deadline is not None:
                cap = self._start + limits.deadline - now
                if cap <= 0:
                    raise RequestTimeoutError(
                        f"the call's deadline of {_secs(limits.deadline)} passed before "
                        f"attempt {self.attempt} could start"
                    )
            if self.stream and limits.first_event_timeout is not None:
                cap = _cap(cap, limits.first_event_timeout)
            if cap is not None:
                timeout = Timeout(
                    _cap(timeout.connect, cap),
                    _cap(timeout.read, cap),
                    _cap(timeout.write, cap),
                    _cap(timeout.pool, cap),
                )
        ctx = self._ctx = RequestContext(self.operation, self.attempt, self.request)
        for hook in self.hooks.before_request:
            hook(ctx)
        self._sent = now
        return ctx.request, timeout

    def clock(self, read: float | None = None) -> StreamClock | None:
        """The clock the body reader consults, or ``None`` when the call has no limits.

        Args:
            read: the transport's read timeout (default: the call's).
        """
        limits = self.limits
        if limits is None:
            return None
        if not self.stream:  # only the deadline bounds a plain body
            if limits.deadline is None:
                return None
            limits = Limits(limits.deadline)
        return StreamClock(
            limits, self._start, self._sent, self.timeout.read if read is None else read
        )

    def responded(self, status: int, hdrs: Headers, now: float) -> ResponseInfo:
        """A response head arrived: log it, run the ``after_response`` hooks."""
        from r9s._core.meta import ResponseInfo  # not needed to build a client: loaded here

        info = ResponseInfo(status, hdrs, elapsed=now - self._sent, attempt=self.attempt)
        log = self._log
        if log.isEnabledFor(_DEBUG):
            req = self.context.request
            log.debug(
                "%s %s -> %d in %.1f ms (attempt %d, request id %s)",
                req.method,
                req.url,
                status,
                info.elapsed * 1000,
                self.attempt,
                hdrs.get("x-request-id"),
            )
        if self.hooks.after_response:
            ctx = self.context
            for hook in self.hooks.after_response:
                hook(ctx, info)
        return info

    def retry_or_raise(self, err: R9SError, now: float, wall: float, rand: float) -> float:
        """Seconds to wait before the next attempt; raises the error when there is none.

        A read timeout the deadline caused is raised as the deadline's error.  No wait is
        taken that would end past the deadline, whatever ``Retry-After`` asked.

        Raises:
            R9SError: ``err`` (or the deadline's error) when the call is over.
        """
        limits = self.limits
        clock = self.clock()
        if clock is not None:
            explained = clock.explain(err, now, self._sent, 0)
            if explained is not err and isinstance(explained, R9SError):
                explained.events_received = 0 if self.stream else None
                err = explained
        delay = retry_delay(
            self.call_retry,
            err,
            attempt=self.attempt,
            elapsed=now - self._start,
            now=wall,
            rand=rand,
        )
        log = self._log
        if delay is not None and not can_resend(self.context.request.body):
            # A streamed body that cannot be rewound (a pipe, a generator) went out once.
            why = (
                f"not retried: the request body (a stream that cannot be rewound) could not "
                f"be sent again for attempt {self.attempt + 1}"
            )
            err.add_note(why)
            log.info("%s: %s", self.operation, why)
            delay = None
        if (
            delay is not None
            and limits is not None
            and limits.deadline is not None
            and now + delay >= self._start + limits.deadline
        ):
            # Say why a retryable error was raised at once (a note: ``str(err)`` is unchanged).
            left = max(0.0, self._start + limits.deadline - now)
            why = (
                f"not retried: the wait of {delay:.2f} s before attempt {self.attempt + 1} "
                f"would end past the call's deadline of {_secs(limits.deadline)} "
                f"({left:.2f} s left)"
            )
            err.add_note(why)
            log.info("%s: %s", self.operation, why)
            delay = None
        if err.status_code is None and log.isEnabledFor(_DEBUG):
            req = self.context.request
            log.debug(
                "%s %s failed in %.1f ms (attempt %d): %s",
                req.method,
                req.url,
                (now - self._sent) * 1000,
                self.attempt,
                type(err).__name__,
            )
        self.failed(err, delay)
        if delay is None:
            raise err
        log.info(
            "%s: retrying in %.2f s after attempt %d failed: %s",
            self.operation,
            delay,
            self.attempt,
            type(err).__name__,
        )
        return delay

    def failed(self, err: R9SError, retry_in: float | None) -> None:
        """Run the ``after_error`` hooks (also called by a stream that fails mid-way)."""
        if self.hooks.after_error:
            ctx = self.context
            for hook in self.hooks.after_error:
                hook(ctx, err, retry_in)


def no_response(err: BaseException, request: Request) -> NoResponseError:
    """The error for an ``OSError`` a user-supplied transport did not translate."""
    exc = NoResponseError(f"{request.method} {request.url} failed: {err!r}")
    exc.__cause__ = err
    return exc
