"""The work itself: claims, evidence submissions, reviews, holds, retention and disputes."""
