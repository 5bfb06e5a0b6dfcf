"""Renderers: turn Result records into text. No arithmetic happens here."""
