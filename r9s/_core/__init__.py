"""The sans-IO protocol core of r9s.

Rule: nothing in this package performs I/O or imports a socket, ssl, urllib, http.client, h11 or
anyio module.  Everything that decides something -- which parameters go on the wire, where an
event ends, whether an answer is an error and of which class, whether and how long to wait
before a retry -- lives here, written once, and is tested by feeding bytes.  The drivers
(``r9s._sync_driver`` and ``r9s._async_driver``) only loop: send, feed, decide, sleep.
"""
