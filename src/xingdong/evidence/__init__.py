"""Evidence: uploaded proof (screenshots, short videos), checked, stored and hashed."""
