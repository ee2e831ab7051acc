"""Event-stream conformance vectors, carried over as data (bytes in, events out).

Sources (facts only, no code):

- the WHATWG HTML standard, section 9.2 "Server-sent events"
  (https://html.spec.whatwg.org/multipage/server-sent-events.html): the example streams of
  9.2.1 "Introduction" and 9.2.6 "Interpreting an event stream";
- the web-platform-tests, directory ``eventsource/`` (https://github.com/web-platform-tests/wpt):
  the ``format-*`` tests, ``event-data.html`` and the parser cases of
  ``eventsource-from-readable-stream.any.js``.  Each wpt test serves a body from a resource
  script and asserts what the browser's ``EventSource`` dispatches; the body is rebuilt here
  from the test's query string and the resource named beside each vector.

How the wpt resources frame a body:

- ``resources/message.py``: ``message + newline + "\\n"``, where ``newline`` is ``"\\n\\n"``
  unless the query says ``newline=none`` (then ``""``); the content type is ``mime``
  (default ``text/event-stream``).  The same holds for the older ``message.php``.
- ``resources/last-event-id.py``: on a first connection ``"id: " + idvalue +
  "\\nretry: 200\\ndata: hello\\n\\n"`` (``idvalue`` defaults to U+2026).
- ``resources/last-event-id2.py``: a fixed body per ``type``.
- ``resources/message2.py``: one fixed block of lines written in a loop; one turn is used.

Expected events are what a spec parser dispatches while reading the bytes, as ``(type, data,
lastEventId)`` with the spec's empty string for "no id" (r9s says ``None``; the tests compare
``event.id or ""``).  ``pending`` is r9s's documented deviation (``r9s/_core/sse.py``): at
end of input the spec discards an event not followed by a blank line; ``SSEDecoder.end()``
dispatches it instead.  So a vector's ``events`` must come out of ``feed`` alone, and
``end()`` must add exactly ``pending``.

``retry`` is the reconnection time the stream sets (the last valid ``retry`` field); r9s
reports it on the event that follows the field.

Left out, and why (see ``EXCLUDED``): the MIME-type tests (``format-mime-*``) decide whether
the browser accepts the response at all, before any parsing; the reconnection halves of the
``id`` and ``retry`` tests measure what ``EventSource`` does on reconnect (r9s never reconnects
a stream); the pre-2020 expectation of ``format-field-id-null.htm``; and the
``EventSource``-API parts of ``eventsource-from-readable-stream.any.js``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EXCLUDED", "VECTORS", "Ev", "Vector"]

#: ``(type, data, lastEventId)`` of one dispatched event.
Ev = tuple[str, str, str]


@dataclass(frozen=True)
class Vector:
    name: str
    #: Where the bytes and the expectation come from.
    source: str
    body: bytes
    #: What a spec parser dispatches (``feed`` alone must give exactly these).
    events: tuple[Ev, ...]
    #: What ``end()`` adds: the final event the spec discards (r9s's deviation).
    pending: tuple[Ev, ...] = ()
    #: The reconnection time set by the stream, if any.
    retry: int | None = None
    #: The ``Content-Type`` the test resource serves.
    content_type: str = "text/event-stream"

    def __repr__(self) -> str:  # shows in pytest ids and failures
        return f"<Vector {self.name}>"


def _message_py(message: bytes, *, newline: bytes = b"\n\n") -> bytes:
    """The body wpt's ``resources/message.py`` (and ``message.php``) serves."""
    return message + newline + b"\n"


def _last_event_id_py(idvalue: str = "\u2026") -> bytes:
    """The first-connection body of wpt's ``resources/last-event-id.py``."""
    return ("id: " + idvalue + "\nretry: 200\ndata: hello\n\n").encode()


def m(data: str, id: str = "") -> Ev:
    return ("message", data, id)


WHATWG = "WHATWG HTML, server-sent-events"
WPT = "wpt eventsource/"
RS = WPT + "eventsource-from-readable-stream.any.js"

# format-comments.js builds its message from a 2 KiB run of "x" (2*1024+1 array slots joined).
_LONG = b"x" * 2048

VECTORS: tuple[Vector, ...] = (
    # -- WHATWG HTML 9.2.1 Introduction ----------------------------------------------------
    # The examples as shown, each ended by the blank line 9.2.6's note requires.
    Vector(
        "whatwg-intro-three-messages",
        WHATWG + " 9.2.1",
        b"data: This is the first message.\n\n"
        b"data: This is the second message, it\ndata: has two lines.\n\n"
        b"data: This is the third message.\n\n",
        (
            m("This is the first message."),
            m("This is the second message, it\nhas two lines."),
            m("This is the third message."),
        ),
    ),
    Vector(
        "whatwg-intro-event-types",
        WHATWG + " 9.2.1",
        b"event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n",
        (("add", "73857293", ""), ("remove", "2153", ""), ("add", "113411", "")),
    ),
    # -- WHATWG HTML 9.2.6 Interpreting an event stream ---------------------------------------
    Vector(
        "whatwg-yhoo",
        WHATWG + " 9.2.6",
        b"data: YHOO\ndata: +2\ndata: 10\n\n",
        (m("YHOO\n+2\n10"),),
    ),
    Vector(
        "whatwg-four-blocks",
        WHATWG + " 9.2.6",
        b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n",
        (m("first event", "1"), m("second event"), m(" third event")),
    ),
    Vector(
        # "The last block is discarded because it is not followed by a blank line": feed alone
        # matches the spec; r9s's end() dispatches it (its data is the empty string).
        "whatwg-empty-data-and-discarded-last-block",
        WHATWG + " 9.2.6",
        b"data\n\ndata\ndata\n\ndata:",
        (m(""), m("\n")),
        pending=(m(""),),
    ),
    Vector(
        "whatwg-space-after-colon",
        WHATWG + " 9.2.6",
        b"data:test\n\ndata: test\n\n",
        (m("test"), m("test")),
    ),
    # -- wpt format-* -------------------------------------------------------------------------
    Vector(
        # A BOM is dropped only at the very start; a later one makes "\ufeffdata" an unknown field.
        "wpt-format-bom",
        WPT + "format-bom.js (format-bom.htm); resources/message.py",
        _message_py(b"\xef\xbb\xbfdata:1\n\n\xef\xbb\xbfdata:2\n\ndata:3"),
        (m("1"), m("3")),
    ),
    Vector(
        "wpt-format-bom-2",
        WPT + "format-bom-2.any.js (format-bom-2.htm); resources/message.py",
        _message_py(b"\xef\xbb\xbf\xef\xbb\xbfdata:1\n\ndata:2\n\ndata:3"),
        (m("2"), m("3")),
    ),
    Vector(
        "wpt-format-comments",
        WPT + "format-comments.js (format-comments.htm); resources/message.py, newline=none",
        _message_py(
            b"data:1\r:\x00\n:\r\ndata:2\n:"
            + _LONG
            + b"\rdata:3\n:data:fail\r:"
            + _LONG
            + b"\ndata:4\n",
            newline=b"",
        ),
        (m("1\n2\n3\n4"),),
    ),
    Vector(
        # The browser's second "test1" (after reconnecting) has lastEventId "": the "id:test" of
        # the unterminated block was never committed, its event was discarded.  r9s's end()
        # dispatches that block, with the id it carries.
        "wpt-format-data-before-final-empty-line",
        WPT + "format-data-before-final-empty-line.js; resources/message.py, newline=none",
        _message_py(b"retry:1000\ndata:test1\n\nid:test\ndata:test2", newline=b""),
        (m("test1"),),
        pending=(m("test2", "test"),),
        retry=1000,
    ),
    Vector(
        "wpt-format-field-data",
        WPT + "format-field-data.js (format-field-data.htm); resources/message.py",
        _message_py(b"data:\n\ndata\ndata\n\ndata:test"),
        (m(""), m("\n"), m("test")),
    ),
    Vector(
        "wpt-format-field-event",
        WPT + "format-field-event.htm; resources/message.php",
        _message_py(b"event:test\ndata:x\n\ndata:x"),
        (("test", "x", ""), m("x")),
    ),
    Vector(
        "wpt-format-field-event-empty",
        WPT + "format-field-event-empty.htm; resources/message.php",
        _message_py(b"event: \ndata:data"),
        (m("data"),),
    ),
    Vector(
        # The first connection only: the rest of these tests is the reconnection (Last-Event-ID).
        "wpt-format-field-id",
        WPT + "format-field-id.htm, format-field-id-2.any.js; resources/last-event-id.py",
        _last_event_id_py(),
        (m("hello", "\u2026"),),
        retry=200,
    ),
    *(
        Vector(
            f"wpt-format-field-id-null-{i}",
            WPT + f"format-field-id-null.window.js (idvalue {value!r}); resources/last-event-id.py",
            _last_event_id_py(value),
            (m("hello"),),  # an id holding U+0000 is ignored
            retry=200,
        )
        for i, value in enumerate(["\x00\x00", "x\x00", "\x00x", "x\x00x", " \x00"])
    ),
    Vector(
        "wpt-format-field-id-3-persists",
        WPT + "format-field-id-3.window.js; resources/last-event-id2.py?type=1",
        b"id: 1\ndata: 1\n\ndata: 2\n\nid: 2\ndata:3\n\ndata:4\n\n",
        (m("1", "1"), m("2", "1"), m("3", "2"), m("4", "2")),
    ),
    Vector(
        "wpt-format-field-id-3-resets",
        WPT + "format-field-id-3.window.js; resources/last-event-id2.py?type=2",
        b"id: 1\ndata: 1\n\nid:\ndata:2\n\ndata:3\n\n",
        (m("1", "1"), m("2"), m("3")),
    ),
    Vector(
        "wpt-format-field-id-3-resets-without-colon",
        WPT + "format-field-id-3.window.js; resources/last-event-id2.py?type=3",
        b"id: 1\ndata: 1\n\nid\ndata:2\n\ndata:3\n\n",
        (m("1", "1"), m("2"), m("3")),
    ),
    Vector(
        "wpt-format-field-id-3-changes-and-persists",
        WPT + "format-field-id-3.htm (commit b3ec19cc); resources/last-event-id2.py?type=2 there",
        b"id: 1\ndata: 1\n\nid: 2\ndata:2\n\ndata:3\n\n",
        (m("1", "1"), m("2", "2"), m("3", "2")),
    ),
    Vector(
        "wpt-format-field-parsing",
        WPT + "format-field-parsing.htm; resources/message.py, newline=none",
        _message_py(
            b"data:\x00\ndata:  2\rData:1\ndata\x00:2\ndata:1\r\x00data:4\nda-ta:3\rdata_5\n"
            b"data:3\rdata:\r\n data:32\ndata:4\n",
            newline=b"",
        ),
        (m("\x00\n 2\n1\n3\n\n4"),),
    ),
    Vector(
        # "02000" is 2000 (not octal); the reconnect timing the test measures is EventSource's.
        "wpt-format-field-retry",
        WPT + "format-field-retry.htm; resources/message.php",
        _message_py(b"retry:02000\ndata:x"),
        (m("x"),),
        retry=2000,
    ),
    Vector(
        "wpt-format-field-retry-bogus",
        WPT + "format-field-retry-bogus.htm; resources/message.php",
        _message_py(b"retry:2000\nretry:1000x\ndata:x"),
        (m("x"),),
        retry=2000,
    ),
    Vector(
        "wpt-format-field-retry-empty",
        WPT + "format-field-retry-empty.htm; resources/message.py",
        _message_py(b"retry\ndata:test"),
        (m("test"),),
    ),
    Vector(
        "wpt-format-field-unknown",
        WPT + "format-field-unknown.htm; resources/message.py",
        _message_py(
            b"data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test"
        ),
        (m("test\n\ntest"),),
    ),
    Vector(
        "wpt-format-leading-space",
        WPT + "format-leading-space.htm; resources/message.py",
        _message_py(b"data:\ttest\rdata: \ndata:test"),
        (m("\ttest\n\ntest"),),
    ),
    Vector(
        # Ends in CR, then the resource's LF: one CRLF blank line.
        "wpt-format-newlines",
        WPT + "format-newlines.htm; resources/message.py, newline=none",
        _message_py(b"data:test\r\ndata\ndata:test\r\n\r", newline=b""),
        (m("test\n\ntest"),),
    ),
    Vector(
        "wpt-format-null-character",
        WPT + "format-null-character.html; resources/message.php",
        _message_py(b"data:\x00\n\n"),
        (m("\x00"),),
    ),
    Vector(
        # The charset parameter is ignored: an event stream is always UTF-8.
        "wpt-format-utf-8",
        WPT + "format-utf-8.any.js (format-utf-8.htm); resources/message.py",
        _message_py(b"data:ok\xe2\x80\xa6"),
        (m("ok\u2026"),),
        content_type="text/event-stream;charset=windows-1252",
    ),
    Vector(
        "wpt-event-data",
        WPT + "event-data.html; resources/message2.py (one turn of its loop)",
        b"data:msg\ndata: msg\n\n:\nfalsefield:msg\n\nfalsefield:msg\nData:data\n\ndata\n\n"
        b"data:end\n\n",
        (m("msg\nmsg"), m(""), m("end")),
    ),
    # -- wpt eventsource-from-readable-stream.any.js: its parser cases ----------------------
    Vector("wpt-rs-empty-stream", RS, b"", ()),
    Vector("wpt-rs-message", RS, b"data: hello\n\n", (m("hello"),)),
    Vector("wpt-rs-multi-line", RS, b"data: hello\ndata: world\n\n", (m("hello\nworld"),)),
    Vector("wpt-rs-multiple", RS, b"data: first\n\ndata: second\n\n", (m("first"), m("second"))),
    Vector("wpt-rs-custom-type", RS, b"event: custom\ndata: hello\n\n", (("custom", "hello", ""),)),
    Vector("wpt-rs-comment", RS, b": this is a comment\ndata: hello\n\n", (m("hello"),)),
    Vector("wpt-rs-id", RS, b"id: 42\ndata: hello\n\n", (m("hello", "42"),)),
    Vector("wpt-rs-retry", RS, b"retry: 5000\ndata: hello\n\n", (m("hello"),), retry=5000),
    Vector("wpt-rs-retry-bogus", RS, b"retry: bogus\ndata: hello\n\n", (m("hello"),)),
    Vector(
        "wpt-rs-newlines",
        RS,
        b"data: cr\r\rdata: lf\n\ndata: crlf\r\n\r\n",
        (m("cr"), m("lf"), m("crlf")),
    ),
    Vector("wpt-rs-bom", RS, b"\xef\xbb\xbfdata: hello\n\n", (m("hello"),)),
    Vector(
        # Two "connections" piped into one stream: the id persists across the join.
        "wpt-rs-id-persists",
        RS,
        b"id: 42\ndata: first\n\ndata: after-reconnect\n\n",
        (m("first", "42"), m("after-reconnect", "42")),
    ),
    Vector(
        "wpt-rs-retry-persists",
        RS,
        b"retry: 3000\ndata: first\n\ndata: after-reconnect\n\n",
        (m("first"), m("after-reconnect")),
        retry=3000,
    ),
)

#: wpt tests (or parts of tests) in ``eventsource/`` that are not byte-stream parsing.
EXCLUDED: dict[str, str] = {
    "format-mime-bogus.htm": "Content-Type 'x bogus' must fail the connection before parsing: "
    "EventSource's decision, not the parser's (r9s: is_event_stream, checked separately)",
    "format-mime-valid-bogus.htm": "Content-Type text/x-bogus must fail the connection: as above",
    "format-mime-trailing-semicolon.htm": "Content-Type 'text/event-stream;' is accepted: as above",
    "format-field-id.htm / format-field-id-2.any.js (reconnections)": "the Last-Event-ID header "
    "echoed after reconnecting is EventSource's reconnection; r9s never reconnects a stream",
    "format-field-retry*.htm (timing)": "the measured reconnection delay is EventSource's; the "
    "parsed retry value is checked",
    "format-field-id-null.htm (expects '\\0\\0')": "the pre-2020 rule; superseded by "
    "format-field-id-null.window.js (an id holding U+0000 is ignored), which is carried",
    "eventsource-from-readable-stream.any.js (API cases)": "readyState, url, open/error events, "
    "locked streams, origin: the EventSource object, not the parser; its chunk-split case is "
    "covered by every split of every vector",
}
