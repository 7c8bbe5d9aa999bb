"""Stage 4: checkers, one per module, chosen by a part's ``kind`` through ``registry``."""
