"""The gradebook: every graded submission, every part's result and every decision a person made."""
