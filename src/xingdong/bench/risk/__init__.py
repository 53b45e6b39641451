"""``xingdong bench risk``: a seeded world of honest people and fraud, replayed through the
risk engine and through a plain-threshold baseline, scored against the ground truth."""
