"""WSGI entry point: `flask --app run ...`, `gunicorn run:app`."""
from app import create_app

app = create_app()
