"""Pure helpers with no Flask or database dependency."""
