"""People, organisations, memberships, auth, bound platform accounts and consents."""
