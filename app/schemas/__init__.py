"""marshmallow schemas: what the API accepts and what it answers."""
