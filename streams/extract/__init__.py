"""Per-sentence extractors: sentences, numbers, casualties, dates, weapons, actors, places."""
