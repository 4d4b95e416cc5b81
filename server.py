"""Entry points for servers run by hand, configured from the KOUIKI_* environment.

`app` is the WSGI app, for any WSGI server; `asgi` is what `kouiki-kg serve` runs: the same app
behind gunicorn's asyncio worker, each request read whole before a thread sees it (serving.py).
Production: `gunicorn -c python:kouiki_kg.serving … server:asgi` (see the README).
"""

from kouiki_kg.app import create_app
from kouiki_kg.serving import REQUEST_THREADS, asgi_app

app = create_app()
asgi = asgi_app(app, REQUEST_THREADS)
