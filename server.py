"""WSGI entry point: `app` for a production server.

The HTTP surfaces (SPARQL endpoint, linked-data pages, validation) arrive with the next
issues; until then the app answers /health from the built store.
"""

from kouiki_kg.app import create_app

app = create_app()
