"""WSGI entry point: `app` for any WSGI server, configured from the KOUIKI_* environment.

`kouiki-kg serve` runs the same app under gunicorn in the documented production setting; to
run gunicorn yourself, see the README (`gunicorn -c python:kouiki_kg.serving … server:app`).
"""

from kouiki_kg.app import create_app

app = create_app()
