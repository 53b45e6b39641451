"""Shared building blocks: settings, database, ids, errors, security, i18n, jobs."""
