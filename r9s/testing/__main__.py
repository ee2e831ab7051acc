"""``python -m r9s.testing``: run the local test server until SIGINT or SIGTERM.

Why: the README demo and benchmarks against other clients need the server as a process.
"""

from __future__ import annotations

from r9s.testing._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
